import Foundation
import MQTT
import TestSupport
import Testing

/// `rlt-gateway session start|stop|status` against the running daemon, as a person at a terminal
/// uses it: same config file, exit status and printed answer.
@Suite(.timeLimit(.minutes(10)))
struct CLIClientTests {
    /// Runs the built executable with `arguments`; returns its exit code and what it printed.
    static func run(
        _ arguments: [String], in harness: GatewayHarness, environment: [String: String]? = nil
    ) async -> (code: Int32?, output: String) {
        let outputPath = harness.directory.file("cli-\(UUID().uuidString).out")
        guard
            let child = try? ChildProcess(
                executable: GatewayProcess.executablePath, arguments: arguments, standardOutput: outputPath,
                standardError: outputPath, environment: environment)
        else { return (nil, "could not start \(GatewayProcess.executablePath)") }
        if !(await child.waitForExit(timeout: .seconds(60))) { await child.terminate() }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (child.exitCode, output)
    }

    @Test func sessionStartStatusStop_fromTheCommandLine_driveThePanel() async throws {
        try await GatewayHarness.with { harness in
            let config = ["--config", harness.configPath]
            let start = await Self.run(
                ["session", "start"] + config + ["--duration", "1m", "--channels", "nir"], in: harness)
            #expect(start.code == 0, "\(start.output)")
            #expect(await harness.chip.waitForValue(line: GatewayHarness.nirLine, 1))
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)

            let status = await Self.run(["session", "status"] + config, in: harness)
            #expect(status.code == 0, "\(status.output)")
            #expect(status.output.contains("running"), "\(status.output)")

            let refused = await Self.run(["session", "start"] + config, in: harness)
            #expect(refused.code != 0, "a second start must fail: \(refused.output)")
            #expect(refused.output.contains("E_STATE"), "\(refused.output)")

            let stop = await Self.run(["session", "stop"] + config, in: harness)
            #expect(stop.code == 0, "\(stop.output)")
            #expect(await harness.linesRead(0))
        }
    }

    @Test func sessionStartWatch_followsTheSessionToItsEnd_andExitsZero() async throws {
        try await GatewayHarness.with { harness in
            let watched = await Self.run(
                ["session", "start", "--config", harness.configPath, "--duration", "2s", "--watch"], in: harness)
            #expect(watched.code == 0, "\(watched.output)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0, "--watch returned before the session ended")
            let completed = try await harness.waitForEvent(.completed)
            #expect(completed != nil)
        }
    }
}
