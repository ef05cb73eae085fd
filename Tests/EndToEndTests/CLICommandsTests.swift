import Foundation
import GatewayProtocol
import TestKit
import TestSupport
import Testing

/// The rest of the terminal client against the built daemon: pause, resume, ack, identify, status as
/// JSON, the history as JSON and CSV from a ledger opened read-only, the config found without flags,
/// and Ctrl-C while watching.
@Suite(.timeLimit(.minutes(10)))
struct CLICommandsTests {
    /// The environment of a command on an installed panel: no flags, the config found by `RLT_CONFIG`.
    static func installed(_ harness: GatewayHarness) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(["RLT_CONFIG": harness.configPath]) { $1 }
    }

    @Test func pauseResumeAckIdentify_andStatusAsJSON_withoutFlags() async throws {
        try await GatewayHarness.with { harness in
            let env = Self.installed(harness)
            let start = await CLIClientTests.run(["session", "start", "--duration", "1m"], in: harness, environment: env)
            #expect(start.code == 0, "\(start.output)")
            #expect(await harness.linesRead(1))

            let pause = await CLIClientTests.run(["session", "pause"], in: harness, environment: env)
            #expect(pause.code == 0, "\(pause.output)")
            #expect(await harness.linesRead(0))
            let status = await CLIClientTests.run(["session", "status", "--json"], in: harness, environment: env)
            #expect(status.code == 0, "\(status.output)")
            let document = try StateDocument(payload: Array(status.output.utf8))
            #expect(document.state == .paused, "\(status.output)")

            let resume = await CLIClientTests.run(["session", "resume"], in: harness, environment: env)
            #expect(resume.code == 0, "\(resume.output)")
            #expect(await harness.linesRead(1))
            let identify = await CLIClientTests.run(["session", "identify"], in: harness, environment: env)
            #expect(identify.code == 0, "\(identify.output)")
            // Nothing latched: ack all is answered (ok), and never starts anything.
            let ack = await CLIClientTests.run(["session", "ack"], in: harness, environment: env)
            #expect(ack.code == 0, "\(ack.output)")
            let refused = await CLIClientTests.run(["session", "ack", "F_GREMLIN"], in: harness, environment: env)
            #expect(refused.code == 1, "\(refused.output)")
            #expect(refused.output.contains("refused: E_"), "\(refused.output)")
            _ = await CLIClientTests.run(["session", "stop"], in: harness, environment: env)
            #expect(await harness.linesRead(0))
        }
    }

    @Test func history_asJSONAndCSV_readsTheLedgerWithoutChangingIt() async throws {
        try await GatewayHarness.with { harness in
            let env = Self.installed(harness)
            _ = try await harness.command(CommandRequest(id: "h1", command: "start", args: ["duration_s": 2]))
            #expect(try await harness.waitForEvent(.completed, timeout: .seconds(60)) != nil)
            let json = await CLIClientTests.run(["history", "--json"], in: harness, environment: env)
            #expect(json.code == 0, "\(json.output)")
            let sessions = try JSONValue.parse(Array(json.output.utf8))
            guard case .array(let rows) = sessions else {
                Issue.record("not a JSON array: \(json.output)")
                return
            }
            #expect(rows.count == 1)
            #expect(rows.first?["end"]?.stringValue == "duration", "\(json.output)")
            let csv = await CLIClientTests.run(["history", "--csv"], in: harness, environment: env)
            let lines = csv.output.split(separator: "\n")
            #expect(lines.first?.hasPrefix("session_id,started,ended,channels") == true, "\(csv.output)")
            #expect(lines.count == 2 && lines.last?.hasSuffix(",duration") == true, "\(csv.output)")

            // A ledger that is not there is reported, and not created.
            let absent = harness.directory.file("absent/ledger.sqlite")
            let missing = await CLIClientTests.run(
                ["history", "--set", "storage.path=\(absent)"], in: harness, environment: env)
            #expect(missing.code == 1, "\(missing.output)")
            #expect(missing.output.contains("no ledger here"), "\(missing.output)")
            #expect(!FileManager.default.fileExists(atPath: harness.directory.file("absent")))
        }
    }

    @Test func ctrlCWhileWatching_saysTheSessionGoesOn_andItDoes() async throws {
        try await GatewayHarness.with { harness in
            _ = try await harness.command(CommandRequest(id: "w1", command: "start"))
            #expect(await harness.linesRead(1))
            let output = harness.directory.file("watch.out")
            let watcher = try ChildProcess(
                executable: GatewayProcess.executablePath,
                arguments: ["session", "status", "--watch", "--config", harness.configPath], standardOutput: output,
                standardError: output)
            // Watching once it has printed the panel's answer.
            #expect(
                await eventually(timeout: .seconds(30)) {
                    ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("running")
                })
            watcher.send(signal: SIGINT)
            #expect(await watcher.waitForExit(timeout: .seconds(10)))
            #expect(watcher.exitCode == 130)
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(text.contains("the session goes on") && text.contains("rlt-gateway session stop"), "\(text)")
            let state = try await harness.barrier().state
            #expect(state == .running, "the watcher's Ctrl-C stopped the session")
            _ = try await harness.command(CommandRequest(id: "w2", command: "stop"))
        }
    }
}
