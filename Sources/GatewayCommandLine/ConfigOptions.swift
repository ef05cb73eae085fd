import ArgumentParser
import GatewayConfig

/// Shared `--config` / `--set` options: a file plus dotted-path overrides. A module of its own so
/// the daemon (`rlt-gateway`) and the fleet tools (`rlt-fleet`) read a config the same way without
/// one executable linking the other's dependencies.
public struct ConfigOptions: ParsableArguments, Sendable {
    @Option(name: .shortAndLong, help: "YAML config file.")
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
        do {
            if let path = self.config {
                return try ConfigLoader.load(path: path, overrides: self.overrides)
            }
            return try ConfigLoader.parse(yaml: "{}", overrides: self.overrides)
        } catch let error as ConfigError {
            Self.report(error.problems, file: self.config ?? "defaults")
            throw ExitCode(Self.configurationProblemExitCode)
        }
    }

    /// `FILE: key.path: message`, one line each, then the count, on standard error.
    public static func report(_ problems: [ConfigProblem], file: String) {
        for problem in problems { printError("\(file): \(problem)") }
        printError("\(problems.count) problem\(problems.count == 1 ? "" : "s")")
    }
}
