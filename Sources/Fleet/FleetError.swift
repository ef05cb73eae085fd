/// Why a fleet tool cannot do what it was asked; the message says what was wrong and what would be right.
public struct FleetError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidPrefix
        case invalidGroup
        case invalidListenAddress
        case server
    }

    private let code: Code
    public let message: String

    public var description: String { self.message }

    static func invalidPrefix(_ prefix: String) -> FleetError {
        FleetError(
            code: .invalidPrefix,
            message:
                "topic prefix '\(prefix)' is not usable; give a non-empty prefix without + or # or empty levels, e.g. rlt"
        )
    }

    static func invalidGroup(_ group: String) -> FleetError {
        FleetError(
            code: .invalidGroup,
            message: "group '\(group)' is not a valid group name; use 1–32 characters from a–z, 0–9 and -")
    }

    static func invalidListenAddress(_ address: String) -> FleetError {
        FleetError(
            code: .invalidListenAddress,
            message: "listen address '\(address)' is not usable; give an IPv4 address such as 127.0.0.1 or 0.0.0.0")
    }

    static func server(_ detail: String) -> FleetError {
        FleetError(code: .server, message: "the metrics HTTP server failed: \(detail)")
    }
}
