// Compiled only against libgpiod 2.x: Package.swift defines RLT_LIBGPIOD_V2 when pkg-config finds it
// (LibgpiodChip.swift is the v1 backend otherwise).
#if RLT_LIBGPIOD_V2
    #if canImport(Glibc)
        import Glibc
    #endif
    internal import CGPIOD
    import Synchronization

    /// The kernel backend of a libgpiod 2 build: ``GPIOController`` opens `LibgpiodChip`, whichever libgpiod the
    /// build found, so the controller and everything above it stay the same.
    typealias LibgpiodChip = LibgpiodV2Chip

    /// A kernel GPIO chip driven through libgpiod 2 (2.x): the only file that calls libgpiod v2.
    ///
    /// It behaves as the v1 backend does: every output requested first, at its OFF level, then every input for both
    /// edges with its bias, all-or-nothing; physical levels only (`active_low` is never set, ``GPIOController``
    /// inverts); errors from ``LibgpiodErrors``. What v2 changes is the shape: lines are requested in batches, so the
    /// outputs are one request and the inputs another, each line with its own settings (``LibgpiodV2Plan``), and a
    /// busy batch is attributed to its first line that the kernel reports in use, with that line's holder.
    ///
    /// The use of `@unchecked Sendable` is safe for this type because its handles are immutable after
    /// ``open(chip:outputs:inputs:consumer:)`` and every libgpiod call made through them holds ``lock``; the one call
    /// made outside the lock, `gpiod_line_request_wait_edge_events` (a `poll(2)` on the input request's descriptor),
    /// touches only a request that stays open until ``release()``, which the controller calls only after the edge
    /// thread that waits has stopped.
    final class LibgpiodV2Chip: GPIOLineBackend, @unchecked Sendable {
        let chipName: String
        private let chip: OpaquePointer
        private let outputRequest: OpaquePointer?
        private let inputRequest: OpaquePointer?
        private let outputs: [LibgpiodV2Plan.Line]
        private let inputs: [LibgpiodV2Plan.Line]
        /// Where edge events are read into; `nil` without inputs.
        private let events: OpaquePointer?
        /// `true` once released; guards every libgpiod call.
        private let lock = Mutex<Bool>(false)

        /// How many edge events one wake-up drains (v1 read 16 too); more stay queued for the next wait.
        private static let eventBatch = 16

        private init(
            chipName: String, chip: OpaquePointer, outputRequest: OpaquePointer?, inputRequest: OpaquePointer?,
            outputs: [LibgpiodV2Plan.Line], inputs: [LibgpiodV2Plan.Line], events: OpaquePointer?
        ) {
            self.chipName = chipName
            self.chip = chip
            self.outputRequest = outputRequest
            self.inputRequest = inputRequest
            self.outputs = outputs
            self.inputs = inputs
            self.events = events
        }

        /// Opens `descriptor` and requests every output at its initial physical level, then every input for edge
        /// events. All-or-nothing: on any failure every request made so far is released and the chip closed.
        ///
        /// - Parameters:
        ///   - descriptor: `gpiochipN`, `/dev/gpiochipN`, a chip number or a chip label.
        ///   - outputs: Specs with the physical level each output starts at (its OFF level).
        ///   - inputs: Input specs.
        ///   - consumer: The consumer name the kernel records for each line (shown by `gpioinfo`).
        static func open(
            chip descriptor: String, outputs: [(spec: GPIOOutputSpec, initialPhysical: Bool)], inputs: [GPIOInputSpec],
            consumer: String
        ) throws(GPIOError) -> LibgpiodV2Chip {
            let (chip, chipName, lineCount) = try Self.openChip(descriptor, consumer: consumer)
            var outputRequest: OpaquePointer?
            var inputRequest: OpaquePointer?
            var events: OpaquePointer?
            do throws(GPIOError) {
                /// One line of the plan: its offset looked up on the chip, described as messages name it.
                func planned(
                    line: Int, lineName: String?, name: String, _ settings: LibgpiodV2Plan.LineSettings
                ) throws(GPIOError) -> LibgpiodV2Plan.Line {
                    let description = describeLine(chip: chipName, line: line, lineName: lineName, name: name)
                    let offset = try Self.offset(
                        chip, chipName: chipName, lineCount: lineCount, offset: line, lineName: lineName,
                        description: description, consumer: consumer)
                    return .init(offset: offset, settings: settings, description: description)
                }
                var outputLines: [LibgpiodV2Plan.Line] = []
                for (spec, initial) in outputs {
                    outputLines.append(
                        try planned(
                            line: spec.line, lineName: spec.lineName, name: spec.name, .output(initialPhysical: initial)))
                }
                try LibgpiodV2Plan.checkDistinct(outputLines, consumer: consumer)
                outputRequest = try Self.request(chip, outputLines, consumer: consumer)

                var inputLines: [LibgpiodV2Plan.Line] = []
                for spec in inputs {
                    inputLines.append(
                        try planned(line: spec.line, lineName: spec.lineName, name: spec.name, .input(bias: spec.bias)))
                }
                // Repeats within the inputs are refused here; an input on a line one of the outputs holds is refused by
                // the kernel (EBUSY), and request(_:_:consumer:) names that line and its holder.
                try LibgpiodV2Plan.checkDistinct(inputLines, consumer: consumer)
                inputRequest = try Self.request(chip, inputLines, consumer: consumer)
                if !inputLines.isEmpty {
                    guard let buffer = gpiod_edge_event_buffer_new(Self.eventBatch) else {
                        let code = errno
                        throw GPIOError(
                            .requestFailed,
                            "\(chipName): no edge event buffer for the inputs (consumer \"\(consumer)\"): "
                                + errnoText(code), errno: code)
                    }
                    events = buffer
                }
                return LibgpiodV2Chip(
                    chipName: chipName, chip: chip, outputRequest: outputRequest, inputRequest: inputRequest,
                    outputs: outputLines, inputs: inputLines, events: events)
            } catch {
                if let events { gpiod_edge_event_buffer_free(events) }
                if let inputRequest { gpiod_line_request_release(inputRequest) }
                if let outputRequest { gpiod_line_request_release(outputRequest) }
                gpiod_chip_close(chip)
                throw error
            }
        }

        func setOutput(_ index: Int, physical: Bool) throws(GPIOError) {
            let line = self.outputs[index]
            try self.withOpenLock { () throws(GPIOError) in
                guard let request = self.outputRequest else { return }
                let value = physical ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE
                if gpiod_line_request_set_value(request, line.offset, value) != 0 {
                    throw LibgpiodErrors.setFailed(description: line.description, physical: physical, errno: errno)
                }
            }
        }

        func readOutput(_ index: Int) throws(GPIOError) -> Bool {
            try self.read(self.outputRequest, self.outputs[index])
        }

        func readInput(_ index: Int) throws(GPIOError) -> Bool {
            try self.read(self.inputRequest, self.inputs[index])
        }

        func waitForInputActivity(timeoutMilliseconds: Int32) throws(GPIOError) -> [Int] {
            guard let request = self.inputRequest, let events = self.events else {
                usleep(UInt32(max(0, timeoutMilliseconds)) * 1000)
                return []
            }
            // A negative timeout would wait forever; the controller's waits are bounded so stop() stays prompt.
            let ready = gpiod_line_request_wait_edge_events(request, Int64(max(0, timeoutMilliseconds)) * 1_000_000)
            if ready < 0 {
                let code = errno
                if code == EINTR { return [] }
                throw LibgpiodErrors.waitFailed(chipName: self.chipName, errno: code)
            }
            if ready == 0 { return [] }
            return try self.withOpenLock { () throws(GPIOError) -> [Int] in
                // Drain what is queued; only which lines moved matters, the debouncer reads the level once settled.
                let count = gpiod_line_request_read_edge_events(request, events, Self.eventBatch)
                if count < 0 {
                    let names = self.inputs.map(\.description).joined(separator: ", ")
                    throw LibgpiodErrors.readEventsFailed(description: names, errno: errno)
                }
                var offsets: [UInt32] = []
                for position in 0..<Int(count) {
                    if let event = gpiod_edge_event_buffer_get_event(events, UInt(position)) {
                        offsets.append(gpiod_edge_event_get_line_offset(event))
                    }
                }
                return LibgpiodV2Plan.activeIndices(eventOffsets: offsets, lines: self.inputs)
            }
        }

        func release() {
            self.lock.withLock { released in
                guard !released else { return }
                released = true
                if let events = self.events { gpiod_edge_event_buffer_free(events) }
                if let request = self.inputRequest { gpiod_line_request_release(request) }
                if let request = self.outputRequest { gpiod_line_request_release(request) }
                gpiod_chip_close(self.chip)
            }
        }

        private func read(_ request: OpaquePointer?, _ line: LibgpiodV2Plan.Line) throws(GPIOError) -> Bool {
            try self.withOpenLock { () throws(GPIOError) -> Bool in
                guard let request else { throw LibgpiodErrors.readFailed(description: line.description, errno: EINVAL) }
                let value = gpiod_line_request_get_value(request, line.offset)
                if value == GPIOD_LINE_VALUE_ERROR {
                    throw LibgpiodErrors.readFailed(description: line.description, errno: errno)
                }
                return value == GPIOD_LINE_VALUE_ACTIVE
            }
        }

        private func withOpenLock<T>(_ body: () throws(GPIOError) -> T) throws(GPIOError) -> T {
            let result: Result<T, GPIOError> = self.lock.withLock { released in
                if released { return .failure(LibgpiodErrors.released(chipName: self.chipName)) }
                do throws(GPIOError) { return .success(try body()) } catch { return .failure(error) }
            }
            return try result.get()
        }

        // MARK: Requesting

        /// Requests `lines` as one batch with each line's own settings; `nil` for no lines.
        private static func request(
            _ chip: OpaquePointer, _ lines: [LibgpiodV2Plan.Line], consumer: String
        ) throws(GPIOError) -> OpaquePointer? {
            guard let first = lines.first else { return nil }
            guard let config = gpiod_line_config_new() else {
                throw Self.outOfMemory(first.description, consumer: consumer)
            }
            defer { gpiod_line_config_free(config) }
            for line in lines {
                guard let settings = gpiod_line_settings_new() else {
                    throw Self.outOfMemory(line.description, consumer: consumer)
                }
                defer { gpiod_line_settings_free(settings) }
                Self.apply(line.settings, to: settings)
                var offset = line.offset
                if gpiod_line_config_add_line_settings(config, &offset, 1, settings) != 0 {
                    let code = errno
                    throw LibgpiodErrors.request(
                        description: line.description, errno: code, consumer: consumer, bias: line.settings.bias
                    ) { nil }
                }
            }
            guard let requestConfig = gpiod_request_config_new() else {
                throw Self.outOfMemory(first.description, consumer: consumer)
            }
            defer { gpiod_request_config_free(requestConfig) }
            consumer.withCString { gpiod_request_config_set_consumer(requestConfig, $0) }
            // errno is captured in the same expression, before anything else can overwrite it.
            let (request, code) = (gpiod_chip_request_lines(chip, requestConfig, config), errno)
            if let request { return request }
            // The batch failed as a whole; name the first of its lines the kernel reports held, else the first line.
            let blamed = code == EBUSY ? Self.firstUsed(chip, lines) ?? (first, nil) : (first, nil)
            throw LibgpiodErrors.request(
                description: blamed.0.description, errno: code, consumer: consumer, bias: blamed.0.settings.bias
            ) { blamed.1 }
        }

        /// The first of `lines` that the kernel reports in use, with its consumer.
        private static func firstUsed(
            _ chip: OpaquePointer, _ lines: [LibgpiodV2Plan.Line]
        ) -> (LibgpiodV2Plan.Line, String?)? {
            for line in lines {
                guard let info = gpiod_chip_get_line_info(chip, line.offset) else { continue }
                defer { gpiod_line_info_free(info) }
                if gpiod_line_info_is_used(info) {
                    return (line, gpiod_line_info_get_consumer(info).map { String(cString: $0) })
                }
            }
            return nil
        }

        /// Writes the plan's settings into a libgpiod settings object. The enum switches are exhaustive, so a new
        /// ``GPIOBias`` cannot be requested without saying what libgpiod 2 calls it.
        private static func apply(_ plan: LibgpiodV2Plan.LineSettings, to settings: OpaquePointer) {
            switch plan.direction {
            case .output(let high):
                _ = gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT)
                _ = gpiod_line_settings_set_output_value(
                    settings, high ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE)
            case .input:
                _ = gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT)
            }
            _ = gpiod_line_settings_set_edge_detection(
                settings, plan.detectsBothEdges ? GPIOD_LINE_EDGE_BOTH : GPIOD_LINE_EDGE_NONE)
            let bias: gpiod_line_bias
            switch plan.bias {
            case .pullUp: bias = GPIOD_LINE_BIAS_PULL_UP
            case .pullDown: bias = GPIOD_LINE_BIAS_PULL_DOWN
            case .disabled: bias = GPIOD_LINE_BIAS_DISABLED
            case .asIs: bias = GPIOD_LINE_BIAS_AS_IS
            }
            _ = gpiod_line_settings_set_bias(settings, bias)
            gpiod_line_settings_set_active_low(settings, plan.activeLow)
            gpiod_line_settings_set_debounce_period_us(settings, UInt(plan.debounceMicroseconds))
        }

        private static func outOfMemory(_ description: String, consumer: String) -> GPIOError {
            let code = errno
            return GPIOError(
                .requestFailed,
                "\(description): preparing the request by consumer \"\(consumer)\" failed: \(errnoText(code))",
                errno: code)
        }

        // MARK: Opening

        /// Opens a chip by path, `gpiochipN` name, number or label; returns the handle, its name and its line count.
        private static func openChip(
            _ descriptor: String, consumer: String
        ) throws(GPIOError) -> (OpaquePointer, String, Int) {
            switch LibgpiodV2Plan.ChipLocation(descriptor: descriptor) {
            case .path(let path):
                guard let chip = gpiod_chip_open(path) else {
                    throw LibgpiodErrors.chipOpen(descriptor: descriptor, errno: errno, consumer: consumer)
                }
                guard let (name, _, count) = Self.info(chip) else {
                    let code = errno
                    gpiod_chip_close(chip)
                    throw LibgpiodErrors.chipOpen(descriptor: descriptor, errno: code, consumer: consumer)
                }
                return (chip, name, count)
            case .label(let label):
                return try Self.openChip(label: label, consumer: consumer)
            }
        }

        /// Finds the chip whose label is `label` by opening each GPIO character device in `/dev`, in name order (as
        /// v1's chip iterator did). A chip that cannot be opened fails the search, as it failed v1's iterator: a label
        /// on a chip this user may not open must not read as "not found".
        private static func openChip(
            label: String, consumer: String
        ) throws(GPIOError) -> (OpaquePointer, String, Int) {
            guard let directory = opendir("/dev") else {
                throw LibgpiodErrors.chipListing(label: label, errno: errno, consumer: consumer)
            }
            var paths: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if gpiod_is_gpiochip_device("/dev/" + name) { paths.append("/dev/" + name) }
            }
            closedir(directory)
            var seen: [String] = []
            for path in paths.sorted() {
                guard let chip = gpiod_chip_open(path) else {
                    throw LibgpiodErrors.chipListing(label: label, errno: errno, consumer: consumer)
                }
                guard let (name, chipLabel, count) = Self.info(chip) else {
                    gpiod_chip_close(chip)
                    continue
                }
                if chipLabel == label { return (chip, name, count) }
                seen.append("\(name) [\(chipLabel)]")
                gpiod_chip_close(chip)
            }
            throw LibgpiodErrors.labelNotFound(label: label, seen: seen, consumer: consumer)
        }

        /// The chip's name, label and number of lines.
        private static func info(_ chip: OpaquePointer) -> (String, String, Int)? {
            guard let info = gpiod_chip_get_info(chip) else { return nil }
            defer { gpiod_chip_info_free(info) }
            let name = gpiod_chip_info_get_name(info).map { String(cString: $0) } ?? "?"
            let label = gpiod_chip_info_get_label(info).map { String(cString: $0) } ?? ""
            return (name, label, Int(gpiod_chip_info_get_num_lines(info)))
        }

        /// The offset of the line at `offset`, or of the line named `lineName`, with a clear error when there is none.
        private static func offset(
            _ chip: OpaquePointer, chipName: String, lineCount: Int, offset: Int, lineName: String?,
            description: String,
            consumer: String
        ) throws(GPIOError) -> UInt32 {
            if let lineName {
                let found = gpiod_chip_get_line_offset_from_name(chip, lineName)
                guard found >= 0 else {
                    throw LibgpiodErrors.lineNameNotFound(
                        description: description, chipName: chipName, lineName: lineName, errno: errno,
                        consumer: consumer)
                }
                return UInt32(found)
            }
            guard offset >= 0, offset < lineCount else {
                throw LibgpiodErrors.lineOutOfRange(
                    description: description, offset: offset, chipName: chipName, lineCount: lineCount,
                    consumer: consumer)
            }
            return UInt32(offset)
        }
    }
#endif
