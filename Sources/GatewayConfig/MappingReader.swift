import Yams

/// Reads typed values out of one YAML mapping, recording every problem instead of throwing.
///
/// Each accessor takes the key's default, so a missing key costs nothing and a wrong one is reported
/// with its full key path and falls back to the default; the rest of the file is still read and
/// checked. Every key asked for is remembered, so ``finish()`` can name the keys nobody asked for
/// (typos) and suggest the closest known one.
final class MappingReader {
    /// Dotted path of this mapping (`gpio.outputs`); empty at the top level.
    let path: String
    private let mapping: Node.Mapping?
    private let log: ProblemLog
    private var known: [String] = []

    init(path: String, node: Node?, log: ProblemLog) {
        self.path = path
        self.log = log
        switch node {
        case .mapping(let mapping)?:
            self.mapping = mapping
        case nil:
            self.mapping = nil
        case let node?:
            if !node.isNull {
                log.add(path, "expected a mapping, got \(describe(node))")
            }
            self.mapping = nil
        }
    }

    func keyPath(_ key: String) -> String { joinPath(self.path, key) }

    /// The value under `key`, `nil` when the key is absent; marks `key` as known.
    func node(_ key: String) -> Node? {
        self.known.append(key)
        guard let mapping = self.mapping else { return nil }
        for (candidate, value) in mapping where candidate.scalar?.string == key {
            return value
        }
        return nil
    }

    /// Records a problem with the value under `key`.
    func problem(_ key: String, _ message: String) {
        self.log.add(self.keyPath(key), message)
    }

    /// Reports `key` with `message` when present: a key this file must never hold (`mqtt.password`).
    func refuse(_ key: String, _ message: String) {
        if self.node(key) != nil {
            self.log.add(self.keyPath(key), message)
        }
    }

    /// Reports every key of the mapping that no accessor asked for.
    func finish() {
        guard let mapping = self.mapping else { return }
        for key in mapping.keys {
            let name = key.scalar?.string ?? "\(key)"
            guard !self.known.contains(name) else { continue }
            if let suggestion = closestMatch(to: name, in: self.known) {
                self.log.add(self.keyPath(name), "unknown key; did you mean \(suggestion)?")
            } else {
                let expected = self.known.joined(separator: ", ")
                self.log.add(self.keyPath(name), "unknown key; expected one of: \(expected)")
            }
        }
    }

    // MARK: Nested mappings

    /// Reads the mapping under `key` (absent or null: every key takes its default).
    func section<T>(_ key: String, _ body: (MappingReader) -> T) -> T {
        let child = MappingReader(path: self.keyPath(key), node: self.node(key), log: self.log)
        defer { child.finish() }
        return body(child)
    }

    /// Reads an optional mapping: absent keeps `defaultValue`, `null` turns it off, a mapping is read by `body`.
    func optionalSection<T>(_ key: String, default defaultValue: T?, _ body: (MappingReader) -> T?) -> T? {
        guard let node = self.node(key) else { return defaultValue }
        if node.isNull { return nil }
        guard case .mapping = node else {
            self.log.add(self.keyPath(key), "expected a mapping or null, got \(describe(node))")
            return defaultValue
        }
        let child = MappingReader(path: self.keyPath(key), node: node, log: self.log)
        defer { child.finish() }
        return body(child)
    }

    // MARK: Scalars

    func int(_ key: String, default defaultValue: Int) -> Int {
        guard let node = self.node(key) else { return defaultValue }
        return self.intValue(node, at: self.keyPath(key)) ?? defaultValue
    }

    /// An integer the key must give because it has no sensible default (an optional line's offset).
    func requiredInt(_ key: String) -> Int? {
        guard let node = self.node(key) else {
            self.log.add(self.keyPath(key), "missing; expected an integer")
            return nil
        }
        return self.intValue(node, at: self.keyPath(key))
    }

    func double(_ key: String, default defaultValue: Double) -> Double {
        guard let node = self.node(key) else { return defaultValue }
        return self.doubleValue(node, at: self.keyPath(key), nullable: false) ?? defaultValue
    }

    /// A number or `null`.
    func optionalDouble(_ key: String, default defaultValue: Double?) -> Double? {
        guard let node = self.node(key) else { return defaultValue }
        if node.isNull { return nil }
        return self.doubleValue(node, at: self.keyPath(key), nullable: true) ?? defaultValue
    }

