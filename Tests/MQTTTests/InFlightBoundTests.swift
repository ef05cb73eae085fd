import MQTT
import Testing
import TestSupport

/// While connected, droppable messages are shed once libmosquitto holds too many unsent ones, so
/// a command flood cannot grow the gateway's memory through its answers; other messages still go.
@Suite struct InFlightBoundTests {
    @Test func floodOfDroppableMessages_isShedPastTheLimit_butBoundedOnesStillArrive() async throws {
        let broker = try await MosquittoBroker()
        let observer = try TestClient(port: broker.port, subscriptions: ["f/#"])
        #expect(await observer.waitForSubscription(probeTopic: "f/probe"))
        let device = try TestClient(port: broker.port) { $0.inFlightDropLimit = 64 }
        #expect(await device.waitForConnection())

        let droppedBefore = device.client.statistics.dropped
        for index in 0..<50_000 {
            device.publish(MQTTMessage(topic: "f/res", text: "r\(index)", qos: .atLeastOnce), queueing: .dropWhenOffline)
        }
        device.publish(MQTTMessage(topic: "f/event", text: "kept", qos: .atLeastOnce), queueing: .bounded)

        #expect(device.client.statistics.dropped > droppedBefore, "nothing was shed: the bound is not enforced")
        #expect(await observer.waitForMessage(topic: "f/event", timeout: .seconds(30))?.payloadText == "kept")
        // After the flood drains, droppable messages flow again: one of these gets through once the
        // backlog is below the limit (each try waits for its own message before the next is sent).
        var flowsAgain = false
        for attempt in 0..<60 where !flowsAgain {
            device.publish(
                MQTTMessage(topic: "f/after", text: "after-\(attempt)", qos: .atLeastOnce), queueing: .dropWhenOffline)
            flowsAgain = await observer.waitForMessage(topic: "f/after", timeout: .seconds(1)) != nil
        }
        #expect(flowsAgain, "droppable messages never flowed again after the flood")

        await device.stop()
        await observer.stop()
        await broker.stop()
    }
}
