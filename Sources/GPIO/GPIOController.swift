#if canImport(Glibc)
    import Glibc
#endif
import Clocks
public import Logging
import Synchronization

/// The panel's GPIO lines: every output and input of one chip, requested together and released together.
///
/// Both backends (``GPIOBackendSelection``) behave the same through this type:
/// * ``open(backend:outputs:inputs:consumer:logger:)`` requests ALL outputs first, each at its OFF level, then the
///   inputs; if anything fails, nothing stays requested, so the panel is never half configured.
/// * Levels are logical (`true` = on / active). `active_low` is applied here, in software, for both backends:
///   the chip and the simulator's `value` files always carry the physical level.
/// * Input changes arrive on ``inputEdges``, debounced in software (``GPIOInputSpec/debounceMs``), from a
///   dedicated thread that waits on libgpiod's event descriptors (or samples the simulator's `pull` files).
/// * ``close()`` drives every output OFF, then releases the lines; `deinit` closes too.
///
/// `set`, `read…` and `close` may be called from any thread; they are serialised by one lock, so a `close()`
/// can never interleave with a `set(_:)`.
public final class GPIOController: Sendable {
    /// Debounced input edges. Finishes when the controller is closed. One consumer only.
    public let inputEdges: AsyncStream<GPIOInputEdge>
    /// The chip as messages name it (`gpiochip0`, `simulated chip /tmp/…`).
    public let chipName: String
    /// The configured outputs, in request order.
    public let outputs: [GPIOOutputSpec]
    /// The configured inputs, in request order.
    public let inputs: [GPIOInputSpec]

    private let backend: any GPIOLineBackend
    private let outputIndex: [String: Int]
    private let logger: Logger
    private let continuation: AsyncStream<GPIOInputEdge>.Continuation
    private let edgeThread: Mutex<EdgeThread?>
    /// `true` once closed; held while lines are touched.
    private let closed = Mutex<Bool>(false)

    private init(
        backend: any GPIOLineBackend, outputs: [GPIOOutputSpec], inputs: [GPIOInputSpec], logger: Logger
    ) {
        self.backend = backend
        self.chipName = backend.chipName
        self.outputs = outputs
        self.inputs = inputs
        self.logger = logger
        var index: [String: Int] = [:]
        for (position, spec) in outputs.enumerated() { index[spec.name] = position }
        self.outputIndex = index
        (self.inputEdges, self.continuation) = AsyncStream.makeStream(of: GPIOInputEdge.self)
        self.edgeThread = Mutex(nil)
    }

    deinit {
        self.close()
    }

    /// Opens the chip and requests ALL outputs at their OFF level first, then the inputs. All-or-nothing: on any
    /// failure nothing stays requested.
    ///
    /// - Parameters:
    ///   - backend: The kernel chip (libgpiod) or the simulated chip directory.
    ///   - outputs: The output lines; each starts OFF (physically high when `activeLow`).
    ///   - inputs: The input lines, requested for edge events with their bias.
    ///   - consumer: The consumer name recorded on each line (what `gpioinfo` shows), e.g. `rlt-gateway`.
    ///   - logger: Where requests, releases and edge-thread trouble are logged.
    /// - Throws: ``GPIOError`` naming the chip, the line and the consumer: chip not found, line busy (with the
    ///   current holder), offset out of range, line name not found, duplicate names or lines.
    public static func open(
        backend: GPIOBackendSelection, outputs: [GPIOOutputSpec], inputs: [GPIOInputSpec], consumer: String,
        logger: Logger
    ) throws(GPIOError) -> GPIOController {
        try Self.validate(outputs: outputs, inputs: inputs, consumer: consumer)
        let outputRequests = outputs.map { (spec: $0, initialPhysical: $0.activeLow) }
        let chip: any GPIOLineBackend
        switch backend {
        case .libgpiod(let descriptor):
            chip = try LibgpiodChip.open(chip: descriptor, outputs: outputRequests, inputs: inputs, consumer: consumer)
        case .simulated(let directory):
            chip = try SimulatedChip.open(
                directory: directory, outputs: outputRequests, inputs: inputs, consumer: consumer)
        }
        var levels: [Bool] = []
        do throws(GPIOError) {
            for (index, spec) in inputs.enumerated() {
                levels.append(try chip.readInput(index) != spec.activeLow)
            }
        } catch {
            chip.release()
            throw error
        }
        let controller = GPIOController(backend: chip, outputs: outputs, inputs: inputs, logger: logger)
        if !inputs.isEmpty {
            let pump = InputEdgePump(inputs: inputs, levels: levels)
            let thread = EdgeThread.start { [backend = chip, inputs, continuation = controller.continuation] control in
                Self.runEdgeLoop(
                    control: control, backend: backend, inputs: inputs, pump: pump,
                    continuation: continuation, logger: logger)
            }
            guard let thread else {
                controller.close()
                throw GPIOError(
                    .requestFailed,
                    "\(chip.chipName): could not start the input event thread (consumer "
                        + "\"\(consumer)\")")
            }
            controller.edgeThread.withLock { $0 = thread }
        }
        logger.info(
            "GPIO lines requested",
            metadata: [
                "gpio.chip": "\(chip.chipName)", "gpio.consumer": "\(consumer)",
                "gpio.outputs": "\(outputs.map { "\($0.name)=\($0.lineName ?? String($0.line))" })",
                "gpio.inputs": "\(inputs.map { "\($0.name)=\($0.lineName ?? String($0.line))" })",
            ])
        return controller
    }

