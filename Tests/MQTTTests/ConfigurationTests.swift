import Logging
import MQTT
import Testing

@Suite struct ConfigurationTests {
    @Test func init_withInvalidValues_throwsNamingEveryProblem() {
        var configuration = MQTTClientConfiguration(host: "", port: 70000, clientID: "")
        configuration.birth = [MQTTMessage(topic: "rlt/+/status", text: "online")]
        configuration.subscriptions = [MQTTSubscription(filter: "rlt/#/bad")]
        configuration.keepaliveSeconds = 2
        configuration.reconnectMaxSeconds = 0.5
        #expect {
            _ = try MQTTClient(configuration: configuration, logger: Logger(label: "test"))
        } throws: { error in
            guard let error = error as? MQTTError, error.isInvalidConfiguration else { return false }
            return ["host", "port 70000", "client id", "rlt/+/status", "rlt/#/bad", "keepalive 2", "reconnect maximum"]
                .allSatisfy { error.message.contains($0) }
        }
    }

    @Test func init_withUnreadableTLSFile_throwsNamingTheFile() {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: 8883, clientID: "c")
        configuration.tls = MQTTTLS(caFile: "/nonexistent/ca.crt")
        #expect {
            _ = try MQTTClient(configuration: configuration, logger: Logger(label: "test"))
        } throws: { error in
            (error as? MQTTError)?.message.contains("/nonexistent/ca.crt") ?? false
        }
    }

    @Test func init_withValidConfiguration_doesNotConnectUntilStarted() async throws {
        let configuration = MQTTClientConfiguration(host: "127.0.0.1", port: 1, clientID: "idle")
        let client = try MQTTClient(configuration: configuration, logger: Logger(label: "test"))
        #expect(client.statistics.connectAttempts == 0)
        await client.stop(finalMessages: [])
        var events: [MQTTEvent] = []
        for await event in client.events { events.append(event) }
        #expect(events.isEmpty)
    }
}