    func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let node = self.node(key) else { return defaultValue }
        if node.tagName == .bool, let value = node.bool { return value }
        self.log.add(self.keyPath(key), "expected true or false, got \(describe(node))")
        return defaultValue
    }

    func string(_ key: String, default defaultValue: String) -> String {
        guard let node = self.node(key) else { return defaultValue }
        return self.stringValue(node, at: self.keyPath(key), nullable: false) ?? defaultValue
    }

    /// A string or `null`.
    func optionalString(_ key: String, default defaultValue: String?) -> String? {
        guard let node = self.node(key) else { return defaultValue }
        if node.isNull { return nil }
        return self.stringValue(node, at: self.keyPath(key), nullable: true) ?? defaultValue
    }

    /// One of an enumeration's raw values.
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: E) -> E
    where E.RawValue == String {
        guard let node = self.node(key) else { return defaultValue }
        let allowed = E.allCases.map(\.rawValue)
        guard case .scalar(let scalar) = node, !node.isNull else {
            self.log.add(self.keyPath(key), "expected one of \(allowed.joined(separator: ", ")), got \(describe(node))")
            return defaultValue
        }
        if let value = E(rawValue: scalar.string) { return value }
        var message = "\"\(scalar.string)\" is not one of \(allowed.joined(separator: ", "))"
        if let suggestion = closestMatch(to: scalar.string, in: allowed) {
            message += "; did you mean \(suggestion)?"
        }
        self.log.add(self.keyPath(key), message)
        return defaultValue
    }

    /// A list of strings (`null` is the empty list).
    func stringList(_ key: String, default defaultValue: [String]) -> [String] {
        guard let node = self.node(key) else { return defaultValue }
        if node.isNull { return [] }
        guard case .sequence(let sequence) = node else {
            self.log.add(self.keyPath(key), "expected a list of strings, got \(describe(node))")
            return defaultValue
        }
        var values: [String] = []
        for (index, element) in sequence.enumerated() {
            if let value = self.stringValue(element, at: "\(self.keyPath(key))[\(index)]", nullable: false) {
                values.append(value)
            }
        }
        return values
    }

    // MARK: Conversions

    private func intValue(_ node: Node, at keyPath: String) -> Int? {
        if node.tagName == .int, let value = node.int { return value }
        self.log.add(keyPath, "expected an integer, got \(describe(node))")
        return nil
    }

    private func doubleValue(_ node: Node, at keyPath: String, nullable: Bool) -> Double? {
        let value: Double? =
            switch node.tagName {
            case .int: node.int.map(Double.init)
            case .float: node.float
            default: nil
            }
        if let value, value.isFinite { return value }
        self.log.add(keyPath, "expected a number\(nullable ? " or null" : ""), got \(describe(node))")
        return nil
    }

    /// Any non-null scalar, as written: `name: 2024` is the string `2024`.
    private func stringValue(_ node: Node, at keyPath: String, nullable: Bool) -> String? {
        if case .scalar(let scalar) = node, !node.isNull { return scalar.string }
        self.log.add(keyPath, "expected a string\(nullable ? " or null" : ""), got \(describe(node))")
        return nil
    }
}

extension Node {
    /// The resolved tag's name (`Tag.name` itself is not public in Yams).
    var tagName: Tag.Name { Tag.Name(rawValue: self.tag.rawValue) }

    /// Whether this is YAML's null (`null`, `~`, or nothing after the colon).
    var isNull: Bool {
        if case .scalar = self { return self.tagName == .null }
        return false
    }
}

/// How a problem message names a value the user wrote.
func describe(_ node: Node) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    case .scalar(let scalar):
        switch node.tagName {
        case .null: return "null"
        case .bool: return scalar.string
        case .int, .float: return "the number \(scalar.string)"
        default: return "the string \"\(scalar.string)\""
        }
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo.
func closestMatch(to word: String, in candidates: [String]) -> String? {
    let limit = max(1, min(3, word.count / 3))
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(word.lowercased(), candidate.lowercased())
        if distance <= limit, distance < (best?.distance ?? Int.max) {
            best = (candidate, distance)
        }
    }
    return best?.candidate
}

/// Edit distance between two strings counting insertions, deletions, substitutions and swaps of
/// neighbouring characters (optimal string alignment), since `lien` for `line` is a typical typo.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
            }
        }
    }
    return table[a.count][b.count]
}
