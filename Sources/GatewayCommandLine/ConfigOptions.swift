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

    /// Loads and validates; every problem is printed with its key path.
    public func load() throws -> GatewayConfiguration {
        do {
            if let path = self.config {
                return try ConfigLoader.load(path: path, overrides: self.overrides)
            }
            return try ConfigLoader.parse(yaml: "{}", overrides: self.overrides)
        } catch let error as ConfigError {
            throw ValidationError("invalid configuration:\n" + error.problems.map { "  \($0)" }.joined(separator: "\n"))
        }
    }
}