    /// Sets the named outputs to logical levels (`true` = on) and returns their levels as READ BACK from the lines
    /// afterwards, so the caller can compare command and readback (rule S9).
    ///
    /// Outputs switched off are written before outputs switched on, so a change never briefly has more emitting
    /// than either the old or the new state.
    ///
    /// - Returns: The read-back logical level of every output named in `levels`.
    /// - Throws: ``GPIOError`` for an unknown name (before touching any line), a closed controller, or a failed
    ///   write or read; lines written before the failing one keep their new level, so treat a failure as an
    ///   output fault and switch everything off.
    public func set(_ levels: [String: Bool]) throws(GPIOError) -> [String: Bool] {
        var indices: [(index: Int, on: Bool)] = []
        for (name, on) in levels {
            guard let index = self.outputIndex[name] else {
                throw GPIOError(
                    .unknownLine,
                    "\(self.chipName): no output named \"\(name)\"; configured outputs: "
                        + self.outputs.map(\.name).joined(separator: ", "))
            }
            indices.append((index, on))
        }
        indices.sort { ($0.on ? 1 : 0, $0.index) < ($1.on ? 1 : 0, $1.index) }
        return try self.whileOpen { () throws(GPIOError) -> [String: Bool] in
            for (index, on) in indices {
                try self.backend.setOutput(index, physical: on != self.outputs[index].activeLow)
            }
            var readback: [String: Bool] = [:]
            for (index, _) in indices {
                readback[self.outputs[index].name] = try self.backend.readOutput(index) != self.outputs[index].activeLow
            }
            return readback
        }
    }

    /// The logical level of every output, read back from the lines.
    public func readOutputs() throws(GPIOError) -> [String: Bool] {
        try self.whileOpen { () throws(GPIOError) -> [String: Bool] in
            var levels: [String: Bool] = [:]
            for (index, spec) in self.outputs.enumerated() {
                levels[spec.name] = try self.backend.readOutput(index) != spec.activeLow
            }
            return levels
        }
    }

    /// The current logical level of every input (`true` = active), read now, not debounced.
    public func readInputs() throws(GPIOError) -> [String: Bool] {
        try self.whileOpen { () throws(GPIOError) -> [String: Bool] in
            var levels: [String: Bool] = [:]
            for (index, spec) in self.inputs.enumerated() {
                levels[spec.name] = try self.backend.readInput(index) != spec.activeLow
            }
            return levels
        }
    }

    /// Drives every output OFF, stops the edge thread, releases the lines and finishes ``inputEdges``.
    /// Idempotent; later calls do nothing.
    ///
    /// A failure to drive a line OFF is logged (critical) and the remaining lines are still driven and released.
    public func close() {
        let wasOpen = self.closed.withLock { closed -> Bool in
            guard !closed else { return false }
            closed = true
            for (index, spec) in self.outputs.enumerated() {
                do throws(GPIOError) {
                    try self.backend.setOutput(index, physical: spec.activeLow)
                } catch {
                    self.logger.critical(
                        "GPIO output could not be driven OFF at close",
                        metadata: ["gpio.output": "\(spec.name)", "gpio.error": "\(error.message)"])
                }
            }
            return true
        }
        guard wasOpen else { return }
        let thread = self.edgeThread.withLock { current -> EdgeThread? in
            defer { current = nil }
            return current
        }
        thread?.stop()
        self.backend.release()
        self.continuation.finish()
        self.logger.info("GPIO lines driven OFF and released", metadata: ["gpio.chip": "\(self.chipName)"])
    }

