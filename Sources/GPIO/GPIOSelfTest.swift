#if canImport(Glibc)
    import Glibc
#endif
public import Logging
import Synchronization

/// An end-to-end check of ``GPIOController`` against a chip whose lines can be observed and driven from outside:
/// the kernel's gpio-sim (through libgpiod) or the simulated chip.
///
/// gpio-sim exposes every line of a simulated chip at `/sys/devices/platform/<dev_name>/<chip_name>/sim_gpio<N>/`
/// with the same `value` and `pull` files the simulated backend uses (`dev_name` and `chip_name` are read from the
/// configfs bank that created the chip). So one routine proves both: run it with `.libgpiod(chip: chip_name)` and
/// that sysfs directory under a gpio-sim kernel (qemu), and with `.simulated(directory:)` and the same directory
/// in unit tests.
///
/// The checks, in order: outputs come up OFF with `active_low` honoured physically; `set` reads back and shows the
/// inversion in `value`; a `pull` change raises a debounced edge each way; a second consumer of a held line gets a
/// "busy" error naming the holder; an offset beyond the chip is refused (libgpiod only: the simulated chip has no
/// size); `close()` drives OFF and releases, so the lines can be requested again.
public enum GPIOSelfTest {
    /// Which chip and lines to exercise. Use three distinct, otherwise unused lines.
    public struct Configuration: Sendable {
        public var backend: GPIOBackendSelection
        /// The directory holding `sim_gpio<N>/{value,pull}` for the chip.
        public var sysfsDirectory: String
        public var outputLine: Int
        public var activeLowOutputLine: Int
        public var inputLine: Int
        /// How long to wait for each edge before failing.
        public var edgeTimeoutSeconds: Double
        public var consumer: String

        public init(
            backend: GPIOBackendSelection, sysfsDirectory: String, outputLine: Int = 0, activeLowOutputLine: Int = 1,
            inputLine: Int = 2, edgeTimeoutSeconds: Double = 5, consumer: String = "rlt-selftest"
        ) {
            self.backend = backend
            self.sysfsDirectory = sysfsDirectory
            self.outputLine = outputLine
            self.activeLowOutputLine = activeLowOutputLine
            self.inputLine = inputLine
            self.edgeTimeoutSeconds = edgeTimeoutSeconds
            self.consumer = consumer
        }
    }

