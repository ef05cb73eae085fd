#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// One PWM channel driven through the kernel's sysfs PWM interface, for LED intensity below 100 %.
///
/// The channel's on/off still goes through its GPIO enable line (``GPIOController``); this type only sets the
/// duty cycle. It writes `<root>/pwmchip<N>/export` when `pwm<M>` is not exported yet, then `period`,
/// `duty_cycle` and `enable` inside `<root>/pwmchip<N>/pwm<M>/`. The root is a parameter so tests use a temporary
/// directory laid out like sysfs.
///
/// The PWM starts disabled at duty 0. ``setDuty(_:)`` returns the duty read back from `duty_cycle`, so the caller
/// can check it like a GPIO readback. Writes are serialised by one lock.
public final class SysfsPWM: Sendable {
    /// The channel's attribute directory, e.g. `/sys/class/pwm/pwmchip0/pwm0`.
    public let directory: String
    /// The period written at initialisation, in nanoseconds.
    public let periodNanoseconds: Int64
    private let lock = Mutex<Void>(())

    /// Exports the channel if needed and programs its period with duty 0, disabled.
    ///
    /// - Parameters:
    ///   - chip: N in `pwmchipN`.
    ///   - channel: M in `pwmM`.
    ///   - frequencyHz: The PWM frequency, 1 Hz … 1 MHz.
    ///   - root: The sysfs PWM class directory (`/sys/class/pwm`), or a test directory laid out like it.
    ///   - exportTimeoutMilliseconds: How long to wait for `pwmM` to appear after the export (udev may lag).
    /// - Throws: ``GPIOError`` with code ``GPIOError/Code/pwmFailed`` naming the file and the reason.
    public init(
        chip: Int, channel: Int, frequencyHz: Int, root: String = "/sys/class/pwm",
        exportTimeoutMilliseconds: Int = 1000
    ) throws(GPIOError) {
        guard (1...1_000_000).contains(frequencyHz) else {
            throw GPIOError(
                .invalidConfiguration,
                "pwmchip\(chip)/pwm\(channel): frequency \(frequencyHz) Hz is outside 1…1000000 Hz")
        }
        guard chip >= 0, channel >= 0 else {
            throw GPIOError(.invalidConfiguration, "pwmchip\(chip)/pwm\(channel): chip and channel must be ≥ 0")
        }
        let chipDirectory = "\(root)/pwmchip\(chip)"
        self.directory = "\(chipDirectory)/pwm\(channel)"
        self.periodNanoseconds = 1_000_000_000 / Int64(frequencyHz)
        if !Self.isDirectory(chipDirectory) {
            throw GPIOError(
                .pwmFailed,
                "PWM chip \(chipDirectory) not found; enable the PWM overlay or driver for the board "
                    + "(e.g. dtoverlay=pwm on a Raspberry Pi)", errno: ENOENT)
        }
        if !Self.isDirectory(self.directory) {
            try Self.write("\(channel)", to: "\(chipDirectory)/export")
            var waited = 0
            while !Self.isDirectory(self.directory) {
                guard waited < exportTimeoutMilliseconds else {
                    throw GPIOError(
                        .pwmFailed,
                        "\(self.directory) did not appear within \(exportTimeoutMilliseconds) ms of "
                            + "exporting channel \(channel); check npwm in \(chipDirectory)", errno: ENOENT)
                }
                usleep(10_000)
                waited += 10
            }
        }
        // duty_cycle must never exceed period, so zero it before changing the period.
        try Self.write("0", to: "\(self.directory)/enable")
        try Self.write("0", to: "\(self.directory)/duty_cycle")
        try Self.write("\(self.periodNanoseconds)", to: "\(self.directory)/period")
    }

    /// Sets the duty (0 … 1, clamped; NaN counts as 0) and enables the output when the duty is above 0.
    ///
    /// - Returns: The duty read back from `duty_cycle`.
    @discardableResult
    public func setDuty(_ duty: Double) throws(GPIOError) -> Double {
        let clamped = duty.isFinite ? min(1, max(0, duty)) : 0
        let nanoseconds = Int64((Double(self.periodNanoseconds) * clamped).rounded())
        let result: Result<Double, GPIOError> = self.lock.withLock { _ in
            do throws(GPIOError) {
                try Self.write("\(nanoseconds)", to: "\(self.directory)/duty_cycle")
                try Self.write(nanoseconds > 0 ? "1" : "0", to: "\(self.directory)/enable")
                return .success(try self.readDutyLocked())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The duty read back from `duty_cycle`, 0 when the channel is disabled.
    public func readDuty() throws(GPIOError) -> Double {
        let result: Result<Double, GPIOError> = self.lock.withLock { _ in
            do throws(GPIOError) { return .success(try self.readDutyLocked()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Sets duty 0 and disables the output; errors are returned, not thrown, so shutdown can log and go on.
    @discardableResult
    public func disable() -> GPIOError? {
        self.lock.withLock { _ in
            do throws(GPIOError) {
                try Self.write("0", to: "\(self.directory)/duty_cycle")
                try Self.write("0", to: "\(self.directory)/enable")
                return nil
            } catch {
                return error
            }
        }
    }

    private func readDutyLocked() throws(GPIOError) -> Double {
        guard try Self.read("\(self.directory)/enable") != 0 else { return 0 }
        let duty = try Self.read("\(self.directory)/duty_cycle")
        return Double(duty) / Double(self.periodNanoseconds)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes one attribute; sysfs attributes already exist, so a missing file is an error, never created.
    private static func write(_ text: String, to path: String) throws(GPIOError) {
        let descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw GPIOError(.pwmFailed, "\(path): opening for write failed: \(errnoText(code))", errno: code)
        }
        defer { close(descriptor) }
        let bytes = Array((text + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if written != bytes.count {
            let code = errno
            throw GPIOError(.pwmFailed, "\(path): writing \"\(text)\" failed: \(errnoText(code))", errno: code)
        }
    }

    private static func read(_ path: String) throws(GPIOError) -> Int64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw GPIOError(.pwmFailed, "\(path): opening for read failed: \(errnoText(code))", errno: code)
        }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else {
            let code = errno
            throw GPIOError(.pwmFailed, "\(path): reading failed: \(errnoText(code))", errno: code)
        }
        let text = String(decoding: buffer[0..<count].filter { $0 != 0x0A && $0 != 0x20 }, as: UTF8.self)
        guard let value = Int64(text) else {
            throw GPIOError(.pwmFailed, "\(path): holds \"\(text)\", expected an integer")
        }
        return value
    }
}