    private func whileOpen<T>(_ body: () throws(GPIOError) -> T) throws(GPIOError) -> T {
        let result: Result<T, GPIOError> = self.closed.withLock { closed in
            if closed {
                return .failure(GPIOError(.closed, "\(self.chipName): the GPIO controller is closed"))
            }
            do throws(GPIOError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Validation

    private static func validate(
        outputs: [GPIOOutputSpec], inputs: [GPIOInputSpec], consumer: String
    ) throws(GPIOError) {
        var names: Set<String> = []
        var offsets: [Int: String] = [:]
        var lineNames: [String: String] = [:]
        let lines = outputs.map { ($0.name, $0.line, $0.lineName) } + inputs.map { ($0.name, $0.line, $0.lineName) }
        for (name, line, lineName) in lines {
            guard !name.isEmpty else {
                throw GPIOError(.invalidConfiguration, "a GPIO line has an empty name (consumer \"\(consumer)\")")
            }
            guard names.insert(name).inserted else {
                throw GPIOError(
                    .invalidConfiguration,
                    "GPIO line name \"\(name)\" is configured twice; each output and input "
                        + "needs its own name (consumer \"\(consumer)\")")
            }
            if let lineName {
                if let other = lineNames.updateValue(name, forKey: lineName) {
                    throw GPIOError(
                        .invalidConfiguration,
                        "GPIO line \"\(lineName)\" is configured for both \(other) and "
                            + "\(name); each needs its own line (consumer \"\(consumer)\")")
                }
            } else if let other = offsets.updateValue(name, forKey: line) {
                throw GPIOError(
                    .invalidConfiguration,
                    "GPIO line \(line) is configured for both \(other) and \(name); each "
                        + "needs its own line (consumer \"\(consumer)\")")
            }
        }
        for spec in inputs where spec.debounceMs < 0 || spec.debounceMs > 10_000 {
            throw GPIOError(
                .invalidConfiguration,
                "input \(spec.name): debounce \(spec.debounceMs) ms is outside 0…10000 ms "
                    + "(consumer \"\(consumer)\")")
        }
    }

    // MARK: Edge loop

    /// The edge thread's body: waits for raw activity and hands it to the pump, which debounces it and reports
    /// failures as failed inputs (never only a log line).
    private static func runEdgeLoop(
        control: EdgeThread, backend: any GPIOLineBackend, inputs: [GPIOInputSpec], pump initial: InputEdgePump,
        continuation: AsyncStream<GPIOInputEdge>.Continuation, logger: Logger
    ) {
        var pump = initial
        // Bounded waits keep stop() prompt; 50 ms matches the simulator's promise.
        let maximumWaitMs: Int64 = 50
        while !control.isStopping {
            var timeout = maximumWaitMs
            if let deadline = pump.nextDeadline {
                let remaining = (deadline - MonotonicClock.nanoseconds() + 999_999) / 1_000_000
                timeout = max(0, min(timeout, remaining))
            }
            var edges: [GPIOInputEdge]
            do throws(GPIOError) {
                let active = try backend.waitForInputActivity(timeoutMilliseconds: Int32(timeout))
                pump.activity(on: active, at: MonotonicClock.nanoseconds())
                edges = pump.settle(at: MonotonicClock.nanoseconds()) { index throws(GPIOError) in
                    try backend.readInput(index)
                }
            } catch {
                if control.isStopping { return }
                edges = pump.failed(error.message, at: MonotonicClock.nanoseconds())
            }
            for edge in edges {
                if let failure = edge.failure {
                    logger.error(
                        "GPIO input cannot be read; reported failed",
                        metadata: ["gpio.input": "\(edge.name)", "gpio.error": "\(failure)"])
                }
                continuation.yield(edge)
            }
            // A failing line is retried at a calm pace, not in a busy loop.
            if pump.isFailing { usleep(100_000) }
        }
    }
}
