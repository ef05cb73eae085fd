/// A GPIO failure, with a message naming the chip, the line and the consumer involved.
///
/// Match on ``code`` (a struct of static members, so cases can be added without breaking callers); show
/// ``description`` to people.
public struct GPIOError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case chipNotFound, permissionDenied, chipOpenFailed, lineNotFound, lineOutOfRange, lineBusy
            case requestFailed, ioFailed, invalidConfiguration, unknownLine, closed, pwmFailed
        }
        private let base: Base

        /// No chip by that name, path, number or label (or no simulated chip directory).
        public static let chipNotFound = Code(base: .chipNotFound)
        /// The chip exists but this user may not open it.
        public static let permissionDenied = Code(base: .permissionDenied)
        /// Opening the chip failed for another reason.
        public static let chipOpenFailed = Code(base: .chipOpenFailed)
        /// No line with the configured line name on the chip.
        public static let lineNotFound = Code(base: .lineNotFound)
        /// The offset is not below the chip's number of lines.
        public static let lineOutOfRange = Code(base: .lineOutOfRange)
        /// Another consumer holds the line.
        public static let lineBusy = Code(base: .lineBusy)
        /// The kernel refused the line request for another reason.
        public static let requestFailed = Code(base: .requestFailed)
        /// Setting or reading a requested line failed.
        public static let ioFailed = Code(base: .ioFailed)
        /// The specs contradict themselves (duplicate names or lines, negative offsets).
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// A name passed to ``GPIOController/set(_:)`` is not a configured output.
        public static let unknownLine = Code(base: .unknownLine)
        /// The controller was closed.
        public static let closed = Code(base: .closed)
        /// A sysfs PWM channel could not be exported, configured or written (``SysfsPWM``).
        public static let pwmFailed = Code(base: .pwmFailed)

        public var description: String { self.base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// The full explanation: what was wrong and what would be right.
    public let message: String
    /// The errno behind the failure, when there is one.
    public let errno: Int32?

    package init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { self.message }
}
