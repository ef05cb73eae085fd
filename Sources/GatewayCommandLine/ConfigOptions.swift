import ArgumentParser
import Foundation
import GatewayConfig

/// Shared `--config` / `--set` options: a file plus dotted-path overrides. A module of its own so
/// the daemon (`rlt-gateway`) and the fleet tools (`rlt-fleet`) read a config the same way without
/// one executable linking the other's dependencies.
public struct ConfigOptions: ParsableArguments, Sendable {
    @Option(name: .shortAndLong, help: "YAML config file (default: $RLT_CONFIG, else /etc/rlt-gateway/gateway.yaml when it exists).")
    public var config: String?

    @Option(name: .customLong("set"), help: "Override one key, e.g. --set mqtt.url=mqtt://127.0.0.1:18830 (repeatable).")
    public var overrides: [String] = []

    public init() {}

    /// The exit status of a configuration problem, the same for `check-config`, `run` and every
    /// command that reads the config. The systemd unit does not restart a daemon that exits with it
    /// (`RestartPreventExitStatus=2`): a broken file stays broken until someone fixes it.
    public static let configurationProblemExitCode: Int32 = 2

    /// Loads and validates. On a problem, prints each one with its key path on standard error, as
    /// `check-config` does, and exits with ``configurationProblemExitCode``.
    public func load() throws -> GatewayConfiguration {
        try self.loadRecording().0
    }

    /// Where an installed panel keeps its config: `session`, `history` and `doctor` on the board need
    /// no flags.
    public static let installedPath = "/etc/rlt-gateway/gateway.yaml"

    /// The config file this command reads: `--config`, else `RLT_CONFIG`, else ``installedPath`` when
    /// it exists; `nil` means the built-in defaults.
    public var path: String? {
        if let config = self.config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["RLT_CONFIG"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return FileManager.default.fileExists(atPath: Self.installedPath) ? Self.installedPath : nil
    }

    /// `FILE: key.path: message`, one line each, then the count, on standard error.
    public static func report(_ problems: [ConfigProblem], file: String) {
        for problem in problems { printError("\(file): \(problem)") }
        printError("\(problems.count) problem\(problems.count == 1 ? "" : "s")")
    }
}
