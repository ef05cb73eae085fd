/// The secrets one daemon start needs, read once: the broker password and the command key.
///
/// `run` reads them before any line is touched, so a missing or public file is a configuration problem
/// (exit 2, no restart loop), and hands these values to the service. Reading the files again later would
/// let a file changed in between turn into a runtime failure (exit 1, a restart loop) or give the
/// connection a different password from the one checked.
public struct GatewaySecrets: Sendable {
    /// From `mqtt.password_file`, the credential or `RLT_MQTT_PASSWORD`; `nil` when none is configured.
    public var mqttPassword: String?
    /// The command key (if any) and the signing rule it puts in force.
    public var signing: ResolvedSigning

    public init(mqttPassword: String?, signing: ResolvedSigning) {
        self.mqttPassword = mqttPassword
        self.signing = signing
    }
}

extension GatewaySecrets: CustomStringConvertible {
    /// Says which secrets are present and never what they are, so no interpolation can log one.
    public var description: String {
        "GatewaySecrets(password: \(self.mqttPassword == nil ? "none" : "set"), "
            + "command key: \(self.signing.key == nil ? "none" : "set"), signing required: \(self.signing.rule.required))"
    }
}

extension GatewayConfiguration {
    /// The password and the command key, each held to its rules (see ``resolvedPassword(environment:)``
    /// and ``resolvedSigning(environment:)``).
    /// - Throws: ``ConfigError`` naming the key path of the first secret that is missing, public or malformed.
    public func resolvedSecrets(environment: [String: String]) throws -> GatewaySecrets {
        GatewaySecrets(
            mqttPassword: try self.resolvedPassword(environment: environment),
            signing: try self.resolvedSigning(environment: environment))
    }
}