    /// The first check that failed, with what was expected and what was seen.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let check: String
        public let message: String
        public var description: String { "GPIO self-test check \"\(self.check)\" failed: \(self.message)" }
    }

    /// Runs every check; returns one line per passed (or skipped) check, or throws the first ``Failure``.
    public static func run(_ configuration: Configuration, logger: Logger) async throws(Failure) -> [String] {
        var passed: [String] = []
        let sysfs = configuration.sysfsDirectory
        let outputs = [
            GPIOOutputSpec(name: "plain", line: configuration.outputLine),
            GPIOOutputSpec(name: "inverted", line: configuration.activeLowOutputLine, activeLow: true),
        ]
        let inputs = [GPIOInputSpec(name: "input", line: configuration.inputLine, bias: .pullDown, debounceMs: 0)]

        var check = "prepare input pull"
        try Self.expect(check, Self.writeAttribute(sysfs, configuration.inputLine, "pull", "pull-down"))

        check = "open requests outputs OFF"
        let controller: GPIOController
        do throws(GPIOError) {
            controller = try GPIOController.open(
                backend: configuration.backend, outputs: outputs, inputs: inputs, consumer: configuration.consumer,
                logger: logger)
        } catch {
            throw Failure(check: check, message: error.message)
        }
        defer { controller.close() }
        let edges = EdgeCollector(controller.inputEdges)
        defer { edges.cancel() }
        try Self.expectValue(check, sysfs, configuration.outputLine, "0")
        try Self.expectValue(check, sysfs, configuration.activeLowOutputLine, "1")
        try Self.expectEqual(
            check, Self.attempt(check) { () throws(GPIOError) in try controller.readOutputs() },
            ["plain": false, "inverted": false])
        passed.append(check)

        check = "input starts at its pull"
        try Self.expectEqual(
            check, Self.attempt(check) { () throws(GPIOError) in try controller.readInputs() },
            ["input": false])
        passed.append(check)

        check = "set reads back and inverts active-low physically"
        try Self.expectEqual(
            check,
            Self.attempt(check) { () throws(GPIOError) in try controller.set(["plain": true, "inverted": true]) },
            ["plain": true, "inverted": true])
        try Self.expectValue(check, sysfs, configuration.outputLine, "1")
        try Self.expectValue(check, sysfs, configuration.activeLowOutputLine, "0")
        passed.append(check)

        for (pull, active) in [("pull-up", true), ("pull-down", false)] {
            check = "\(pull) raises an edge to \(active ? "active" : "inactive")"
            let seen = edges.count
            try Self.expect(check, Self.writeAttribute(sysfs, configuration.inputLine, "pull", pull))
            let edge = await edges.next(after: seen, timeoutSeconds: configuration.edgeTimeoutSeconds)
            guard let edge else {
                throw Failure(check: check, message: "no edge within \(configuration.edgeTimeoutSeconds) s")
            }
            guard edge.name == "input", edge.active == active else {
                throw Failure(check: check, message: "got \(edge)")
            }
            try Self.expectEqual(
                check, Self.attempt(check) { () throws(GPIOError) in try controller.readInputs() },
                ["input": active])
            passed.append(check)
        }

        check = "a held line is busy for a second consumer"
        let intruder = Self.openResult(
            configuration, [GPIOOutputSpec(name: "intruder", line: configuration.outputLine)], [], suffix: "-2", logger)
        switch intruder {
        case .success(let second):
            second.close()
            throw Failure(check: check, message: "the second request succeeded")
        case .failure(let error):
            guard error.code == .lineBusy, error.message.contains("\"\(configuration.consumer)\"") else {
                throw Failure(check: check, message: "expected busy naming \"\(configuration.consumer)\": \(error)")
            }
        }
        passed.append(check)

        check = "an offset beyond the chip is refused"
        if case .libgpiod = configuration.backend {
            switch Self.openResult(
                configuration, [GPIOOutputSpec(name: "far", line: 100_000)], [], suffix: "-3", logger)
            {
            case .success(let wrong):
                wrong.close()
                throw Failure(check: check, message: "line 100000 was granted")
            case .failure(let error):
                guard error.code == .lineOutOfRange else {
                    throw Failure(check: check, message: "expected out of range: \(error)")
                }
            }
            passed.append(check)
        } else {
            passed.append(check + " (skipped: the simulated chip has no size)")
        }

        check = "set OFF reads back and drives OFF physically"
        try Self.expectEqual(
            check,
            Self.attempt(check) { () throws(GPIOError) in try controller.set(["plain": false, "inverted": false]) },
            ["plain": false, "inverted": false])
        try Self.expectValue(check, sysfs, configuration.outputLine, "0")
        try Self.expectValue(check, sysfs, configuration.activeLowOutputLine, "1")
        passed.append(check)

        check = "close releases every line"
        controller.close()
        do throws(GPIOError) {
            let again = try GPIOController.open(
                backend: configuration.backend, outputs: outputs, inputs: inputs, consumer: configuration.consumer,
                logger: logger)
            again.close()
        } catch {
            throw Failure(check: check, message: "re-requesting after close failed: \(error)")
        }
        passed.append(check)
        return passed
    }

    // MARK: Helpers

    private static func openResult(
        _ configuration: Configuration, _ outputs: [GPIOOutputSpec], _ inputs: [GPIOInputSpec], suffix: String,
        _ logger: Logger
    ) -> Result<GPIOController, GPIOError> {
        Result { () throws(GPIOError) -> GPIOController in
            try GPIOController.open(
                backend: configuration.backend, outputs: outputs, inputs: inputs,
                consumer: configuration.consumer + suffix, logger: logger)
        }
    }

    private static func attempt<T>(_ check: String, _ body: () throws(GPIOError) -> T) throws(Failure) -> T {
        do throws(GPIOError) { return try body() } catch { throw Failure(check: check, message: error.message) }
    }

    private static func expect(_ check: String, _ result: String?) throws(Failure) {
        if let result { throw Failure(check: check, message: result) }
    }

    private static func expectEqual(_ check: String, _ actual: [String: Bool], _ expected: [String: Bool])
        throws(Failure)
    {
        if actual != expected {
            throw Failure(
                check: check,
                message: "expected \(expected.sorted { $0.key < $1.key }), "
                    + "got \(actual.sorted { $0.key < $1.key })")
        }
    }

    private static func expectValue(_ check: String, _ directory: String, _ line: Int, _ expected: String)
        throws(Failure)
    {
        let path = "\(directory)/sim_gpio\(line)/value"
        let actual = Self.readAttribute(path)
        if actual != expected {
            throw Failure(
                check: check,
                message: "\(path) holds \(actual.map { "\"\($0)\"" } ?? "nothing"), "
                    + "expected \"\(expected)\"")
        }
    }

    private static func readAttribute(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].filter { $0 != 0x0A && $0 != 0x20 }, as: UTF8.self)
    }

    /// Writes a sysfs attribute (or the simulator's file); returns an error text, or `nil` on success.
    private static func writeAttribute(_ directory: String, _ line: Int, _ name: String, _ text: String) -> String? {
        let lineDirectory = "\(directory)/sim_gpio\(line)"
        if mkdir(lineDirectory, 0o755) != 0, errno != EEXIST {
            return "creating \(lineDirectory) failed: \(errnoText(errno))"
        }
        let path = "\(lineDirectory)/\(name)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return "opening \(path) failed: \(errnoText(errno))" }
        defer { close(descriptor) }
        let bytes = Array((text + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        return written == bytes.count ? nil : "writing \(path) failed: \(errnoText(errno))"
    }
}

/// Collects edges from a controller's stream so the self-test can wait for the next one with a bound.
private final class EdgeCollector: Sendable {
    private let edges = Mutex<[GPIOInputEdge]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ stream: AsyncStream<GPIOInputEdge>) {
        let task = Task { [weak self] in
            for await edge in stream {
                guard let self else { return }
                self.edges.withLock { $0.append(edge) }
            }
        }
        self.task.withLock { $0 = task }
    }

    var count: Int { self.edges.withLock { $0.count } }

    /// The first edge after the first `seen` ones, waiting up to `timeoutSeconds`.
    func next(after seen: Int, timeoutSeconds: Double) async -> GPIOInputEdge? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
        while ContinuousClock.now < deadline {
            if let edge = self.edges.withLock({ $0.count > seen ? $0[seen] : nil }) { return edge }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    func cancel() {
        self.task.withLock { $0?.cancel() }
    }
}
