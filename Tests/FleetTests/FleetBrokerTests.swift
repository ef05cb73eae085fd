import Foundation
import SafetyCore
import GatewayProtocol
import Logging
import TestKit
import Testing
import TestSupport

@testable import Fleet
@testable import MQTT

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The fleet tools against a real mosquitto; the panels are test clients publishing the contract's
/// payloads (the shell test in Tests/fleet runs real gateways).
@Suite(.serialized) struct FleetBrokerTests {
    static func logger() -> Logger {
        var logger = Logger(label: "fleet-test")
        logger.logLevel = .critical
        return logger
    }

    static func poll(_ timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
        await eventually(timeout: timeout, every: .milliseconds(50), condition)
    }

    static func get(_ url: String) async throws -> (status: Int, type: String, body: String) {
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        let http = try #require(response as? HTTPURLResponse)
        return (
            http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self)
        )
    }

    @Test func exporter_servesPanelsFromTheBroker_andMarksOneThatDropsOffline() async throws {
        let broker = try await MosquittoBroker()
        let topics = try FleetTopics(prefix: "rlt")
        let monitor = try FleetMonitor(
            connection: TestClient.configuration(port: broker.port, clientID: "fleet-exporter-test"), topics: topics,
            logger: Self.logger())
        let monitorTask = Task { await monitor.run() }
        let exporter = try FleetExporter(
            monitor: monitor, host: "127.0.0.1", port: 0, version: "0.0.0-test", logger: Self.logger())
        let serverTask = Task { try await exporter.run() }
        defer { serverTask.cancel() }
        let port = try #require(try await exporter.listeningPort())

        // p1 publishes retained status and state before anyone listens on the exporter; p2 has a will.
        let p1 = try TestClient(port: broker.port, clientID: "p1")
        #expect(await p1.waitForConnection())
        p1.publish(topic: "rlt/p1/status", text: String(decoding: Payload.online(), as: UTF8.self), retain: true)
        p1.publish(topic: "rlt/p1/state", text: String(decoding: Payload.state(), as: UTF8.self), retain: true)
        let p2 = try TestClient(port: broker.port, clientID: "p2") {
            $0.will = MQTTMessage(topic: "rlt/p2/status", payload: Payload.offline(), qos: .atLeastOnce, retain: true)
            $0.birth = [MQTTMessage(topic: "rlt/p2/status", payload: Payload.online(), qos: .atLeastOnce, retain: true)]
            // Stays away once dropped, so the will is the last word.
            $0.reconnectMinSeconds = 60
            $0.reconnectMaxSeconds = 60
        }
        #expect(await p2.waitForConnection())

        let url = "http://127.0.0.1:\(port)/metrics"
        let bothOnline = await Self.poll {
            let body = (try? await Self.get(url))?.body ?? ""
            return body.contains(#"rlt_panel_online{device="p1"} 1"#)
                && body.contains(#"rlt_panel_online{device="p2"} 1"#)
        }
        #expect(bothOnline)
        let page = try await Self.get(url)
        #expect(page.status == 200)
        #expect(page.type.hasPrefix("text/plain; version=0.0.4"))
        #expect(page.body.contains(#"rlt_panel_temperature_celsius{device="p1"} 31.5"#))
        #expect(page.body.contains(#"rlt_panel_state{device="p1",state="running"} 1"#))
        #expect(page.body.contains("rlt_exporter_mqtt_connected 1"))

        // p2's link dies without DISCONNECT: the broker publishes its will.
        p2.client.dropConnectionForTesting()
        let marked = await Self.poll(.seconds(20)) {
            let body = (try? await Self.get(url))?.body ?? ""
            return body.contains(#"rlt_panel_online{device="p2"} 0"#)
        }
        #expect(marked, "p2 should be exported as offline, not dropped")
        #expect(try await Self.get(url).body.contains(#"rlt_fleet_panels{link="offline"} 1"#))

        await exporter.stop()
        await monitor.stop()
        await monitorTask.value
        await p1.client.stop()
    }

    @Test func fleetStop_collectsEveryAnswer_andNamesTheOnlinePanelThatStayedSilent() async throws {
        let broker = try await MosquittoBroker()
        let topics = try FleetTopics(prefix: "rlt")
        // Two panels that answer stop as the gateway does, one that is online but never answers.
        var panels: [TestClient] = []
        for device in ["p1", "p2", "p3"] {
            let panel = try TestClient(port: broker.port, clientID: device, subscriptions: ["rlt/_all/cmd"])
            #expect(await panel.waitForConnection())
            #expect(await panel.waitForSubscription(probeTopic: "rlt/_all/cmd"))
            panel.publish(
                topic: "rlt/\(device)/status", text: String(decoding: Payload.online(), as: UTF8.self), retain: true)
            panels.append(panel)
        }
        // The probes of later panels reached the earlier ones too.
        for panel in panels { panel.clearMessages() }
        let answering = Task { [panels] in
            for (index, panel) in panels.prefix(2).enumerated() {
                guard let command = await panel.waitForMessage(topic: "rlt/_all/cmd", timeout: .seconds(30)) else {
                    return
                }
                let id = (try? JSONValue.parse(command.payload))?["id"]?.stringValue ?? "?"
                let ok = index == 0
                panel.publish(
                    topic: "rlt/p\(index + 1)/res",
                    text: #"{"id":"\#(id)","cmd":"stop","ok":\#(ok),"# + (ok ? "" : #""code":"E_INTERNAL","#)
                        + #""message":"m\#(index)","state":"idle"}"#)
            }
        }
        let report = try await FleetCommander(
            connection: TestClient.configuration(port: broker.port, clientID: "fleet-stop-test"), topics: topics,
            logger: Self.logger()
        ).send("stop", to: .all, timeout: .seconds(10))
        await answering.value
        #expect(report.sent)
        #expect(report.topic == "rlt/_all/cmd")
        #expect(report.answers.map(\.device) == ["p1", "p2"])
        #expect(report.answers.map(\.ok) == [true, false])
        #expect(report.answers.last?.code == "E_INTERNAL")
        #expect(report.silent == ["p3"])
        #expect(report.exitCode == 1)
        for panel in panels { await panel.client.stop() }
    }

    /// `rlt-fleet stop --key-file`: the stop arrives signed for the fleet topic it was published on, so a
    /// panel holding the key verifies it (README, "Signed commands").
    @Test func fleetStop_withAKey_isSignedForTheFleetTopic() async throws {
        let broker = try await MosquittoBroker()
        let key = CommandSignature(key: Array(repeating: 0x5c, count: 32))
        let panel = try TestClient(port: broker.port, clientID: "signed-p1", subscriptions: ["rlt/_group/ward-a/cmd"])
        #expect(await panel.waitForConnection())
        #expect(await panel.waitForSubscription(probeTopic: "rlt/_group/ward-a/cmd"))
        panel.clearMessages()
        let report = try await FleetCommander(
            connection: TestClient.configuration(port: broker.port, clientID: "fleet-signed-stop"),
            topics: try FleetTopics(prefix: "rlt"), logger: Self.logger()
        ).send("stop", to: .group("ward-a"), timeout: .seconds(2), key: key)
        #expect(report.sent)
        let command = try #require(await panel.waitForMessage(topic: "rlt/_group/ward-a/cmd", timeout: .seconds(10)))
        let received = Int64(Date().timeIntervalSince1970 * 1000)
        let envelope = CommandDecoder.decode(
            command.payload, source: .fleetGroup("ward-a"), retained: false, receivedAtUnixMs: received,
            maximumBytes: 4096, topic: "rlt/_group/ward-a/cmd", key: key)
        #expect(envelope.body == .decoded(.stop))
        guard case .verified = envelope.signature else {
            Issue.record("fleet stop not verified: \(String(decoding: command.payload, as: UTF8.self))")
            return
        }
        #expect(abs(received - (envelope.sentAtUnixMs ?? 0)) < 30_000)
        await panel.stop()
    }

    @Test func fleetStop_withNoBroker_reportsNotSent() async throws {
        let report = try await FleetCommander(
            connection: TestClient.configuration(port: MosquittoBroker.freePort(), clientID: "fleet-nobody"),
            topics: try FleetTopics(prefix: "rlt"), logger: Self.logger()
        ).send("stop", to: .group("ward-a"), timeout: .milliseconds(500))
        #expect(!report.sent)
        #expect(report.exitCode == 3)
    }
}
