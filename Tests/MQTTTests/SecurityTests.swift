import MQTT
import Testing
import TestSupport

@Suite struct TLSTests {
    @Test func mutualTLS_withTheRightCA_connectsAndRoundTrips() async throws {
        let certificates = try await TestCertificates()
        let broker = try await MosquittoBroker(
            options: .init(tls: certificates.brokerTLS(requireCertificate: true)))
        let client = try TestClient(port: broker.port, subscriptions: ["tls/#"]) {
            $0.tls = MQTTTLS(
                caFile: certificates.caFile, certFile: certificates.clientCertFile,
                keyFile: certificates.clientKeyFile)
        }
        #expect(await client.waitForConnection(), "broker log:\n\(broker.log)\nclient log:\n\(client.logs.lines)")
        #expect(await client.waitForSubscription(probeTopic: "tls/echo"))

        await client.stop()
        await broker.stop()
    }

    @Test func tls_withAnUnrelatedCA_failsClearlyAndKeepsRetrying() async throws {
        let certificates = try await TestCertificates()
        let broker = try await MosquittoBroker(
            options: .init(tls: certificates.brokerTLS(requireCertificate: true)))
        let client = try TestClient(port: broker.port) {
            $0.tls = MQTTTLS(
                caFile: certificates.otherCAFile, certFile: certificates.clientCertFile,
                keyFile: certificates.clientKeyFile)
        }
        #expect(await TestClient.poll(timeout: .seconds(30)) { client.client.statistics.failedConnects >= 3 })
        let statistics = client.client.statistics
        #expect(statistics.connects == 0)
        #expect(statistics.connectAttempts >= 3)
        let lastError = statistics.lastError ?? ""
        #expect(lastError.contains("certificate verify failed"), "lastError: \(lastError)")
        #expect(
            client.logs.lines.contains {
                $0.hasPrefix("error") && $0.contains("failed") && $0.contains("certificate verify failed")
            }, "logs: \(client.logs.lines)")

        await client.stop()
        await broker.stop()
    }

    @Test func tls_withABrokerCertificateForAnotherName_isRefusedByTheNameCheck() async throws {
        let certificates = try await TestCertificates()
        let tls = MosquittoBroker.TLS(
            caFile: certificates.caFile, certFile: certificates.wrongNameServerCertFile,
            keyFile: certificates.wrongNameServerKeyFile)
        let broker = try await MosquittoBroker(options: .init(tls: tls))
        let client = try TestClient(port: broker.port) {
            $0.tls = MQTTTLS(caFile: certificates.caFile)
        }
        #expect(await TestClient.poll(timeout: .seconds(30)) { client.client.statistics.failedConnects >= 2 })
        #expect(client.client.statistics.connects == 0)
        let lastError = client.client.statistics.lastError ?? ""
        #expect(lastError.contains("TLS"), "lastError: \(lastError)")

        await client.stop()
        await broker.stop()
    }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func tls_withoutClientCertificate_whenNotRequired_connectsByAddressOrName(host: String) async throws {
        let certificates = try await TestCertificates()
        let broker = try await MosquittoBroker(options: .init(tls: certificates.brokerTLS(requireCertificate: false)))
        let client = try TestClient(port: broker.port) {
            $0.host = host
            $0.tls = MQTTTLS(caFile: certificates.caFile)
        }
        #expect(await client.waitForConnection(), "client log: \(client.logs.lines)")

        await client.stop()
        await broker.stop()
    }

    @Test func tls_withoutClientCertificate_whenTheBrokerRequiresOne_neverConnects() async throws {
        let certificates = try await TestCertificates()
        let broker = try await MosquittoBroker(
            options: .init(tls: certificates.brokerTLS(requireCertificate: true)))
        let client = try TestClient(port: broker.port) {
            $0.tls = MQTTTLS(caFile: certificates.caFile)
        }
        #expect(await TestClient.poll(timeout: .seconds(30)) { client.client.statistics.failedConnects >= 2 })
        #expect(client.client.statistics.connects == 0)

        await client.stop()
        await broker.stop()
    }
}

@Suite struct AuthenticationTests {
    private static let acl = [
        "user gateway",
        "topic readwrite rlt/panel-1/#",
        "user viewer",
        "topic read rlt/panel-1/#",
        "topic write rlt/panel-1/viewer-note",
    ]

    private func broker() async throws -> MosquittoBroker {
        try await MosquittoBroker(
            options: .init(
                allowAnonymous: false, users: ["gateway": "gw-secret", "viewer": "view-secret"],
                aclLines: Self.acl))
    }

    @Test(arguments: [MQTTProtocolVersion.v5, .v311])
    func wrongPassword_isRefusedWithTheBrokersReason(version: MQTTProtocolVersion) async throws {
        let broker = try await self.broker()
        let client = try TestClient(port: broker.port, protocolVersion: version) {
            $0.username = "gateway"
            $0.password = "wrong"
        }
        #expect(await TestClient.poll(timeout: .seconds(30)) { client.client.statistics.failedConnects >= 2 })
        #expect(client.client.statistics.connects == 0)
        let lastError = client.client.statistics.lastError ?? ""
        #expect(lastError.contains("refused"), "lastError: \(lastError)")

        await client.stop()
        await broker.stop()
    }

    @Test func userWithoutWriteAccess_cannotDeliverToTheCommandTopic() async throws {
        let broker = try await self.broker()
        let gateway = try TestClient(port: broker.port, subscriptions: ["rlt/panel-1/#"]) {
            $0.username = "gateway"
            $0.password = "gw-secret"
        }
        let viewer = try TestClient(port: broker.port, subscriptions: ["rlt/panel-1/status"]) {
            $0.username = "viewer"
            $0.password = "view-secret"
        }
        #expect(await gateway.waitForSubscription(probeTopic: "rlt/panel-1/probe"))
        #expect(await viewer.waitForConnection())

        // The gateway may publish what it owns, and the viewer may read it.
        gateway.publish(topic: "rlt/panel-1/status", text: "online", retain: true)
        #expect(await viewer.waitForMessage(topic: "rlt/panel-1/status")?.payloadText == "online")

        // The viewer's command is dropped by the broker; its note, sent after it on the same
        // connection, arrives, so the command would have arrived first had it been allowed.
        viewer.publish(topic: "rlt/panel-1/cmd", text: "{\"cmd\":\"start\"}")
        viewer.publish(topic: "rlt/panel-1/viewer-note", text: "sentinel")
        #expect(await gateway.waitForMessage(topic: "rlt/panel-1/viewer-note")?.payloadText == "sentinel")
        #expect(gateway.messages(topic: "rlt/panel-1/cmd").isEmpty)

        await viewer.stop()
        await gateway.stop()
        await broker.stop()
    }
}
