import MQTT
import Testing
import TestSupport

@Suite struct OfflineQueueTests {
    @Test func publishWhileOffline_keepsLatestPerKeyAndBoundsTheRest_thenSendsInOrderOnConnect() async throws {
        let broker = try await MosquittoBroker()
        let observer = try TestClient(port: broker.port, subscriptions: ["q/#"])
        #expect(await observer.waitForSubscription(probeTopic: "q/probe"))
        // Not started yet: the device is offline.
        let device = try TestClient(port: broker.port, start: false) { $0.outgoingQueueLimit = 4 }

        for version in 1...3 {
            device.publish(
                MQTTMessage(topic: "q/state", text: "state-\(version)", qos: .atLeastOnce),
                queueing: .latestWins(key: "s"))
        }
        for index in 1...5 {
            device.publish(MQTTMessage(topic: "q/event", text: "event-\(index)", qos: .atLeastOnce), queueing: .bounded)
        }
        for index in 1...2 {
            device.publish(MQTTMessage(topic: "q/tele", text: "tele-\(index)"), queueing: .dropWhenOffline)
        }
        let offline = device.client.statistics
        #expect(offline.queued == 4, "one state plus three events fill the limit of 4")
        #expect(offline.dropped == 4, "two events beyond the limit plus two telemetry samples")

        device.client.start()
        #expect(await device.waitForConnection())
        #expect(await observer.waitForMessage(topic: "q/state")?.payloadText == "state-3")
        for index in 1...3 {
            #expect(await observer.waitForMessage(topic: "q/event")?.payloadText == "event-\(index)")
        }
        // A sentinel sent after the queue proves nothing else from the queue is still on its way.
        device.publish(MQTTMessage(topic: "q/sentinel", text: "end", qos: .atLeastOnce))
        #expect(await observer.waitForMessage(topic: "q/sentinel") != nil)
        #expect(observer.messages(topic: "q/state").isEmpty)
        #expect(observer.messages(topic: "q/event").isEmpty)
        #expect(observer.messages(topic: "q/tele").isEmpty)
        #expect(device.client.statistics.queued == 0)

        await device.stop()
        await observer.stop()
        await broker.stop()
    }

    @Test func brokerGone_publishesAreQueuedByPolicy_andDeliveredAfterItReturns() async throws {
        let broker = try await MosquittoBroker()
        let device = try TestClient(port: broker.port)
        #expect(await device.waitForConnection())
        await broker.stop()
        #expect(await TestClient.poll(timeout: .seconds(30)) { !device.client.statistics.isConnected })

        device.publish(
            MQTTMessage(topic: "gone/state", text: "a", qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "s"))
        device.publish(
            MQTTMessage(topic: "gone/state", text: "b", qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "s"))
        device.publish(MQTTMessage(topic: "gone/tele", text: "t"), queueing: .dropWhenOffline)
        #expect(device.client.statistics.queued == 1)
        #expect(device.client.statistics.dropped == 1)

        try await broker.start()
        #expect(await device.waitForConnection(count: 2))
        let observer = try TestClient(port: broker.port, subscriptions: ["gone/#"])
        #expect(await observer.waitForMessage(topic: "gone/state")?.payloadText == "b")

        await device.stop()
        await observer.stop()
        await broker.stop()
    }
}

@Suite struct StopTests {
    @Test func cleanStop_publishesFinalMessages_andTheWillDoesNotFire() async throws {
        let broker = try await MosquittoBroker()
        let observer = try TestClient(port: broker.port, subscriptions: ["stop/#"])
        #expect(await observer.waitForSubscription(probeTopic: "stop/probe"))
        let device = try TestClient(port: broker.port, clientID: "stopping-device") {
            $0.will = MQTTMessage(topic: "stop/status", text: "connection_lost", qos: .atLeastOnce, retain: true)
            $0.birth = [MQTTMessage(topic: "stop/status", text: "online", qos: .atLeastOnce, retain: true)]
        }
        #expect(await observer.waitForMessage(topic: "stop/status") { $0.payloadText == "online" } != nil)

        await device.stop(finalMessages: [
            MQTTMessage(topic: "stop/status", text: "shutdown", qos: .atLeastOnce, retain: true)
        ])

        #expect(await observer.waitForMessage(topic: "stop/status") { $0.payloadText == "shutdown" } != nil)
        // Once the broker has logged the clean DISCONNECT it has discarded the will; a round trip
        // through the broker after that shows no will was published.
        #expect(
            await TestClient.poll(timeout: .seconds(30)) {
                broker.log.contains("Client stopping-device disconnected.")
            },
            "broker log:\n\(broker.log)")
        #expect(await observer.waitForSubscription(probeTopic: "stop/probe"))
        #expect(
            observer.messages(topic: "stop/status").isEmpty,
            "the will fired: \(observer.messages(topic: "stop/status"))")
        let late = try TestClient(port: broker.port, subscriptions: ["stop/status"])
        #expect(await late.waitForMessage(topic: "stop/status")?.payloadText == "shutdown")

        #expect(device.client.statistics.isConnected == false)
        device.publish(MQTTMessage(topic: "stop/after", text: "x"))
        #expect(device.client.statistics.dropped == 1, "publishing after stop is counted as dropped")

        await late.stop()
        await observer.stop()
        await broker.stop()
    }

    @Test func stop_whileTheBrokerIsUnreachable_returnsAndFinishesTheEventStream() async throws {
        let client = try MQTTClient(
            configuration: TestClient.configuration(port: MosquittoBroker.freePort()),
            logger: LogRecorder().logger(label: "test"))
        client.start()
        #expect(await TestClient.poll(timeout: .seconds(30)) { client.statistics.failedConnects >= 1 })
        await client.stop(finalMessages: [MQTTMessage(topic: "x/status", text: "shutdown", qos: .atLeastOnce)])
        var events: [MQTTEvent] = []
        for await event in client.events { events.append(event) }
        #expect(events.isEmpty)
        #expect(client.statistics.dropped == 1)
    }
}
