import Foundation
import SafetyCore

/// The panel's command key and the signing rule it puts in force.
public struct ResolvedSigning: Sendable, Hashable {
    /// The key's bytes, `nil` when no key is configured.
    public var key: [UInt8]?
    /// The rule for the core: required, and the replay window.
    public var rule: SafetySettings.Signing
}

extension ResolvedSigning: CustomStringConvertible {
    /// Whether there is a key and what the rule is, never the key's bytes (the default description of
    /// a struct prints every field, and this one is interpolated in logs and test failures).
    public var description: String {
        "ResolvedSigning(key: \(self.key == nil ? "none" : "set"), required: \(self.rule.required), "
            + "replay window: \(self.rule.replayWindowSeconds) s)"
    }
}

extension SigningSettings {
    /// The systemd credential (`LoadCredential=command-key:…` in the unit) holding the command key.
    public static let keyCredential = "command-key"
    /// Shortest key in bytes once decoded: HMAC-SHA256's hash size.
    public static let minimumKeyBytes = 32
    /// `replay_window_s`: shorter than a few seconds refuses commands over any real broker and clock skew;
    /// longer than five minutes keeps a captured command replayable (and remembered) for too long.
    public static let replayWindowBounds: ClosedRange<Double> = 5...300
}

extension SigningSettings {
    /// The key in the file at `path`, held to the daemon's rules (private, hex or base64, ≥ 32 bytes), for
    /// every tool that signs (`rlt-fleet stop --key-file`).
    /// - Throws: ``ConfigError`` naming `commands.signing.key_file`.
    public static func readKey(path: String) throws -> [UInt8] {
        let text: String
        switch readTextFile(path) {
        case .success(let contents): text = contents
        case .failure(let error): throw GatewayConfiguration.signingProblem("key_file", error.description)
        }
        if let reason = MQTTSettings.notPrivate(path) { throw GatewayConfiguration.signingProblem("key_file", reason) }
        return try GatewayConfiguration.decodeKey(text, source: path)
    }
}

extension GatewayConfiguration {
    /// The command key and whether signing is required, from the first source that has a key: the systemd
    /// credential `command-key` (in `$CREDENTIALS_DIRECTORY`, when not empty), then `commands.signing.key_file`.
    ///
    /// The rules mirror `mqtt.password_file` (``MQTTSettings/resolvedPassword(environment:)``): the key is a
    /// secret and never in the YAML; a key file the daemon reads itself must be private. `required` defaults
    /// to "a key was found", so configuring a key is enough to turn signing on, while `required: false` with a
    /// key lets a fleet be migrated (clients sign, the panel does not insist yet). `required: true` without a
    /// key is refused: a panel that can verify nothing must not pretend to insist on signatures.
    /// - Throws: ``ConfigError`` naming `commands.signing.key_file` (unreadable, not private, not hex or
    ///   base64, shorter than 32 bytes) or `commands.signing.required` (true, but no key).
    public func resolvedSigning(environment: [String: String]) throws -> ResolvedSigning {
        let settings = self.commands.signing
        var key: [UInt8]?
        if let directory = environment["CREDENTIALS_DIRECTORY"],
            case .success(let text) = readTextFile(directory + "/" + SigningSettings.keyCredential),
            !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        {
            key = try Self.decodeKey(text, source: "the credential \(SigningSettings.keyCredential)")
        } else if let path = settings.keyFile {
            key = try SigningSettings.readKey(path: path)
        }
        let required = settings.required ?? (key != nil)
        if required, key == nil {
            throw Self.signingProblem(
                "required",
                "true, but no key: set commands.signing.key_file or provide the systemd credential "
                    + SigningSettings.keyCredential)
        }
        return ResolvedSigning(
            key: key,
            rule: SafetySettings.Signing(required: required, replayWindowSeconds: settings.replayWindowSeconds))
    }

    /// Hex (tried first: `openssl rand -hex 32`) or base64 (`openssl rand -base64 32`), surrounding
    /// whitespace ignored; at least ``SigningSettings/minimumKeyBytes`` bytes.
    static func decodeKey(_ text: String, source: String) throws -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw Self.signingProblem("key_file", "\(source) is empty; it should hold the key (openssl rand -hex 32)")
        }
        let key: [UInt8]
        if let hex = Self.hexBytes(trimmed) {
            key = hex
        } else if let data = Data(base64Encoded: trimmed) {
            key = Array(data)
        } else {
            throw Self.signingProblem(
                "key_file", "\(source) holds neither hex nor base64; write it with openssl rand -hex 32")
        }
        guard key.count >= SigningSettings.minimumKeyBytes else {
            throw Self.signingProblem(
                "key_file",
                "\(source) holds a \(key.count)-byte key; at least \(SigningSettings.minimumKeyBytes) bytes are needed "
                    + "(openssl rand -hex 32)")
        }
        return key
    }

    /// The bytes of `text` when it is an even number of hex digits, else `nil`.
    private static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        // Digits only: `UInt8(_:radix:)` alone would also take a sign (`+a`), which base64 text can hold.
        let isHexDigit = { (byte: UInt8) in
            (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
        }
        guard digits.count % 2 == 0, digits.allSatisfy(isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }

    static func signingProblem(_ key: String, _ message: String) -> ConfigError {
        ConfigError(problems: [ConfigProblem(keyPath: "commands.signing." + key, message: message)])
    }
}
