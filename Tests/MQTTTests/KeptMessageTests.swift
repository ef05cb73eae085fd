import Logging
import MQTT
import Synchronization
import Testing
import TestSupport

/// A full event buffer (4096 events nobody consumed yet) drops new messages, but never one the
/// client was told to keep (the gateway's `stop`): that one is handed out in its place, after every
/// event enqueued before it.
@Suite struct KeptMessageTests {
    @Test func fullEventBuffer_keepsTheMarkedMessage_inItsPlace() async throws {
        let broker = try await MosquittoBroker()
        var configuration = TestClient.configuration(port: broker.port)
        configuration.subscriptions = [MQTTSubscription(filter: "k/#", qos: .atLeastOnce)]
        // The predicate runs for every message arriving at a full buffer, in arrival order: it also
        // tells the test when the probe sent behind the stop has arrived (so the stop has too).
        let probeArrived = Atomic<Bool>(false)
        let device = try MQTTClient(
            configuration: configuration, logger: Logger(label: "kept-test"),
            keepWhenBufferFull: { message in
                if message.payloadText == "probe" { probeArrived.store(true, ordering: .relaxed) }
                return message.payloadText == "stop"
            })
        device.start()
        let sender = try TestClient(port: broker.port)
        #expect(await sender.waitForConnection())

        // Nothing consumes `device.events` until the flood has overflowed the buffer. A loaded machine
        // (or the broker) may lose some of a flood, so it comes in rounds until one overflows.
        var flooded = false
        var round = 0
        while !flooded, round < 10 {
            round += 1
            for index in 0..<5000 {
                sender.publish(MQTTMessage(topic: "k/cmd", text: "m\(round)-\(index)", qos: .atMostOnce))
            }
            for _ in 0..<60 where !flooded {
                try await Task.sleep(for: .milliseconds(50))
                flooded = device.statistics.droppedIncoming > 0
            }
        }
        #expect(flooded, "the flood never filled the event buffer")
        // Send the stop and a probe behind it: once the probe has reached the full buffer, the stop has
        // too (same publisher, in order), however long the rest of the flood takes to arrive.
        sender.publish(MQTTMessage(topic: "k/cmd", text: "stop", qos: .atLeastOnce))
        sender.publish(MQTTMessage(topic: "k/cmd", text: "probe", qos: .atLeastOnce))
        #expect(await TestClient.poll(timeout: .seconds(60)) { probeArrived.load(ordering: .relaxed) })

        var consumed = 0
        var keptStop = false
        for await event in device.events {
            consumed += 1
            if case .message(let message) = event, message.payloadText == "stop" {
                print("stop via the stream after \(consumed) events, dropped \(device.statistics.droppedIncoming)")
                break
            }
            if device.takeKeptMessages(consumedEvents: consumed).contains(where: { $0.payloadText == "stop" }) {
                keptStop = true
                break
            }
        }
        #expect(keptStop, "the stop was dropped or not kept aside")
        await device.stop()
        await sender.stop()
        await broker.stop()
    }
}
