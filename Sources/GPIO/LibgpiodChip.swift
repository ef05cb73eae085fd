// Compiled only against libgpiod 1.x: Package.swift defines RLT_LIBGPIOD_V2 when pkg-config finds 2.x, whose
// header has none of these calls (LibgpiodV2Chip.swift is then the kernel backend).
#if !RLT_LIBGPIOD_V2
    #if canImport(Glibc)
        import Glibc
    #endif
    internal import CGPIOD
    import Synchronization

    /// A kernel GPIO chip driven through libgpiod v1 (1.6.x): the only file that calls libgpiod v1.
    ///
    /// `LibgpiodV2Chip` is the same backend on libgpiod 2; the build compiles exactly one of them (docs/DESIGN.md,
    /// "GPIO backends"), and both build their errors with ``LibgpiodErrors`` so messages read alike.
    ///
    /// Lines are requested without `GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW`: this type speaks physical levels and
    /// ``GPIOController`` inverts `active_low` lines itself, exactly as it does for the simulator, so `gpioinfo` shows
    /// the lines as active-high and the gpio-sim `value` files show the physical level. Inputs are requested for both
    /// edges with their bias flag; their event file descriptors are polled by
    /// ``waitForInputActivity(timeoutMilliseconds:)``.
    ///
    /// The use of `@unchecked Sendable` is safe for this type because the chip and line handles are immutable after
    /// ``open(chip:outputs:inputs:consumer:)`` and every libgpiod call made through them holds ``lock``; the one call
    /// made outside the lock, `poll(2)` on the event file descriptors, touches only descriptors that stay open until
    /// ``release()``, which the controller calls only after the edge thread that polls has stopped.
    final class LibgpiodChip: GPIOLineBackend, @unchecked Sendable {
        let chipName: String
        private let chip: OpaquePointer
        private let outputs: [RequestedLine]
        private let inputs: [RequestedLine]
        private let inputDescriptors: [Int32]
        /// `true` once released; guards every libgpiod call.
        private let lock = Mutex<Bool>(false)

        private struct RequestedLine {
            var handle: OpaquePointer
            var description: String
        }

        private init(
            chipName: String, chip: OpaquePointer, outputs: [RequestedLine], inputs: [RequestedLine],
            inputDescriptors: [Int32]
        ) {
            self.chipName = chipName
            self.chip = chip
            self.outputs = outputs
            self.inputs = inputs
            self.inputDescriptors = inputDescriptors
        }

        /// Opens `descriptor` and requests every output at its initial physical level, then every input for edge
        /// events. All-or-nothing: on any failure every line requested so far is released and the chip closed.
        ///
        /// - Parameters:
        ///   - descriptor: `gpiochipN`, `/dev/gpiochipN`, a chip number or a chip label.
        ///   - outputs: Specs with the physical level each output starts at (its OFF level).
        ///   - inputs: Input specs.
        ///   - consumer: The consumer name the kernel records for each line (shown by `gpioinfo`).
        static func open(
            chip descriptor: String, outputs: [(spec: GPIOOutputSpec, initialPhysical: Bool)], inputs: [GPIOInputSpec],
            consumer: String
        ) throws(GPIOError) -> LibgpiodChip {
            let (chip, chipName) = try Self.openChip(descriptor, consumer: consumer)
            var requested: [OpaquePointer] = []
            func abandon() {
                for line in requested { gpiod_line_release(line) }
                gpiod_chip_close(chip)
            }
            do throws(GPIOError) {
                var outputLines: [RequestedLine] = []
                for (spec, initial) in outputs {
                    let description = describeLine(
                        chip: chipName, line: spec.line, lineName: spec.lineName, name: spec.name)
                    let line = try Self.findLine(
                        chip, chipName: chipName, offset: spec.line, lineName: spec.lineName, description: description,
                        consumer: consumer)
                    // errno is captured inside the closure, before anything else can overwrite it.
                    let (rc, code) = consumer.withCString {
                        (gpiod_line_request_output(line, $0, initial ? 1 : 0), errno)
                    }
                    if rc != 0 {
                        throw Self.requestError(
                            line, errno: code, description: description, consumer: consumer, bias: nil)
                    }
                    requested.append(line)
                    outputLines.append(RequestedLine(handle: line, description: description))
                }
                var inputLines: [RequestedLine] = []
                var descriptors: [Int32] = []
                for spec in inputs {
                    let description = describeLine(
                        chip: chipName, line: spec.line, lineName: spec.lineName, name: spec.name)
                    let line = try Self.findLine(
                        chip, chipName: chipName, offset: spec.line, lineName: spec.lineName, description: description,
                        consumer: consumer)
                    let flags = Self.biasFlags(spec.bias)
                    let (rc, code) = consumer.withCString {
                        (gpiod_line_request_both_edges_events_flags(line, $0, flags), errno)
                    }
                    if rc != 0 {
                        throw Self.requestError(
                            line, errno: code, description: description, consumer: consumer, bias: spec.bias)
                    }
                    requested.append(line)
                    let fd = gpiod_line_event_get_fd(line)
                    if fd < 0 {
                        throw GPIOError(
                            .requestFailed,
                            "\(description): no event file descriptor after the edge request (consumer "
                                + "\"\(consumer)\"): \(errnoText(errno))", errno: errno)
                    }
                    inputLines.append(RequestedLine(handle: line, description: description))
                    descriptors.append(fd)
                }
                return LibgpiodChip(
                    chipName: chipName, chip: chip, outputs: outputLines, inputs: inputLines,
                    inputDescriptors: descriptors)
            } catch {
                abandon()
                throw error
            }
        }

        func setOutput(_ index: Int, physical: Bool) throws(GPIOError) {
            let line = self.outputs[index]
            try self.withOpenLock { () throws(GPIOError) in
                if gpiod_line_set_value(line.handle, physical ? 1 : 0) != 0 {
                    throw LibgpiodErrors.setFailed(description: line.description, physical: physical, errno: errno)
                }
            }
        }

        func readOutput(_ index: Int) throws(GPIOError) -> Bool {
            try self.read(self.outputs[index])
        }

        func readInput(_ index: Int) throws(GPIOError) -> Bool {
            try self.read(self.inputs[index])
        }

        func waitForInputActivity(timeoutMilliseconds: Int32) throws(GPIOError) -> [Int] {
            var fds = self.inputDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if fds.isEmpty {
                usleep(UInt32(max(0, timeoutMilliseconds)) * 1000)
                return []
            }
            let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
            if ready < 0 {
                let code = errno
                if code == EINTR { return [] }
                throw LibgpiodErrors.waitFailed(chipName: self.chipName, errno: code)
            }
            if ready == 0 { return [] }
            var active: [Int] = []
            try self.withOpenLock { () throws(GPIOError) in
                for (index, entry) in fds.enumerated() where entry.revents != 0 {
                    if entry.revents & Int16(POLLIN) == 0 {
                        throw GPIOError(
                            .ioFailed,
                            "\(self.inputs[index].description): event descriptor reported "
                                + "poll flags \(entry.revents) instead of an event")
                    }
                    // Drain the queued events; only the fact that the line moved matters, the debouncer reads
                    // the level.
                    var events = [gpiod_line_event](repeating: gpiod_line_event(), count: 16)
                    let count = gpiod_line_event_read_fd_multiple(entry.fd, &events, UInt32(events.count))
                    if count < 0 {
                        throw LibgpiodErrors.readEventsFailed(description: self.inputs[index].description, errno: errno)
                    }
                    active.append(index)
                }
            }
            return active
        }

        func release() {
            self.lock.withLock { released in
                guard !released else { return }
                released = true
                for line in self.outputs { gpiod_line_release(line.handle) }
                for line in self.inputs { gpiod_line_release(line.handle) }
                gpiod_chip_close(self.chip)
            }
        }

        private func read(_ line: RequestedLine) throws(GPIOError) -> Bool {
            try self.withOpenLock { () throws(GPIOError) -> Bool in
                let value = gpiod_line_get_value(line.handle)
                if value < 0 {
                    throw LibgpiodErrors.readFailed(description: line.description, errno: errno)
                }
                return value != 0
            }
        }

        private func withOpenLock<T>(_ body: () throws(GPIOError) -> T) throws(GPIOError) -> T {
            let result: Result<T, GPIOError> = self.lock.withLock { released in
                if released {
                    return .failure(LibgpiodErrors.released(chipName: self.chipName))
                }
                do throws(GPIOError) { return .success(try body()) } catch { return .failure(error) }
            }
            return try result.get()
        }

        // MARK: Opening

        /// Opens a chip by path, `gpiochipN` name, number or label; returns the handle and the chip's name.
        private static func openChip(
            _ descriptor: String, consumer: String
        ) throws(GPIOError) -> (OpaquePointer, String) {
            let opened: OpaquePointer?
            if descriptor.hasPrefix("/") {
                opened = gpiod_chip_open(descriptor)
            } else if descriptor.hasPrefix("gpiochip") {
                opened = gpiod_chip_open_by_name(descriptor)
            } else if !descriptor.isEmpty, descriptor.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = UInt32(descriptor)
            {
                opened = gpiod_chip_open_by_number(number)
            } else {
                return try Self.openChip(label: descriptor, consumer: consumer)
            }
            guard let chip = opened else {
                throw LibgpiodErrors.chipOpen(descriptor: descriptor, errno: errno, consumer: consumer)
            }
            return (chip, Self.name(of: chip, fallback: descriptor))
        }

        /// Finds the chip whose label is `label` by opening each chip in turn.
        private static func openChip(label: String, consumer: String) throws(GPIOError) -> (OpaquePointer, String) {
            guard let iterator = gpiod_chip_iter_new() else {
                throw LibgpiodErrors.chipListing(label: label, errno: errno, consumer: consumer)
            }
            var seen: [String] = []
            while let chip = gpiod_chip_iter_next_noclose(iterator) {
                let chipLabel = gpiod_chip_label(chip).map { String(cString: $0) } ?? ""
                let name = Self.name(of: chip, fallback: "?")
                if chipLabel == label {
                    gpiod_chip_iter_free_noclose(iterator)
                    return (chip, name)
                }
                seen.append("\(name) [\(chipLabel)]")
                gpiod_chip_close(chip)
            }
            gpiod_chip_iter_free_noclose(iterator)
            throw LibgpiodErrors.labelNotFound(label: label, seen: seen, consumer: consumer)
        }

        private static func name(of chip: OpaquePointer, fallback: String) -> String {
            gpiod_chip_name(chip).map { String(cString: $0) } ?? fallback
        }

        /// The line at `offset`, or the line named `lineName`, with a clear error when there is none.
        private static func findLine(
            _ chip: OpaquePointer, chipName: String, offset: Int, lineName: String?, description: String,
            consumer: String
        ) throws(GPIOError) -> OpaquePointer {
            if let lineName {
                guard let line = gpiod_chip_find_line(chip, lineName) else {
                    throw LibgpiodErrors.lineNameNotFound(
                        description: description, chipName: chipName, lineName: lineName, errno: errno,
                        consumer: consumer)
                }
                return line
            }
            let count = Int(gpiod_chip_num_lines(chip))
            guard offset >= 0, offset < count else {
                throw LibgpiodErrors.lineOutOfRange(
                    description: description, offset: offset, chipName: chipName, lineCount: count, consumer: consumer)
            }
            guard let line = gpiod_chip_get_line(chip, UInt32(offset)) else {
                let code = errno
                throw GPIOError(
                    .requestFailed,
                    "\(description): getting the line failed (consumer \"\(consumer)\"): "
                        + errnoText(code), errno: code)
            }
            return line
        }

        private static func requestError(
            _ line: OpaquePointer, errno code: Int32, description: String, consumer: String, bias: GPIOBias?
        ) -> GPIOError {
            LibgpiodErrors.request(description: description, errno: code, consumer: consumer, bias: bias) {
                _ = gpiod_line_update(line)
                return gpiod_line_consumer(line).map { String(cString: $0) }
            }
        }

        private static func biasFlags(_ bias: GPIOBias) -> Int32 {
            switch bias {
            case .pullUp: return Int32(truncatingIfNeeded: GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
            case .pullDown: return Int32(truncatingIfNeeded: GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
            case .disabled: return Int32(truncatingIfNeeded: GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
            case .asIs: return 0
            }
        }
    }
#endif
