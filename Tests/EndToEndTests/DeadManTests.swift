import Foundation
import GatewayProtocol
import TestKit
import TestSupport
import Testing

/// Dark when the daemon dies, by both mechanisms of docs/DESIGN.md ("Dark when the daemon dies"):
/// the board's dead-man (the master relay holds only while the heartbeat line keeps changing) and
/// `rlt-gateway outputs-off`, which the unit runs after any exit (`ExecStopPost=`).
///
/// Bounds are read off the board, not off the test's clock: the relay drops `deadManTimeout` after
/// the heartbeat's last change, and a daemon that is dead or frozen changes nothing after the
/// instant it was killed, so the drop's instant is fixed whatever the machine's load.
@Suite(.timeLimit(.minutes(5)))
struct DeadManTests {
    static let heartbeatLine = 6

    /// A harness whose panel has the heartbeat output, with a session emitting and the relay held.
    static func emitting(_ body: (GatewayHarness) async throws -> Void) async throws {
        try await GatewayHarness.with(overrides: ["gpio.outputs.heartbeat.line=\(Self.heartbeatLine)"]) { harness in
            let started = try await harness.command(CommandRequest(id: "s1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            let held = await eventually(timeout: .seconds(10)) {
                harness.chip.relayEnergised(master: GatewayHarness.masterLine, heartbeat: Self.heartbeatLine)
            }
            try #require(held, "the heartbeat never held the relay; log:\n\(harness.gateway.log)")
            try await body(harness)
        }
    }

    @Test func kill9MidSession_darkWithinOneSecond_withoutARestart_thenOutputsOffReleasesTheLines() async throws {
        try await Self.emitting { harness in
            let killed = ContinuousClock.now
            harness.gateway.signal(SIGKILL)
            #expect(await harness.gateway.waitForExit() == nil, "killed by a signal, no exit code")
            let drop = try #require(harness.chip.deadManDrop(heartbeat: Self.heartbeatLine))
            #expect(drop - killed <= SimulatedChipDirectory.deadManTimeout, "the relay drops \(drop - killed) after the kill")
            #expect(drop - killed < .seconds(1))
            #expect(
                await eventually(timeout: .seconds(5)) {
                    !harness.chip.relayEnergised(master: GatewayHarness.masterLine, heartbeat: Self.heartbeatLine)
                })
            // Nothing restarted it: the lines still read what the dead daemon left, only the relay is out.
            #expect(!harness.gateway.isRunning)
            #expect(harness.chip.value(line: GatewayHarness.masterLine) == 1)

            // What systemd runs next (ExecStopPost=): every output OFF and released.
            let off = await CLIClientTests.run(
                ["outputs-off", "--config", harness.configPath, "--set", "gpio.outputs.heartbeat.line=\(Self.heartbeatLine)"],
                in: harness)
            #expect(off.code == 0, "\(off.output)")
            for line in [GatewayHarness.redLine, GatewayHarness.nirLine, GatewayHarness.masterLine] {
                #expect(harness.chip.value(line: line) == 0, "line \(line) after outputs-off")
            }
        }
    }

    /// A config file broken (or rewired) while the daemon ran must not cost the ExecStopPost net:
    /// outputs-off drives off the lines the daemon started with, recorded in its state directory.
    @Test func kill9AfterTheConfigWasBroken_outputsOffStillDrivesTheDaemonsLinesOff() async throws {
        let state = try TemporaryDirectory()
        let unit = ["STATE_DIRECTORY": state.path]
        try await GatewayHarness.with(environment: unit) { harness in
            let started = try await harness.command(CommandRequest(id: "s1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            #expect(FileManager.default.fileExists(atPath: state.file("started-config.json")))
            // An edit that check-config would refuse, saved while the session runs; then the crash.
            try "gpio: { outputs: { red: { line: nope } } }\n".write(
                toFile: harness.configPath, atomically: true, encoding: .utf8)
            harness.gateway.signal(SIGKILL)
            #expect(await harness.gateway.waitForExit() == nil)
            #expect(harness.chip.value(line: GatewayHarness.masterLine) == 1, "nothing turned it off yet")

            var environment = ProcessInfo.processInfo.environment
            environment["STATE_DIRECTORY"] = state.path
            let off = await CLIClientTests.run(
                ["outputs-off", "--config", harness.configPath], in: harness, environment: environment)
            #expect(off.code == 0, "\(off.output)")
            #expect(off.output.contains("the config file has problems"), "\(off.output)")
            for line in [GatewayHarness.redLine, GatewayHarness.nirLine, GatewayHarness.masterLine] {
                #expect(harness.chip.value(line: line) == 0, "line \(line) after outputs-off")
            }
        }
    }

    @Test func sigstopMidSession_darkWithinTheDeadMansTimeout() async throws {
        try await Self.emitting { harness in
            #expect(await harness.gateway.suspend())
            let frozen = ContinuousClock.now
            let drop = try #require(harness.chip.deadManDrop(heartbeat: Self.heartbeatLine))
            #expect(drop - frozen <= SimulatedChipDirectory.deadManTimeout, "the relay drops \(drop - frozen) after the freeze")
            #expect(
                await eventually(timeout: .seconds(5)) {
                    !harness.chip.relayEnergised(master: GatewayHarness.masterLine, heartbeat: Self.heartbeatLine)
                })
            // A hung daemon still holds its lines: only the hardware can take the light away.
            #expect(harness.chip.value(line: GatewayHarness.masterLine) == 1)
            harness.gateway.resume()
            _ = try await harness.command(CommandRequest(id: "s2", command: "stop"))
            #expect(await harness.linesRead(0))
        }
    }
}
