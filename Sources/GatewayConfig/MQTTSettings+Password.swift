import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension MQTTSettings {
    /// The environment variable that may hold the broker password when no `password_file` is set.
    public static let passwordEnvironmentVariable = "RLT_MQTT_PASSWORD"
    /// The systemd credential (`LoadCredential=mqtt-password:…` in the unit) holding the password.
    public static let passwordCredential = "mqtt-password"

    /// The broker password, from the first source that has one: the systemd credential
    /// `mqtt-password` (in `$CREDENTIALS_DIRECTORY`, when not empty), the first line of
    /// `password_file`, `RLT_MQTT_PASSWORD`; else `nil` (no password).
    ///
    /// The password never lives in the config file, so that the file can be shared, versioned and
    /// printed by `check-config` without leaking it. A trailing newline (as editors and `echo` write)
    /// is not part of the password. A credential lets the file stay root's (mode 0600): systemd hands
    /// the daemon a private copy. A `password_file` the daemon reads itself must be private: readable
    /// by nobody but its owner and group, writable by its owner only, owned by root or the daemon.
    /// - Throws: ``ConfigError`` naming `mqtt.password_file` when the file cannot be read, is empty or
    ///   is not private.
    public func resolvedPassword(environment: [String: String]) throws -> String? {
        if let directory = environment["CREDENTIALS_DIRECTORY"],
            case .success(let text) = readTextFile(directory + "/" + Self.passwordCredential),
            let password = Self.firstLine(text)
        {
            return password
        }
        guard let path = self.passwordFile else {
            return environment[Self.passwordEnvironmentVariable]
        }
        let contents: String
        switch readTextFile(path) {
        case .success(let text): contents = text
        case .failure(let error): throw Self.problem(error.description)
        }
        if let reason = Self.notPrivate(path) { throw Self.problem(reason) }
        guard let password = Self.firstLine(contents) else {
            throw Self.problem("\(path) is empty; it should hold the password")
        }
        return password
    }

    private static func problem(_ message: String) -> ConfigError {
        ConfigError(problems: [ConfigProblem(keyPath: "mqtt.password_file", message: message)])
    }

    /// `text` without its trailing line breaks; `nil` when nothing is left.
    private static func firstLine(_ text: String) -> String? {
        var password = Substring(text)
        while let last = password.last, last == "\n" || last == "\r" || last == "\r\n" {
            password = password.dropLast()
        }
        return password.isEmpty ? nil : String(password)
    }

    /// Why the file at `path` is not private enough for a secret, or `nil` when it is.
    static func notPrivate(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = info.st_mode & 0o777
        let octal = "0" + String(mode, radix: 8)
        if mode & 0o007 != 0 {
            return "\(path) is accessible to every user (mode \(octal)); make it private: chmod 600 \(path)"
        }
        if mode & 0o020 != 0 {
            return "\(path) is writable by its group (mode \(octal)); make it private: chmod 600 \(path)"
        }
        if info.st_uid != 0, info.st_uid != geteuid() {
            return "\(path) belongs to uid \(info.st_uid), neither root nor this daemon's user (uid \(geteuid()))"
        }
        return nil
    }
}
