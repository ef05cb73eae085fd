import Foundation
import GatewayProtocol
import MQTT
import TestSupport

/// TLS-only deployments, the refusal of plaintext remote brokers, the ACL example in
/// `deploy/mosquitto/acl.example`, and secrets kept out of logs.
enum SecurityScenarios {
    /// `mqtt://` to a non-loopback host without `allow_insecure` is refused at start, with a
    /// message naming the key; `check-config` says the same. No line is ever driven.
    static func plaintextRemoteRefused() async throws -> String? {
        try await withPanel { panel in
            let gateway = try GatewayProcess(
                configPath: panel.configPath, overrides: ["mqtt.url=mqtt://192.0.2.10:1883"])
            panel.gateway = gateway
            let exit = await gateway.waitForExit(timeout: .seconds(15))
            try require(
                exit != nil && exit != 0,
                "daemon did not refuse a plaintext remote broker (exit \(String(describing: exit)))")
            try require(
                gateway.log.contains("allow_insecure"), "refusal does not name allow_insecure:\n\(panel.logTail)")
            try require(panel.linesOff, "a line is on after a refused start")
            let check = await shell(
                "'\(GatewayProcess.executablePath)' check-config '\(panel.configPath)' --set mqtt.url=mqtt://192.0.2.10:1883"
            )
            try require(check.status != 0, "check-config accepted a plaintext remote broker")
            return "refused (exit \(exit ?? -1)); check-config exit \(check.status)"
        }
    }

    /// A broker that listens only with TLS and requires client certificates: the daemon with
    /// `mqtts://`, CA, certificate and key comes online; without its certificate it never does.
    static func tlsClientCertificates() async throws -> String? {
        let certificates = try await TestCertificates()
        defer { certificates.directory.remove() }
        let options = MosquittoBroker.Options(tls: certificates.brokerTLS(requireCertificate: true))
        let panel = try await Panel(brokerOptions: options) { configuration in
            configuration.tls = MQTTTLS(
                caFile: certificates.caFile, certFile: certificates.clientCertFile, keyFile: certificates.clientKeyFile)
        }
        do {
            let url = "mqtt.url=mqtts://127.0.0.1:\(panel.broker.port)"
            try await panel.startGateway(overrides: [
                url, "mqtt.ca_file=\(certificates.caFile)", "mqtt.cert_file=\(certificates.clientCertFile)",
                "mqtt.key_file=\(certificates.clientKeyFile)",
            ])
            let response = try await panel.command("ping")
            try require(response?.ok == true, "no ping response over TLS")
            await panel.gateway?.terminate()
            panel.client.clearMessages()
            panel.gateway = try GatewayProcess(
                configPath: panel.configPath, overrides: [url, "mqtt.ca_file=\(certificates.caFile)"])
            let online = await panel.waitForOnline(timeout: .seconds(6))
            try require(!online, "daemon without a client certificate came online")
            let plaintext = try GatewayProcess(configPath: panel.configPath, overrides: [])
            await sleep(4)
            let plainOnline = try panel.hasSeenOnline()
            await plaintext.terminate()
            try require(!plainOnline, "daemon came online over plaintext to a TLS-only broker")
            await panel.shutdown()
            return "online with client certificate; refused without one and over plaintext"
        } catch {
            await panel.shutdown()
            throw error
        }
    }

