import Foundation
import Testing
import TestSupport

@testable import MQTT

@Suite struct ReconnectTests {
    /// A device-like client: retained birth and will on `<base>/status`, a command subscription.
    private func device(port: Int, base: String) throws -> TestClient {
        try TestClient(port: port, subscriptions: ["\(base)/cmd"]) {
            $0.will = MQTTMessage(topic: "\(base)/status", text: "offline", qos: .atLeastOnce, retain: true)
            $0.birth = [MQTTMessage(topic: "\(base)/status", text: "online", qos: .atLeastOnce, retain: true)]
        }
    }

    @Test func brokerRestartedThreeTimes_clientReconnectsRepublishesBirthAndResubscribes() async throws {
        let broker = try await MosquittoBroker()
        let device = try self.device(port: broker.port, base: "dev1")
        let observer = try TestClient(port: broker.port, subscriptions: ["dev1/#"])
        #expect(await observer.waitForSubscription(probeTopic: "dev1/probe"))
        #expect(await observer.waitForMessage(topic: "dev1/status") { $0.payloadText == "online" } != nil)

        for round in 1...3 {
            await broker.stop()
            observer.clearMessages()
            try await broker.start()

            #expect(await device.waitForConnection(count: round + 1), "round \(round): device did not reconnect")
            #expect(await observer.waitForConnection(count: round + 1), "round \(round): observer did not reconnect")
            #expect(await observer.waitForSubscription(probeTopic: "dev1/probe"))
            // The broker keeps nothing across restarts (no persistence): this status is the new birth.
            let birth = await observer.waitForMessage(topic: "dev1/status") { $0.payloadText == "online" }
            #expect(birth != nil, "round \(round): birth not republished")

            #expect(await device.waitForSubscription(probeTopic: "dev1/cmd"), "round \(round): not resubscribed")
            observer.publish(topic: "dev1/cmd", text: "hello-\(round)")
            let command = await device.waitForMessage(topic: "dev1/cmd") { $0.payloadText == "hello-\(round)" }
            #expect(command != nil, "round \(round): command not delivered after resubscribe")
        }
        let statistics = device.client.statistics
        #expect(statistics.connects == 4)
        #expect(statistics.reconnects == 3)
        #expect(statistics.isConnected)

        await device.stop()
        await observer.stop()
        await broker.stop()
    }

    @Test func linkLost_brokerPublishesWill_thenClientReconnectsAndRepublishesBirth() async throws {
        let broker = try await MosquittoBroker()
        let observer = try TestClient(port: broker.port, subscriptions: ["dev2/#"])
        #expect(await observer.waitForSubscription(probeTopic: "dev2/probe"))
        let device = try self.device(port: broker.port, base: "dev2")
        #expect(await observer.waitForMessage(topic: "dev2/status") { $0.payloadText == "online" } != nil)

        device.client.dropConnectionForTesting()

        let will = await observer.waitForMessage(topic: "dev2/status") { $0.payloadText == "offline" }
        #expect(will != nil, "the will was not published; broker log:\n\(broker.log)")
        #expect(await device.waitForConnection(count: 2))
        #expect(await observer.waitForMessage(topic: "dev2/status") { $0.payloadText == "online" } != nil)

        await device.stop()
        await observer.stop()
        await broker.stop()
    }

    @Test func brokerAbsentAtStartUp_clientKeepsRetryingAndConnectsOnceItAppears() async throws {
        let port = MosquittoBroker.freePort()
        let device = try TestClient(port: port, subscriptions: ["late/cmd"])
        device.client.publish(
            MQTTMessage(topic: "late/state", text: "s1", qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "state"))
        device.client.publish(
            MQTTMessage(topic: "late/state", text: "s2", qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "state"))
        // It keeps retrying (not only the first attempts) while nothing listens.
        #expect(await TestClient.poll(timeout: .seconds(60)) { device.client.statistics.failedConnects >= 5 })
        let failedBeforeBroker = device.client.statistics
        #expect(failedBeforeBroker.connects == 0)
        #expect(failedBeforeBroker.queued == 1)
        #expect(failedBeforeBroker.lastError?.contains("\(port)") == true)
        #expect(
            device.logs.lines.contains { $0.hasPrefix("error") && $0.contains("connect to 127.0.0.1:\(port) failed") })

        let broker = try await MosquittoBroker(port: port)
        #expect(await device.waitForConnection(timeout: .seconds(30)))
        let observer = try TestClient(port: port, subscriptions: ["late/#"])
        let state = await observer.waitForMessage(topic: "late/state")
        #expect(state?.payloadText == "s2", "latest-wins must deliver only the newest state")
        #expect(device.client.statistics.queued == 0)

        #expect(await device.waitForSubscription(probeTopic: "late/cmd"))
        await device.stop()
        await observer.stop()
        await broker.stop()
    }

    @Test(arguments: [MQTTProtocolVersion.v5, .v311])
    func commandSentWhileOffline_isNotReplayedOnReconnect_becauseSessionsStartClean(
        version: MQTTProtocolVersion
    ) async throws {
        let broker = try await MosquittoBroker()
        let first = try TestClient(
            port: broker.port, clientID: "clean-\(version)", subscriptions: ["cs/cmd"], protocolVersion: version)
        #expect(await first.waitForSubscription(probeTopic: "cs/cmd"))
        await first.stop()

        let commander = try TestClient(port: broker.port)
        #expect(await commander.waitForConnection())
        await commander.stop(finalMessages: [MQTTMessage(topic: "cs/cmd", text: "stale", qos: .atLeastOnce)])

        let second = try TestClient(
            port: broker.port, clientID: "clean-\(version)", subscriptions: ["cs/cmd"], protocolVersion: version)
        // A kept session would deliver the stale command right after CONNACK, before this probe.
        #expect(await second.waitForSubscription(probeTopic: "cs/cmd"))
        #expect(second.messages(topic: "cs/cmd").isEmpty, "stale command replayed: \(second.messages(topic: "cs/cmd"))")

        await second.stop()
        await broker.stop()
    }
}
