import Foundation
import MQTT
import TestKit
import TestSupport
import Testing

/// The shipped ACL (`deploy/mosquitto/acl.example`) on a real mosquitto with passwords: two panels,
/// each with its own account named after its device id, and Home Assistant's account. Each panel
/// runs its whole contract; with one panel's credentials nothing of the other panel can be
/// commanded, read or forged.
///
/// Denials are silent in MQTT (the broker drops the message), so every "did not happen" is read
/// behind a barrier that proves the message would have arrived by then: a marker published on the
/// same connection after it, and a command answered by the panel after that.
@Suite struct BrokerAccountTests {
    static let passwords = ["panel-1": "p1-secret", "panel-2": "p2-secret", "homeassistant": "ha-secret"]

    static var aclLines: [String] {
        get throws {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../deploy/mosquitto/acl.example").standardized.path
            return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
    }

    static func credentials(_ user: String) -> (inout MQTTClientConfiguration) -> Void {
        { configuration in
            configuration.username = user
            configuration.password = Self.passwords[user]
        }
    }

    @Test func perPanelAccounts_eachPanelRuns_andNeitherCanCommandReadOrForgeTheOther() async throws {
        try await ProcessBudget.shared.withPermits(2) {
            let broker = try await MosquittoBroker(
                options: .init(allowAnonymous: false, users: Self.passwords, aclLines: try Self.aclLines))
            let secrets = try TemporaryDirectory(prefix: "rlt-acl")
            var panels: [GatewayHarness] = []
            var clients: [TestClient] = []
            do {
                for id in ["panel-1", "panel-2"] {
                    let passwordFile = try secrets.write("\(id).password", Self.passwords[id]! + "\n")
                    // The harness's own client is Home Assistant's account (reads rlt/#, commands).
                    panels.append(
                        try await GatewayHarness(
                            deviceID: id, broker: broker,
                            overrides: ["mqtt.username=\(id)", "mqtt.password_file=\(passwordFile)"],
                            configureClient: Self.credentials("homeassistant")))
                }
                let (one, two) = (panels[0], panels[1])
                // Both panels run their contract under their own accounts: online (checked by the
                // harness), commands answered, discovery published.
                _ = try await one.barrier()
                _ = try await two.barrier()
                let observer = try TestClient(
                    port: broker.port, subscriptions: ["rlt/#", "homeassistant/#"],
                    configure: Self.credentials("homeassistant"))
                clients.append(observer)
                #expect(await observer.waitForConnection())
                #expect(
                    await observer.waitForMessage(topic: "homeassistant/device/rlt_panel-2/config", timeout: .seconds(10))
                        != nil, "panel-2's discovery")
                // The example ACL lets each panel read back its own discovery configs: the sweep
                // that removes stale ones completes (without it the panel logs a warning instead).
                for panel in panels {
                    #expect(
                        await eventually(timeout: .seconds(10), every: .milliseconds(100)) {
                            panel.gateway.log.contains("discovery swept")
                        }, "\(panel.deviceID)'s discovery sweep did not complete under the example ACL")
                }

                // An intruder holding panel-2's password.
                let intruder = try TestClient(
                    port: broker.port, subscriptions: ["rlt/panel-1/#", "rlt/_all/cmd", "homeassistant/#"],
                    configure: Self.credentials("panel-2"))
                clients.append(intruder)
                #expect(await intruder.waitForConnection())
                // Its subscriptions are active once a fleet ping reaches it (it may read fleet commands).
                var pings = 0
                #expect(
                    await eventually(timeout: .seconds(10), every: .milliseconds(200)) {
                        pings += 1
                        one.client.publish(topic: "rlt/_all/cmd", text: #"{"id":"sub-\#(pings)","cmd":"ping"}"#)
                        return !intruder.messages(topic: "rlt/_all/cmd").isEmpty
                    })

                // It cannot command panel-1, forge its state or its discovery. The marker on its own
                // event topic, seen by Home Assistant, comes after all three on the same connection;
                // panel-1 answering a get after that has handled anything the broker let through.
                intruder.publish(topic: "rlt/panel-1/cmd", text: #"{"id":"intruder","cmd":"start","args":{"duration_s":60}}"#)
                intruder.publish(topic: "rlt/panel-1/state", text: #"{"state":"running","forged":true}"#, retain: true)
                intruder.publish(
                    topic: "homeassistant/device/rlt_panel-1/config", text: #"{"forged":true}"#, retain: true)
                intruder.publish(topic: "rlt/panel-2/event", text: #"{"marker":"intruder-done"}"#)
                #expect(
                    await observer.waitForMessage(topic: "rlt/panel-2/event", timeout: .seconds(10)) {
                        $0.payloadText.contains("intruder-done")
                    } != nil)
                _ = try await one.barrier()
                #expect(one.client.messages(topic: "rlt/panel-1/res").allSatisfy { !$0.payloadText.contains("intruder") })
                #expect(await one.linesRead(0, timeout: .seconds(1)), "the intruder's start lit panel-1")
                #expect(observer.messages(topic: "rlt/panel-1/state").allSatisfy { !$0.payloadText.contains("forged") })
                #expect(
                    observer.messages(topic: "homeassistant/device/rlt_panel-1/config").allSatisfy {
                        !$0.payloadText.contains("forged")
                    })

                // It reads nothing of panel-1: panel-1 answers a command, Home Assistant then sends a
                // fleet ping; the intruder, which may read that ping, gets it after anything of
                // panel-1's the broker would have delivered before.
                _ = try await one.barrier()
                one.client.publish(topic: "rlt/_all/cmd", text: #"{"id":"read-marker","cmd":"ping"}"#)
                #expect(
                    await intruder.waitForMessage(topic: "rlt/_all/cmd", timeout: .seconds(10)) {
                        $0.payloadText.contains("read-marker")
                    } != nil)
                let leaked = intruder.messagesReceived.filter { $0.topic.hasPrefix("rlt/panel-1/") }.map(\.topic)
                #expect(leaked.isEmpty, "panel-2's account read \(leaked)")
                #expect(
                    intruder.messagesReceived.allSatisfy { !$0.topic.hasPrefix("homeassistant/device/rlt_panel-1") },
                    "panel-2's account read panel-1's discovery")

                // Panel-1 still works for Home Assistant.
                let started = try await one.command(#"{"id":"ha-start","cmd":"start","args":{"duration_s":60}}"#, id: "ha-start")
                #expect(started.ok, "\(started)")
                #expect(await one.linesRead(1))
                _ = try await one.command(#"{"id":"ha-stop","cmd":"stop"}"#, id: "ha-stop")
                #expect(await one.linesRead(0))
            } catch {
                Issue.record(error)
            }
            for client in clients { await client.stop() }
            for panel in panels { await panel.shutdown() }
            await broker.stop()
            secrets.remove()
        }
    }
}
