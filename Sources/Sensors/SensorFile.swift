#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `read(2)`, named apart from ``SensorFile/read(_:)``.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.read(descriptor, buffer, count)
    #else
        return Darwin.read(descriptor, buffer, count)
    #endif
}

/// Reads a small kernel attribute file in one `read(2)`, the way sysfs expects to be read.
///
/// sysfs attributes are produced whole on the first read of an open file, so one read of up to a page returns the
/// complete value; reading with POSIX calls keeps the errno (EIO, ENODATA, ENXIO) that explains a failing sensor.
enum SensorFile {
    /// The file's text, or a reason naming the path and the error.
    static func read(_ path: String) -> Result<String, SensorFileError> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            return .failure(SensorFileError(message: "\(path): \(Self.errorText(errno))"))
        }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var total = 0
        while total < buffer.count {
            let count = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return systemRead(descriptor, base + total, raw.count - total)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(SensorFileError(message: "\(path): read failed: \(Self.errorText(errno))"))
            }
            if count == 0 { break }
            total += count
        }
        return .success(String(decoding: buffer[0..<total], as: UTF8.self))
    }

    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}

/// Why a sensor file could not be read; its message becomes the ``SensorSample/invalid(_:)``
/// reason.
struct SensorFileError: Error {
    var message: String
}

/// Parses the kernel's millidegree integer text (`"23125\n"`, `"-4500\n"`).
enum MillidegreeText {
    /// The value in °C, or `nil` when the text is not exactly one optionally signed decimal integer.
    static func celsius(_ text: String) -> Double? {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= 12 else { return nil }
        var digits = Substring(trimmed)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard let millidegrees = Int64(trimmed) else { return nil }
        return Double(millidegrees) / 1000
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and line ends (no Foundation needed).
    func trimmingWhitespace() -> String {
        guard let first = self.firstIndex(where: { !$0.isSensorFileSpace }),
            let last = self.lastIndex(where: { !$0.isSensorFileSpace })
        else { return "" }
        return String(self[first...last])
    }
}

extension Character {
    /// A line end as a sensor file may carry it: "\n", "\r", or "\r\n", which Swift keeps as one
    /// `Character` equal to neither of the others (a file copied with DOS line ends).
    var isSensorFileLineEnd: Bool { self == "\n" || self == "\r" || self == "\r\n" }

    /// A space, a tab or a line end: the only padding a reading may have around its digits. Unicode
    /// spaces stay refused, so a reading is exactly what the kernel would write.
    var isSensorFileSpace: Bool { self == " " || self == "\t" || self.isSensorFileLineEnd }
}
