import Foundation

extension MQTTSettings {
    /// The environment variable that may hold the broker password when no `password_file` is set.
    public static let passwordEnvironmentVariable = "RLT_MQTT_PASSWORD"

    /// The broker password: the first line of `password_file` when set, else `RLT_MQTT_PASSWORD`,
    /// else `nil` (no password).
    ///
    /// The password never lives in the config file, so that the file can be shared, versioned and
    /// printed by `check-config` without leaking it. A trailing newline (as editors and `echo` write)
    /// is not part of the password.
    /// - Throws: ``ConfigError`` naming `mqtt.password_file` when the file cannot be read or is empty.
    public func resolvedPassword(environment: [String: String]) throws -> String? {
        guard let path = self.passwordFile else {
            return environment[Self.passwordEnvironmentVariable]
        }
        let contents: String
        switch readTextFile(path) {
        case .success(let text): contents = text
        case .failure(let error):
            throw ConfigError(problems: [ConfigProblem(keyPath: "mqtt.password_file", message: error.description)])
        }
        var password = Substring(contents)
        while let last = password.last, last == "\n" || last == "\r" || last == "\r\n" {
            password = password.dropLast()
        }
        guard !password.isEmpty else {
            throw ConfigError(problems: [
                ConfigProblem(keyPath: "mqtt.password_file", message: "\(path) is empty; it should hold the password")
            ])
        }
        return String(password)
    }
}
