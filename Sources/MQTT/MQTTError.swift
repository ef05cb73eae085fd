/// A problem found in an MQTT configuration or reported by libmosquitto.
///
/// A struct around a private code, so new cases can be added without breaking callers; the message
/// says what was wrong and what would be right.
public struct MQTTError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidConfiguration
        case library
    }

    private let code: Code
    /// What was wrong and, where known, what would be right.
    public let message: String

    private init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// A configuration value that cannot work.
    public static func invalidConfiguration(_ message: String) -> MQTTError {
        MQTTError(code: .invalidConfiguration, message: message)
    }

    /// A libmosquitto call that failed.
    static func library(_ message: String) -> MQTTError {
        MQTTError(code: .library, message: message)
    }

    public var isInvalidConfiguration: Bool { self.code == .invalidConfiguration }

    public var description: String { self.message }
}
