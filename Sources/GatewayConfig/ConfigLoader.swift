import Yams

/// Reads, overrides, decodes and validates the gateway's YAML configuration.
///
/// Every entry point reports all problems at once: type errors, unknown keys, bounds and cross-field
/// rules, so `rlt-gateway check-config` can list everything a user must fix in one run.
public enum ConfigLoader {
    /// Loads the file at `path`, applies `--set` overrides and validates the result.
    ///
    /// - Parameters:
    ///   - path: The YAML file.
    ///   - overrides: `key.path=value` strings, applied in order after the file is read.
    /// - Throws: ``ConfigError`` with every problem; an unreadable file is one problem whose key path
    ///   is the file's path.
    public static func load(path: String, overrides: [String] = []) throws -> GatewayConfiguration {
        try self.parse(yaml: try self.read(path: path), overrides: overrides, source: path)
    }

    /// The text of the config file at `path`.
    ///
    /// - Throws: ``ConfigError`` with one problem whose key path is the file's path and whose message
    ///   is the operating system's reason (or "not UTF-8 text").
    public static func read(path: String) throws(ConfigError) -> String {
        switch readTextFile(path) {
        case .success(let text): return text
        case .failure(let error): throw ConfigError(problems: [ConfigProblem(keyPath: path, message: error.description)])
        }
    }

    /// Parses YAML text, applies `--set` overrides and validates the result.
    ///
    /// - Parameter source: Names the text in syntax-error problems (the file path when loading a file).
    /// - Throws: ``ConfigError`` with every problem.
    public static func parse(yaml: String, overrides: [String] = [], source: String = "<yaml>")
        throws -> GatewayConfiguration
    {
        let (config, problems) = self.evaluate(yaml: yaml, overrides: overrides, source: source)
        guard let config, problems.isEmpty else {
            throw ConfigError(problems: problems)
        }
        return config
    }

    /// The defaults (README rule table, docs/DESIGN.md "Configuration"): what an empty config file gives.
    public static func `default`() -> GatewayConfiguration {
        GatewayConfiguration()
    }

    /// Every problem with the file at `path` under `overrides`; empty when it loads.
    ///
    /// For `rlt-gateway check-config`. Warnings (``GatewayConfiguration/warnings``) are not included.
    public static func check(path: String, overrides: [String]) -> [ConfigProblem] {
        switch readTextFile(path) {
        case .success(let text):
            return self.evaluate(yaml: text, overrides: overrides, source: path).1
        case .failure(let error):
            return [ConfigProblem(keyPath: path, message: error.description)]
        }
    }

    /// Decodes and validates; returns the config when the text could be decoded at all, and the problems.
    static func evaluate(yaml: String, overrides: [String], source: String) -> (GatewayConfiguration?, [ConfigProblem])
    {
        let log = ProblemLog()
        var root: Node
        do {
            root = try Yams.compose(yaml: yaml) ?? Node([(Node, Node)]())
        } catch let error as YamlError {
            return (nil, [ConfigProblem(keyPath: source, message: Self.describeYAMLError(error))])
        } catch {
            return (nil, [ConfigProblem(keyPath: source, message: "not valid YAML: \(error)")])
        }
        if root.isNull { root = Node([(Node, Node)]()) }
        guard case .mapping = root else {
            let message = "the top level must be a mapping of sections (device:, mqtt:, …), not \(describe(root))"
            return (nil, [ConfigProblem(keyPath: source, message: message)])
        }
        for text in overrides {
            do {
                let override = try ConfigOverride.parse(text)
                if let problem = override.apply(to: &root) {
                    log.append(contentsOf: [problem])
                }
            } catch {
                log.append(contentsOf: error.problems)
            }
        }
        let config = GatewayConfiguration.decode(MappingReader(path: "", node: root, log: log))
        log.append(contentsOf: config.validate())
        return (config, log.problems)
    }

    /// A one-line syntax error with its position, instead of Yams's multi-line snippet.
    private static func describeYAMLError(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "YAML syntax error at line \(mark.line), column \(mark.column): \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().joined(separator: ", ")
            return "duplicate key \(keys) near line \(context.mark.line); each key may appear once"
        default:
            return "not valid YAML: \(error)"
        }
    }
}
