import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
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
                CommandRequest(id: "e2e-start", command: "start", args: ["duration_s": 60]))
            #expect(started.ok, "start refused: \(started)")
            #expect(started.command == "start")
            #expect(started.state == .running)
            // The response is sent after the outputs were set and read back.
            #expect(chip.value(line: GatewayHarness.redLine) == 1)
            #expect(chip.value(line: GatewayHarness.nirLine) == 1)
            #expect(chip.value(line: GatewayHarness.masterLine) == 1)
            let running = try await harness.waitForState(.running)
            #expect(running?.emitting == true)
            #expect(running?.plannedSeconds == 60)

            let telemetry = try await harness.client.waitForDocumentMessage(
                StateDocument.self, topic: "\(harness.base)/tele", timeout: .seconds(30),
                where: { $0.state == .running })
            #expect(telemetry != nil, "no telemetry while running")
            #expect(telemetry?.message.retain == false)

            let stopped = try await harness.command(CommandRequest(id: "e2e-stop", command: "stop"))
            #expect(stopped.ok)
            #expect(chip.value(line: GatewayHarness.redLine) == 0)
            #expect(chip.value(line: GatewayHarness.nirLine) == 0)
            #expect(chip.value(line: GatewayHarness.masterLine) == 0)
            let after = try await harness.waitForState(.cooldown) ?? harness.latestState
            #expect(after?.emitting == false)

            let got = try await harness.command(CommandRequest(id: "e2e-get", command: "get"))
            #expect(got.ok)
            #expect(got.data?.emitting == false)

            // Graceful stop: exit 0, retained status says offline(shutdown).
            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            let offline = try await harness.waitFor(StatusDocument.self, on: .status) { !$0.isOnline }
            #expect(offline?.offlineReason == "shutdown")
            #expect(chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func badCommands_getStableCodes_andNeverTurnTheLinesOn() async throws {
        try await GatewayHarness.with { harness in
            let cases: [(String, String, ResponseCode)] = [
                ("b1", #"{"id":"b1","cmd":"start","args":{"duration_s":-3}}"#, .range),
                ("b2", #"{"id":"b2","cmd":"launch"}"#, .unknownCommand),
                ("b3", #"{"id":"b3","cmd":"start","args":{"duraton_s":30}}"#, .schema),
                ("b4", #"{"id":"b4","cmd":"start","args":{"duration_s":99999}}"#, .range),
            ]
            for (id, payload, code) in cases {
                let response = try await harness.command(payload, id: id)
                #expect(!response.ok, "\(payload)")
                #expect(response.code == code, "\(payload): \(response)")
                #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            }
            // Not JSON at all: still answered (without an id), still off.
            harness.client.publish(topic: "\(harness.base)/cmd", text: "not json")
            let garbage = try await harness.waitFor(ResponseDocument.self, on: .response) { $0.code == .json }
            #expect(garbage != nil)
            // A retained start never acts.
            let retained = try await harness.command(CommandRequest(id: "r1", command: "start"), retain: true)
            #expect(retained.code == .retained)
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            harness.client.publish(topic: "\(harness.base)/cmd", text: "", retain: true)  // clear the retained message
        }
    }
}
