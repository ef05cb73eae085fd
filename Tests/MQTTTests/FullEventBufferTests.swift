import Logging
import MQTT
import Synchronization
import Testing
import TestSupport

/// A full event buffer (4096 events nobody consumed yet) drops new messages and counts them; it
/// never blocks libmosquitto's thread. (The gateway does not use this buffer: its events go
/// straight into its own stream, see `InboundAdmissionTests`.)
@Suite struct FullEventBufferTests {
    @Test func fullEventBuffer_dropsAndCounts_andDeliversWhatItHolds() async throws {
        let broker = try await MosquittoBroker()
        var configuration = TestClient.configuration(port: broker.port)
        configuration.subscriptions = [MQTTSubscription(filter: "k/#", qos: .atLeastOnce)]
        let device = try MQTTClient(configuration: configuration, logger: Logger(label: "full-buffer-test"))
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

        // What the buffer holds is still delivered once consumed.
        var consumed = 0
        for await event in device.events {
            guard case .message(let message) = event, message.payloadText.hasPrefix("m") else { continue }
            consumed += 1
            if consumed == 100 { break }
        }
        #expect(consumed == 100)
        await device.stop()
        await sender.stop()
        await broker.stop()
    }
}
