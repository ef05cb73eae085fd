/// A temperature sensor read from a file holding integer millidegrees Celsius.
///
/// This is the format of `/sys/class/thermal/thermal_zone*/temp` and `/sys/class/hwmon/hwmon*/temp*_input`, and of
/// the config's `sensor.type: file`, which tests and demos write to play temperatures and faults. Each ``read()``
/// opens the file afresh because sysfs produces a new value per open.
public struct SysfsTemperatureSensor: TemperatureSensor {
    /// The attribute file, e.g. `/sys/class/thermal/thermal_zone0/temp`.
    public var path: String

    /// - Parameter path: The millidegree file to read.
    public init(path: String) {
        self.path = path
    }

    public func read() -> SensorSample {
        switch SensorFile.read(self.path) {
        case .failure(let error):
            return .invalid(error.message)
        case .success(let text):
            if text.trimmingWhitespace().isEmpty {
                return .invalid("\(self.path): empty, expected integer millidegrees")
            }
            guard let celsius = MillidegreeText.celsius(text) else {
                return .invalid(
                    "\(self.path): \(Self.excerpt(text)) is not integer millidegrees (e.g. 23125)"
                )
            }
            return .celsius(celsius)
        }
    }

    /// A short quoted excerpt of unexpected text for a log line.
    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingWhitespace()
        let short = trimmed.count > 32 ? String(trimmed.prefix(32)) + "…" : trimmed
        return "\"" + short.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "?" }.joined() + "\""
    }
}
