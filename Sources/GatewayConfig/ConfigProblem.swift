/// One thing wrong with a configuration, named by the key path a user would edit.
///
/// The description is what `rlt-gateway check-config` prints, one per line:
/// `limits.max_session_s: 7200 is above the hard limit 3600`.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the offending key (`gpio.outputs.red.line`), `--set` for a malformed override,
    /// or the file name for a file that cannot be read or parsed.
    public var keyPath: String
    /// What was wrong and what would be right.
    public var message: String

    public init(keyPath: String, message: String) {
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String { "\(self.keyPath): \(self.message)" }
}

/// A configuration that cannot be used, with every problem found in it.
///
/// Loading never stops at the first problem: a user fixing a file should see all of them at once.
public struct ConfigError: Error, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        switch self.problems.count {
        case 0: "invalid configuration"
        case 1: "invalid configuration: \(self.problems[0])"
        default:
            "invalid configuration (\(self.problems.count) problems):\n"
                + self.problems.map { "  \($0)" }.joined(separator: "\n")
        }
    }
}

/// Collects problems while a config is decoded and validated.
///
/// A class so that nested readers can append to one list without threading `inout` everywhere;
/// it lives only for the duration of one synchronous load.
final class ProblemLog {
    private(set) var problems: [ConfigProblem] = []

    func add(_ keyPath: String, _ message: String) {
        self.problems.append(ConfigProblem(keyPath: keyPath, message: message))
    }

    func append(contentsOf problems: [ConfigProblem]) {
        self.problems.append(contentsOf: problems)
    }
}

/// Renders a number the way a user wrote it: `7200`, not `7200.0`.
func formatNumber(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
        return String(Int64(value))
    }
    return String(value)
}

/// Joins a parent key path and a key (`limits` + `cutoff_c`).
func joinPath(_ parent: String, _ key: String) -> String {
    parent.isEmpty ? key : "\(parent).\(key)"
}
