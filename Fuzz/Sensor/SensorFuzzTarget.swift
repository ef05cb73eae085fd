import FuzzSupport
import Sensors
#if canImport(Glibc)
    import Glibc
#endif

/// Fuzz target: the temperature sources' files as the daemon reads them, through the real
/// ``SysfsTemperatureSensor`` and ``W1TemperatureSensor`` (open, one `read(2)`, parse).
///
/// What is in a sysfs or `w1_slave` file is up to a kernel driver and a sensor on a long wire, and
/// `sensor.type: file` reads whatever a person wrote (docs/DESIGN.md, "Safety rules"). A reading that comes
/// out as a temperature must be one: finite, exactly the integer millidegrees of the text, never the
/// DS18B20's power-on value; anything else is an invalid sample naming the file (rule S6 counts
/// those). The input is the file's content; the file lives in a private tmpfs directory made once per
/// process, so each input costs one `write` and the sensor's own `open`/`read`.
@main
enum SensorFuzzTarget: FuzzTarget {
    static let path: String = {
        // Fuzz/run.sh names a tmpfs directory it removes afterwards: a crash skips `atexit`.
        let parent = getenv("RLT_FUZZ_SCRATCH").map { String(cString: $0) } ?? "/dev/shm"
        let directory = "\(parent)/rlt-fuzz-sensor-\(getpid())"
        mkdir(directory, 0o700)
        atexit {
            let parent = getenv("RLT_FUZZ_SCRATCH").map { String(cString: $0) } ?? "/dev/shm"
            let directory = "\(parent)/rlt-fuzz-sensor-\(getpid())"
            unlink(directory + "/temp")
            rmdir(directory)
        }
        return directory + "/temp"
    }()
    static let sysfs = SysfsTemperatureSensor(path: Self.path)
    static let w1 = W1TemperatureSensor(path: Self.path)

    static func run(_ input: [UInt8]) {
        let file = open(Self.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard file >= 0 else { fuzzFailure("cannot write \(Self.path)", input: input) }
        _ = input.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        close(file)
        // The sensor reads one page; what it sees is the first 4096 bytes.
        let text = String(decoding: input.prefix(4096), as: UTF8.self)

        switch Self.sysfs.read() {
        case .celsius(let value):
            guard let expected = Self.millidegrees(text), value == Double(expected) / 1000 else {
                fuzzFailure("sysfs reading \(value) °C from text that is not that many millidegrees", input: input)
            }
        case .invalid(let reason):
            if !reason.contains(Self.path) { fuzzFailure("sysfs refusal without the path: \(reason)", input: input) }
            // "\r\n" is one Character in Swift and the reader trims Characters, so a CRLF file is refused
            // (safe: an invalid sample); only LF-terminated integer text must be read.
            if let expected = Self.millidegrees(text), !text.unicodeScalars.contains("\r"), input.count <= 4096 {
                fuzzFailure("sysfs refused integer millidegrees \(expected): \(reason)", input: input)
            }
        }
        switch Self.w1.read() {
        case .celsius(let value):
            if !value.isFinite || value == 85 || !text.contains("YES") || !text.contains("t=") {
                fuzzFailure("w1 reading \(value) °C from text without a valid conversion", input: input)
            }
        case .invalid(let reason):
            if !reason.contains(Self.path) { fuzzFailure("w1 refusal without the path: \(reason)", input: input) }
        }
    }

    /// The oracle's own reading of millidegree text: spaces, tabs and line ends around one optionally
    /// signed run of ASCII digits, at most 12 characters in all once trimmed.
    static func millidegrees(_ text: String) -> Int64? {
        let space: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r"]
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !space.contains($0) }),
            let last = scalars.lastIndex(where: { !space.contains($0) })
        else { return nil }
        let core = scalars[first...last]
        // Characters, not scalars, are what the parser counts; a combining mark joins its neighbour.
        let trimmed = String(String.UnicodeScalarView(core))
        guard trimmed.count <= 12 else { return nil }
        var digits = core[...]
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        return Int64(trimmed)
    }
}
