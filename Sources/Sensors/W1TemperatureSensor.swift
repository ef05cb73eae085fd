/// A DS18B20 1-Wire sensor read from its `w1_slave` file.
///
/// The kernel's w1_therm driver writes two lines per read, the scratchpad with the CRC verdict and the scratchpad
/// with the temperature:
/// ```
/// 72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
/// 72 01 4b 46 7f ff 0e 10 57 t=23125
/// ```
/// A reading is valid only when line 1 ends in `YES` and line 2 carries `t=<millidegrees>`. Two values that parse
/// fine are still refused because they are the sensor's failure signatures, not temperatures: 85000 is the
/// power-on reset value of the scratchpad (the conversion did not run, typically a power glitch), and an all-zero
/// scratchpad passes the CRC while the sensor is missing.
public struct W1TemperatureSensor: TemperatureSensor {
    /// The `w1_slave` file, e.g. `/sys/bus/w1/devices/28-0316a2795cff/w1_slave`.
    public var path: String

    /// - Parameter path: The device's `w1_slave` file.
    public init(path: String) {
        self.path = path
    }

    /// The scratchpad value the DS18B20 holds after power-on, before any conversion.
    public static let powerOnResetMillidegrees = 85000

    public func read() -> SensorSample {
        switch SensorFile.read(self.path) {
        case .failure(let error):
            return .invalid(error.message)
        case .success(let text):
            switch Self.parse(text) {
            case .success(let celsius): return .celsius(celsius)
            case .failure(let reason): return .invalid("\(self.path): \(reason.message)")
            }
        }
    }

    /// Parses the two-line `w1_slave` text into °C, or says why it is not a reading.
    static func parse(_ text: String) -> Result<Double, SensorFileError> {
        let lines = text.split(whereSeparator: \.isSensorFileLineEnd).map { String($0).trimmingWhitespace() }
            .filter { !$0.isEmpty }
        guard lines.count >= 2 else {
            if lines.isEmpty { return .failure(SensorFileError(message: "empty, expected two w1_slave lines")) }
            return .failure(SensorFileError(message: "truncated: \(lines.count) line, expected two w1_slave lines"))
        }
        let crcLine = lines[0]
        guard crcLine.contains("crc=") else {
            return .failure(
                SensorFileError(message: "line 1 \(SysfsTemperatureSensor.excerpt(crcLine)) has no crc= verdict")
            )
        }
        guard crcLine.hasSuffix("YES") else {
            return .failure(SensorFileError(message: "CRC NO: the scratchpad read failed its checksum"))
        }
        let dataLine = lines[1]
        guard let marker = dataLine.firstRange(of: "t=") else {
            return .failure(SensorFileError(message: "line 2 \(SysfsTemperatureSensor.excerpt(dataLine)) has no t="))
        }
        let valueText = String(dataLine[marker.upperBound...])
        guard let celsius = MillidegreeText.celsius(valueText) else {
            return .failure(
                SensorFileError(message: "t=\(SysfsTemperatureSensor.excerpt(valueText)) is not integer millidegrees")
            )
        }
        if Int(valueText.trimmingWhitespace()) == Self.powerOnResetMillidegrees {
            return .failure(
                SensorFileError(message: "t=85000 is the DS18B20 power-on reset value, not a conversion result")
            )
        }
        let scratchpad = dataLine[..<marker.lowerBound].split(separator: " ")
        if !scratchpad.isEmpty, scratchpad.allSatisfy({ $0 == "00" }) {
            return .failure(SensorFileError(message: "all-zero scratchpad: the sensor is not answering"))
        }
        return .success(celsius)
    }
}