    /// The ACL example, as shipped, on a broker with passwords: the gateway can run its contract,
    /// Home Assistant can command and read, the dashboard can read state but not command, and
    /// nobody but the gateway can publish the gateway's state.
    static func aclExample() async throws -> String? {
        let aclPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../deploy/mosquitto/acl.example").standardized.path
        let acl = try String(contentsOfFile: aclPath, encoding: .utf8).split(separator: "\n").map(String.init)
        let options = MosquittoBroker.Options(
            allowAnonymous: false,
            users: [Panel.deviceID: "gw-secret-1", "homeassistant": "ha-secret-2", "dashboard": "dash-secret-3"],
            aclLines: acl)
        let panel = try await Panel(brokerOptions: options) { configuration in
            configuration.username = "homeassistant"
            configuration.password = "ha-secret-2"
        }
        var dashboard: TestClient?
        do {
            // The panel's own account, named after its device id (the ACL's per-panel pattern rules).
            let passwordFile = try panel.directory.write("mqtt-password", "gw-secret-1\n")
            try await panel.startGateway(
                overrides: ["mqtt.username=\(Panel.deviceID)", "mqtt.password_file=\(passwordFile)"])
            // Home Assistant commands and reads.
            let started = try await panel.start(duration: 5)
            try require(started?.ok == true, "homeassistant could not start: \(String(describing: started))")
            try require(await panel.chip.waitForValue(line: Panel.red, 1, timeout: .seconds(2)), "no emission")
            let stopped = try await panel.command("stop")
            try require(stopped?.ok == true, "homeassistant could not stop")
            let discovery = try TestClient(port: panel.broker.port, subscriptions: ["homeassistant/#"]) {
                $0.username = "homeassistant"
                $0.password = "ha-secret-2"
            }
            let config = await discovery.waitForMessage(
                topic: "homeassistant/device/rlt_\(Panel.deviceID)/config", timeout: .seconds(5))
            await discovery.stop()
            try require(config != nil, "homeassistant did not receive the retained discovery document")
            // The dashboard reads state but cannot command or impersonate the gateway.
            let base = panel.base
            let dash = try TestClient(port: panel.broker.port, subscriptions: ["\(base)/state", "\(base)/status"]) {
                $0.username = "dashboard"
                $0.password = "dash-secret-3"
            }
            dashboard = dash
            try require(await dash.waitForConnection(), "dashboard could not connect")
            let state = await dash.waitForMessage(topic: "\(base)/state", timeout: .seconds(5))
            try require(state != nil, "dashboard did not receive the retained state")
            panel.client.clearMessages()
            dash.publish(topic: "\(base)/cmd", text: #"{"id":"dash-1","cmd":"start","args":{"duration_s":5}}"#)
            dash.publish(topic: "\(base)/state", text: #"{"state":"running","forged":true}"#, retain: true)
            await sleep(2)
            let answered = try panel.client.messages(topic: "\(base)/res").contains {
                try Panel.read($0, ResponseDocument.init(json:)).id == "dash-1"
            }
            try require(!answered, "the dashboard's command reached the gateway")
            try require(panel.linesOff, "the dashboard's start turned a line on")
            let forged = panel.client.messages(topic: "\(base)/state").contains { $0.payloadText.contains("forged") }
            try require(!forged, "the dashboard could publish the gateway's state")
            // Home Assistant cannot forge the gateway's status either.
            panel.client.publish(topic: "\(base)/status", text: #"{"state":"offline","forged":true}"#, retain: true)
            await sleep(1)
            let forgedStatus = dash.messages(topic: "\(base)/status").contains { $0.payloadText.contains("forged") }
            try require(!forgedStatus, "homeassistant could publish the gateway's status")
            await dash.stop()
            await panel.shutdown()
            return "gateway runs, HA commands, dashboard read-only, no forged state/status"
        } catch {
            await dashboard?.stop()
            await panel.shutdown()
            throw error
        }
    }

    /// The broker password (from `password_file` and from `RLT_MQTT_PASSWORD`) never appears in the
    /// daemon's log at `trace`, nor in `check-config` output; a password in the YAML is refused
    /// without being echoed.
    static func secretsNotLogged() async throws -> String? {
        let secret = "Sx-\(UUID().uuidString.prefix(12))"
        let options = MosquittoBroker.Options(
            allowAnonymous: false, users: ["rlt-gateway": secret, "observer": "obs-pw"])
        let panel = try await Panel(extraYAML: "logging: { level: trace }", brokerOptions: options) { configuration in
            configuration.username = "observer"
            configuration.password = "obs-pw"
        }
        do {
            let passwordFile = try panel.directory.write("mqtt-password", "\(secret)\n")
            try await panel.startGateway(overrides: ["mqtt.username=rlt-gateway", "mqtt.password_file=\(passwordFile)"])
            _ = try await panel.start(duration: 2)
            await sleep(1)
            await panel.gateway?.terminate()
            try await panel.startGateway(
                overrides: ["mqtt.username=rlt-gateway"], environment: ["RLT_MQTT_PASSWORD": secret])
            await panel.gateway?.terminate()
            let log = panel.gateway?.log ?? ""
            try require(!log.isEmpty, "empty daemon log")
            try require(!log.contains(secret), "the password appears in the daemon log")
            let bin = GatewayProcess.executablePath
            let check = await shell(
                "'\(bin)' check-config '\(panel.configPath)' --set mqtt.password_file=\(passwordFile)")
            try require(!check.output.contains(secret), "check-config printed the password")
            let inline = try panel.directory.write(
                "inline.yaml", "device: { id: x }\nmqtt: { password: \"\(secret)\" }\n")
            let refused = await shell("'\(bin)' check-config '\(inline)'")
            try require(refused.status != 0, "a password in the YAML was accepted")
            try require(!refused.output.contains(secret), "check-config echoed the inline password")
            await panel.shutdown()
            return "\(log.split(separator: "\n").count) log lines at trace, no secret; inline password refused"
        } catch {
            await panel.shutdown()
            throw error
        }
    }
}
