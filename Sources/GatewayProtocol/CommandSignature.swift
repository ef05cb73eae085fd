import Crypto

/// Signs and verifies commands with a panel's key: HMAC-SHA256 over ``canonicalForm(topic:id:command:ts:ttlMs:args:)``.
///
/// One job: turn a command's meaning into bytes every signer agrees on, and compare MACs. Whether a
/// signature is *required*, and what a missing or wrong one means, is the core's decision
/// (``SafetySettings/Signing``), taken where the rest of the admission order lives.
///
/// The canonical form is built from the *decoded* envelope, never from the payload's bytes, so a Python
/// `json.dumps`, a shell `printf` and this module may lay out the JSON differently and still agree. It
/// includes the topic the command arrived on: a command signed for one panel's `cmd` (or one fleet topic)
/// does not verify on another panel that shares the key, nor on a fleet topic.
public struct CommandSignature: Sendable {
    /// Shortest accepted key: HMAC-SHA256's own block of security (RFC 2104 advises at least the hash size).
    public static let minimumKeyBytes = 32
    /// First line of the canonical form: a later, different form gets a new tag instead of a silent mismatch.
    public static let version = "rlt-cmd-v1"

    private let key: SymmetricKey

    /// - Precondition: `key` has at least ``minimumKeyBytes`` bytes (the config refuses shorter ones).
    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// The lowercase hex HMAC-SHA256 of `canonical` under this key.
    public func sign(_ canonical: [UInt8]) -> String {
        Self.hex(Array(HMAC<SHA256>.authenticationCode(for: canonical, using: self.key)))
    }

    /// Whether `signature` (hex, 64 digits, either case) is the MAC of `canonical`; compared in constant
    /// time (swift-crypto's `isValidAuthenticationCode`), so timing tells an attacker nothing about how
    /// many leading bytes were right.
    public func verify(_ signature: String, over canonical: [UInt8]) -> Bool {
        guard let mac = Self.bytes(fromHex: signature), mac.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: canonical, using: self.key)
    }

    /// The bytes a signature covers, lines joined by `\n` (no trailing newline):
    ///
    ///     rlt-cmd-v1
    ///     <topic the command is published on>
    ///     <id, or empty>
    ///     <cmd>
    ///     <ts, decimal>
    ///     <ttl_ms, decimal>
    ///     <args as canonical JSON; {} when absent or null>
    ///
    /// Canonical JSON: object keys sorted by Unicode code point, no whitespace, strings with only `"`, `\`
    /// and control characters escaped (`\n`, `\r`, `\t`, else `\u00xx`, lowercase hex), other characters as
    /// UTF-8; integral numbers below 10^15 in magnitude as plain integers, others as the shortest decimal
    /// that reads back as the same double.
    public static func canonicalForm(
        topic: String, id: String?, command: String, ts: Int64, ttlMs: Int64, args: JSONValue?
    ) -> [UInt8] {
        var out: [UInt8] = []
        for line in [Self.version, topic, id ?? "", command, String(ts), String(ttlMs)] {
            out.append(contentsOf: line.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        switch args {
        case nil, .null?: out.append(contentsOf: "{}".utf8)
        case let value?: Self.writeCanonical(value, into: &out)
        }
        return out
    }

    /// A signed copy of a command envelope for the CLI and fleet tools: `ts`, `ttl_ms` and `sig` set.
    ///
    /// - Returns: the payload to publish, laid out by ``JSONValue``'s writer (any layout verifies).
    public func signedPayload(
        topic: String, id: String?, command: String, args: JSONValue?, ts: Int64, ttlMs: Int64
    ) -> [UInt8] {
        let canonical = Self.canonicalForm(topic: topic, id: id, command: command, ts: ts, ttlMs: ttlMs, args: args)
        var members: [(String, JSONValue)] = []
        if let id { members.append(("id", .string(id))) }
        members.append(("cmd", .string(command)))
        if let args, args != .null { members.append(("args", args)) }
        members.append(("ts", .number(Double(ts))))
        members.append(("ttl_ms", .number(Double(ttlMs))))
        members.append(("sig", .string(self.sign(canonical))))
        return JSONValue.object(members).bytes
    }

    // MARK: - Canonical JSON

    private static func writeCanonical(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // Code-point order, not Swift's `String <`, which compares by grapheme and would differ from
            // Python's `sort_keys=True` for some non-ASCII keys.
            let sorted = members.sorted {
                Array($0.0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.0.unicodeScalars.map(\.value))
            }
            for (index, member) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.0, into: &out)
                out.append(UInt8(ascii: ":"))
                Self.writeCanonical(member.1, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeCanonical(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            value.write(into: &out)
        }
    }

    // MARK: - Hex

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hex string, or `nil` when it is not one.
    public static func bytes(fromHex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
