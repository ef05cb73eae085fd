import Yams

/// One `--set key.path=value` from the command line.
///
/// Overrides are applied to the YAML node tree before decoding, so an overridden value is type-checked
/// and validated exactly like one written in the file (and a typo in its path is an unknown key).
struct ConfigOverride {
    /// The path's keys: `gpio.outputs.red.line` → `["gpio", "outputs", "red", "line"]`.
    var keys: [String]
    var value: Node

    /// Parses `key.path=value`.
    ///
    /// The value is a YAML scalar resolved as in a file (`900` is a number, `true` a boolean, `null`
    /// or nothing at all is null, anything else a string). A value starting with a quote, `[` or `{`
    /// is parsed as YAML flow text, so `'"5"'` forces a string and `[a, b]` gives a list.
    /// - Throws: ``ConfigError`` with one problem under the key path `--set`.
    static func parse(_ text: String) throws(ConfigError) -> ConfigOverride {
        guard let equals = text.firstIndex(of: "=") else {
            throw Self.problem("\"\(text)\" has no =; write --set key.path=value")
        }
        let path = text[..<equals].trimmingCharacters(in: .whitespaces)
        let rawValue = String(text[text.index(after: equals)...])
        guard !path.isEmpty else {
            throw Self.problem("\"\(text)\" has an empty key path; write --set key.path=value")
        }
        let keys = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard keys.allSatisfy({ !$0.isEmpty }) else {
            throw Self.problem("\"\(path)\" has an empty key; separate keys with single dots")
        }
        let trimmed = rawValue.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            return ConfigOverride(keys: keys, value: Node("null"))
        }
        if let first = trimmed.first, "\"'[{".contains(first) {
            do {
                let node = try Yams.compose(yaml: trimmed) ?? Node("null")
                return ConfigOverride(keys: keys, value: node)
            } catch {
                throw Self.problem("the value of \(path) is not valid YAML: \(rawValue)")
            }
        }
        return ConfigOverride(keys: keys, value: Node(rawValue))
    }

    private static func problem(_ message: String) -> ConfigError {
        ConfigError(problems: [ConfigProblem(keyPath: "--set", message: message)])
    }

    /// Sets the value in `root`, creating mappings along the path where keys are missing or null.
    func apply(to root: inout Node) -> ConfigProblem? {
        Self.set(self.value, at: self.keys[...], in: &root, walked: [])
    }

    private static func set(_ value: Node, at keys: ArraySlice<String>, in node: inout Node, walked: [String])
        -> ConfigProblem?
    {
        guard let key = keys.first else { return nil }
        guard case .mapping(var mapping) = node else {
            let here = walked.joined(separator: ".")
            return ConfigProblem(
                keyPath: "--set",
                message: "cannot set \((walked + keys).joined(separator: ".")): \(here) is \(describe(node)), "
                    + "not a mapping")
        }
        if keys.count == 1 {
            mapping[key] = value
        } else {
            var child = mapping[key] ?? Node([(Node, Node)]())
            if child.isNull { child = Node([(Node, Node)]()) }
            if let problem = Self.set(value, at: keys.dropFirst(), in: &child, walked: walked + [key]) {
                return problem
            }
            mapping[key] = child
        }
        node = .mapping(mapping)
        return nil
    }
}
