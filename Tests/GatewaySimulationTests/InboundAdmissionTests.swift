@testable import Gateway
import GatewayProtocol
import MQTT
import Testing

/// MQTT events reach the loop straight from libmosquitto's thread through `GatewayService.admit`:
/// a flood past the backlog is shed there, counted, and a `stop` on a command topic is never shed.
@Suite struct InboundAdmissionTests {
    let topics = Topics(prefix: "rlt", deviceID: "p1", groups: ["ward"])

    /// Admits `events` and returns those that reached the loop's stream, in order.
    func admitted(_ events: [MQTTEvent], backlog: InboundBacklog) async -> [MQTTEvent] {
        let (stream, continuation) = AsyncStream.makeStream(of: GatewayInput.self)
        for event in events { GatewayService.admit(event, backlog: backlog, topics: self.topics, into: continuation) }
        continuation.finish()
        var passed: [MQTTEvent] = []
        for await input in stream {
            if case .mqtt(let event) = input { passed.append(event) }
        }
        return passed
    }

    func message(_ topic: String, _ text: String) -> MQTTEvent {
        .message(MQTTMessage(topic: topic, text: text, qos: .atLeastOnce))
    }

    @Test func fullBacklog_shedsOtherMessages_butNeverAStopOnACommandTopic() async {
        let backlog = InboundBacklog()
        let flood = (0..<InboundBacklog.limit).map { self.message(self.topics.command, #"{"id":"g\#($0)","cmd":"get"}"#) }
        #expect(await self.admitted(flood, backlog: backlog).count == InboundBacklog.limit)
        let late = [
            self.message(self.topics.command, #"{"id":"late","cmd":"get"}"#),
            self.message(self.topics.command, #"{"id":"s1","cmd":"stop"}"#),
            self.message(self.topics.fleetAll, #"{"id":"s2","cmd":"stop"}"#),
            self.message(self.topics.fleetGroup("ward"), #"{"id":"s3","cmd":"stop"}"#),
            self.message(self.topics.homeAssistantStatus, "online"),
            .connected,
        ]
        let passed = await self.admitted(late, backlog: backlog)
        let texts = passed.compactMap { if case .message(let m) = $0 { m.payloadText } else { nil } }
        #expect(texts == [#"{"id":"s1","cmd":"stop"}"#, #"{"id":"s2","cmd":"stop"}"#, #"{"id":"s3","cmd":"stop"}"#])
        #expect(passed.count == 4, "connection changes are not messages and always pass")
        #expect(backlog.takeDropped() == 2, "the late get and the HA status were shed and counted")
        #expect(backlog.totalDropped == 2, "diag's count keeps what the flood warning has taken")
        _ = await self.admitted([self.message(self.topics.command, #"{"id":"x","cmd":"get"}"#)], backlog: backlog)
        #expect(backlog.takeDropped() == 1)
        #expect(backlog.totalDropped == 3)
    }

    @Test func handledMessages_makeRoomAgain() async {
        let backlog = InboundBacklog()
        let flood = (0..<InboundBacklog.limit).map { self.message(self.topics.command, #"{"id":"g\#($0)","cmd":"get"}"#) }
        _ = await self.admitted(flood, backlog: backlog)
        backlog.handled()
        let passed = await self.admitted([self.message(self.topics.command, #"{"id":"next","cmd":"get"}"#)], backlog: backlog)
        #expect(passed.count == 1)
        #expect(backlog.takeDropped() == 0)
    }
}
