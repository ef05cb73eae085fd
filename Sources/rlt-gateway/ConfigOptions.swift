import ArgumentParser
import Gateway
import GatewayConfig

/// Shared `--config` / `--set` options: a file plus dotted-path overrides.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "YAML config file.")
    var config: String?

    @Option(name: .customLong("set"), help: "Override one key, e.g. --set mqtt.url=mqtt://127.0.0.1:18830 (repeatable).")
    var overrides: [String] = []

    /// Loads and validates; every problem is printed with its key path.
    func load() throws -> GatewayConfiguration {
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

enum GatewayVersionText {
    static let current = GatewayVersion.current
}
