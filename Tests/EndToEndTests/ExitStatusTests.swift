import Foundation
import TestKit
import TestSupport
import Testing

/// Exit statuses agree between commands (README, "Exit status"): a configuration problem is 2 for
/// `check-config` and for `run` alike (the unit's `RestartPreventExitStatus=2` keeps systemd from
/// restarting a daemon that cannot start), listed with its key path on standard error, nothing on
/// standard output.
@Suite struct ExitStatusTests {
    struct Outcome {
        var code: Int32?
        var output: String
        var errors: String
    }

    static func run(_ arguments: [String], in directory: TemporaryDirectory) async throws -> Outcome {
        let out = directory.file("out-\(UUID().uuidString)")
        let err = directory.file("err-\(UUID().uuidString)")
        let child = try ChildProcess(
            executable: GatewayProcess.executablePath, arguments: arguments, standardOutput: out, standardError: err)
        if !(await child.waitForExit(timeout: .seconds(60))) { await child.terminate() }
        return Outcome(
            code: child.exitCode, output: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            errors: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    @Test func configurationProblem_isExit2_onStandardError_forCheckConfigAndRun() async throws {
        let directory = try TemporaryDirectory(prefix: "rlt-exit")
        defer { directory.remove() }
        let config = try directory.write("bad.yaml", "limits: { max_session_s: 7200 }\n")
        for command in ["check-config \(config)", "run --config \(config)"] {
            let outcome = try await Self.run(command.split(separator: " ").map(String.init), in: directory)
            #expect(outcome.code == 2, "\(command): \(outcome.errors)")
            #expect(outcome.errors.contains("limits.max_session_s"), "\(command): \(outcome.errors)")
            #expect(outcome.output.isEmpty, "\(command) wrote to standard output: \(outcome.output)")
        }
    }

    @Test func passwordFileEveryoneCanRead_stopsRunWithExit2_beforeAnyLine() async throws {
        let directory = try TemporaryDirectory(prefix: "rlt-exit")
        defer { directory.remove() }
        let password = try directory.write("mqtt-password", "s3cret\n", mode: 0o644)
        let config = try directory.write(
            "gateway.yaml",
            """
            mqtt: { url: "mqtt://127.0.0.1:1", username: panel-1, password_file: \(password) }
            gpio: { backend: simulated, sim_dir: \(directory.file("gpio")) }
            sensor: { type: simulated }
            storage: { path: \(directory.file("ledger.sqlite")) }
            """)
        let outcome = try await Self.run(["run", "--config", config], in: directory)
        #expect(outcome.code == 2, "\(outcome.errors)")
        #expect(outcome.errors.contains("mqtt.password_file") && outcome.errors.contains("chmod 600"), "\(outcome.errors)")
        #expect(!outcome.errors.contains("s3cret"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("gpio")), "run touched the GPIO chip")
    }
}
