import Foundation
import GatewayProtocol
import MQTT
import TestSupport
import Testing

/// The daemon against a broker as a careful installation runs it: TLS with a private CA, a client
/// certificate required, a user name and a password read from a file.
@Suite(.timeLimit(.minutes(10)))
struct SecureBrokerTests {
    @Test func mutualTLSWithPasswordFile_daemonConnectsAndServesCommands() async throws {
        try await ProcessBudget.shared.withPermits(1) { try await self.mutualTLSWithPasswordFile() }
    }

    private func mutualTLSWithPasswordFile() async throws {
        let certificates = try await TestCertificates()
        let broker = try await MosquittoBroker(
            options: .init(
                allowAnonymous: false, users: ["panel": "s3cret-panel", "tester": "s3cret-tester"],
                tls: certificates.brokerTLS(requireCertificate: true)))
        let passwordFile = try certificates.directory.write("panel.password", "s3cret-panel\n")
        let overrides = [
            "mqtt.url=mqtts://127.0.0.1:\(broker.port)", "mqtt.username=panel", "mqtt.password_file=\(passwordFile)",
            "mqtt.ca_file=\(certificates.caFile)", "mqtt.cert_file=\(certificates.clientCertFile)",
            "mqtt.key_file=\(certificates.clientKeyFile)",
        ]
        let harness: GatewayHarness
        do {
            harness = try await GatewayHarness(broker: broker, overrides: overrides) { client in
                client.tls = MQTTTLS(
                    caFile: certificates.caFile, certFile: certificates.clientCertFile,
                    keyFile: certificates.clientKeyFile)
                client.username = "tester"
                client.password = "s3cret-tester"
            }
        } catch {
            await broker.stop()
            throw error
        }
        do {
            let started = try await harness.command(CommandRequest(id: "tls1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            let stopped = try await harness.command(CommandRequest(id: "tls2", command: "stop"))
            #expect(stopped.ok)
            #expect(await harness.linesRead(0))
            #expect(!harness.gateway.log.contains("s3cret"), "the password leaked into the log")
        } catch {
            await harness.shutdown()
            await broker.stop()
            throw error
        }
        await harness.shutdown()
        await broker.stop()
    }
}
