import Foundation
import MQTT
import TestSupport
import Testing

/// The whole path once: a separate MQTT client starts a session on the built daemon, the simulated
/// LED lines go on, `state` says running, `stop` turns them off, every command gets its response.
@Suite(.timeLimit(.minutes(10)))
struct WalkingSkeletonTests {
    @Test func startThenStop_drivesTheSimulatedLines_andAnswersEachCommand() async throws {
        try await GatewayHarness.with { harness in
            let chip = harness.chip

            // Boot: outputs requested OFF before anything else.
            #expect(chip.value(line: GatewayHarness.redLine) == 0)
            #expect(chip.value(line: GatewayHarness.nirLine) == 0)

            let started = try await harness.command(
                #"{"id":"e2e-start","cmd":"start","args":{"duration_s":60}}"#, id: "e2e-start")
            #expect(started["ok"] as? Bool == true, "start refused: \(started)")
            #expect(started["cmd"] as? String == "start")
            #expect(started["state"] as? String == "running")
            // The response is sent after the outputs were set and read back.
            #expect(chip.value(line: GatewayHarness.redLine) == 1)
            #expect(chip.value(line: GatewayHarness.nirLine) == 1)
            #expect(chip.value(line: GatewayHarness.masterLine) == 1)
            let running = await harness.waitForState("running")
            #expect(running?["emitting"] as? Bool == true)
            #expect(running?["planned_s"] as? Double == 60)

            let telemetry = await harness.client.waitForMessage(topic: "\(harness.base)/tele", timeout: .seconds(30)) {
                $0.payloadText.contains(#""state":"running""#)
            }
            #expect(telemetry != nil, "no telemetry while running")
            #expect(telemetry?.retain == false)

            let stopped = try await harness.command(#"{"id":"e2e-stop","cmd":"stop"}"#, id: "e2e-stop")
            #expect(stopped["ok"] as? Bool == true)
            #expect(chip.value(line: GatewayHarness.redLine) == 0)
            #expect(chip.value(line: GatewayHarness.nirLine) == 0)
            #expect(chip.value(line: GatewayHarness.masterLine) == 0)
            let after =
                await harness.waitForState("cooldown")
                ?? harness.client.messages(topic: "\(harness.base)/state").last.flatMap {
                    try? GatewayHarness.object($0)
                }
            #expect(after?["emitting"] as? Bool == false)

            let got = try await harness.command(#"{"id":"e2e-get","cmd":"get"}"#, id: "e2e-get")
            #expect(got["ok"] as? Bool == true)
            #expect((got["data"] as? [String: Any])?["emitting"] as? Bool == false)

            // Graceful stop: exit 0, retained status says offline(shutdown).
            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            let offline = await harness.client.waitForMessage(topic: "\(harness.base)/status") {
                $0.payloadText.contains(#""offline""#)
            }
            #expect(offline?.payloadText.contains(#""reason":"shutdown""#) == true)
            #expect(chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func badCommands_getStableCodes_andNeverTurnTheLinesOn() async throws {
        try await GatewayHarness.with { harness in
            let cases: [(String, String, String)] = [
                ("b1", #"{"id":"b1","cmd":"start","args":{"duration_s":-3}}"#, "E_RANGE"),
                ("b2", #"{"id":"b2","cmd":"launch"}"#, "E_UNKNOWN_CMD"),
                ("b3", #"{"id":"b3","cmd":"start","args":{"duraton_s":30}}"#, "E_SCHEMA"),
                ("b4", #"{"id":"b4","cmd":"start","args":{"duration_s":99999}}"#, "E_RANGE"),
            ]
            for (id, payload, code) in cases {
                let response = try await harness.command(payload, id: id)
                #expect(response["ok"] as? Bool == false, "\(payload)")
                #expect(response["code"] as? String == code, "\(payload): \(response)")
                #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            }
            // Not JSON at all: still answered (without an id), still off.
            harness.client.publish(topic: "\(harness.base)/cmd", text: "not json")
            let garbage = await harness.client.waitForMessage(topic: "\(harness.base)/res") {
                $0.payloadText.contains("E_JSON")
            }
            #expect(garbage != nil)
            // A retained start never acts.
            let retained = try await harness.command(#"{"id":"r1","cmd":"start"}"#, id: "r1", retain: true)
            #expect(retained["code"] as? String == "E_RETAINED")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            harness.client.publish(topic: "\(harness.base)/cmd", text: "", retain: true)  // clear the retained message
        }
    }
}
