#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// A simulated GPIO chip kept in files laid out like the kernel's gpio-sim sysfs interface.
///
/// For each requested line N, `<directory>/sim_gpio<N>/` holds:
/// * `value`: the PHYSICAL level, `0` or `1` and a newline. Outputs rewrite it (atomically, through a rename) on
///   every change, so an `active_low` output reads `1` while it is off. Inputs mirror their pull level into it.
/// * `pull`: for inputs, `pull-up` (physical high) or `pull-down` (physical low), written by a test to drive the
///   line; created from the input's bias when absent (`pull-down`, gpio-sim's default, for `disabled`/`as-is`).
/// * `consumer`: the holder's consumer name, under an exclusive `flock(2)` for as long as the line is requested,
///   so a second controller (in this or another process) gets the same "busy" error the kernel would give.
/// * `name` (optional, written by tests): the line name that `lineName` lookups match.
///
/// Inputs are sampled every ``pollInterval`` milliseconds (the design allows 50 ms), and a change is reported as
/// raw activity to the controller, whose debouncer turns it into the same edge events as libgpiod's. Unlike the
/// real gpio-sim, a released output keeps its last (OFF) level instead of falling back to its pull.
///
/// All state lives behind one `Mutex`; the file descriptors of the held locks are closed by ``release()``.
final class SimulatedChip: GPIOLineBackend {
    /// Milliseconds between two samples of the input `pull` files.
    static let pollInterval: Int32 = 10

    let chipName: String
    private let directory: String
    private let outputs: [SimulatedLine]
    private let inputs: [SimulatedLine]
    private let state: Mutex<State>

    private struct SimulatedLine: Sendable {
        var offset: Int
        var description: String
        var directory: String
    }

    private struct State {
        var released = false
        var lockDescriptors: [Int32]
        var inputLevels: [Bool]
    }

    private init(
        chipName: String, directory: String, outputs: [SimulatedLine], inputs: [SimulatedLine],
        lockDescriptors: [Int32], inputLevels: [Bool]
    ) {
        self.chipName = chipName
        self.directory = directory
        self.outputs = outputs
        self.inputs = inputs
        self.state = Mutex(State(lockDescriptors: lockDescriptors, inputLevels: inputLevels))
    }

    /// Claims every line (outputs first, written at their initial physical level), all-or-nothing.
    static func open(
        directory: String, outputs: [(spec: GPIOOutputSpec, initialPhysical: Bool)], inputs: [GPIOInputSpec],
        consumer: String
    ) throws(GPIOError) -> SimulatedChip {
        let chipName = "simulated chip \(directory)"
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw GPIOError(
                .chipNotFound,
                "\(chipName) not found (consumer \"\(consumer)\"): \(directory) is not a directory; "
                    + "create it or point gpio.sim_dir at one", errno: ENOENT)
        }
        var locks: [Int32] = []
        do throws(GPIOError) {
            var outputLines: [SimulatedLine] = []
            for (spec, initial) in outputs {
                let line = try Self.claim(
                    directory: directory, chipName: chipName, offset: spec.line, lineName: spec.lineName,
                    name: spec.name, consumer: consumer, locks: &locks)
                try Self.writeFile(line.directory + "/value", initial ? "1\n" : "0\n", description: line.description)
                outputLines.append(line)
            }
            var inputLines: [SimulatedLine] = []
            var levels: [Bool] = []
            for spec in inputs {
                let line = try Self.claim(
                    directory: directory, chipName: chipName, offset: spec.line, lineName: spec.lineName,
                    name: spec.name, consumer: consumer, locks: &locks)
                let pullPath = line.directory + "/pull"
                if access(pullPath, F_OK) != 0 {
                    let pull = spec.bias == .pullUp ? GPIOBias.pullUp : GPIOBias.pullDown
                    try Self.writeFile(pullPath, pull.rawValue + "\n", description: line.description)
                }
                let level = try Self.readPull(line)
                try Self.writeFile(line.directory + "/value", level ? "1\n" : "0\n", description: line.description)
                inputLines.append(line)
                levels.append(level)
            }
            return SimulatedChip(
                chipName: chipName, directory: directory, outputs: outputLines, inputs: inputLines,
                lockDescriptors: locks, inputLevels: levels)
        } catch {
            for descriptor in locks { Self.unlock(descriptor) }
            throw error
        }
    }

    func setOutput(_ index: Int, physical: Bool) throws(GPIOError) {
        let line = self.outputs[index]
        try self.withOpenState { (_: inout State) throws(GPIOError) in
            try Self.writeFile(line.directory + "/value", physical ? "1\n" : "0\n", description: line.description)
        }
    }

    func readOutput(_ index: Int) throws(GPIOError) -> Bool {
        let line = self.outputs[index]
        return try self.withOpenState { (_: inout State) throws(GPIOError) -> Bool in
            let text = try Self.readFile(line.directory + "/value", description: line.description)
            switch text {
            case "1": return true
            case "0": return false
            default:
                throw GPIOError(.ioFailed, "\(line.description): value file holds \"\(text)\", expected 0 or 1")
            }
        }
    }

    func readInput(_ index: Int) throws(GPIOError) -> Bool {
        let line = self.inputs[index]
        return try self.withOpenState { (_: inout State) throws(GPIOError) -> Bool in try Self.readPull(line) }
    }

    func waitForInputActivity(timeoutMilliseconds: Int32) throws(GPIOError) -> [Int] {
        usleep(UInt32(max(0, min(timeoutMilliseconds, Self.pollInterval))) * 1000)
        return try self.withOpenState { (state: inout State) throws(GPIOError) -> [Int] in
            var active: [Int] = []
            for (index, line) in self.inputs.enumerated() {
                // A pull file caught mid-rewrite by a test reads as garbage: keep the last level until it settles.
                // A line that cannot be read at all (its file gone or unreadable) is a failed input, as a
                // failing kernel read would be.
                let level: Bool
                do throws(GPIOError) {
                    level = try Self.readPull(line)
                } catch {
                    if error.errno != nil { throw error }
                    continue
                }
                guard level != state.inputLevels[index] else { continue }
                state.inputLevels[index] = level
                try? Self.writeFile(line.directory + "/value", level ? "1\n" : "0\n", description: line.description)
                active.append(index)
            }
            return active
        }
    }

    func release() {
        self.state.withLock { state in
            guard !state.released else { return }
            state.released = true
            for descriptor in state.lockDescriptors { Self.unlock(descriptor) }
            state.lockDescriptors = []
        }
    }

    private func withOpenState<T>(_ body: (inout State) throws(GPIOError) -> T) throws(GPIOError) -> T {
        let result: Result<T, GPIOError> = self.state.withLock { state in
            if state.released {
                return .failure(GPIOError(.closed, "\(self.chipName): lines already released"))
            }
            do throws(GPIOError) { return .success(try body(&state)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Lines

    /// Resolves the line's offset, creates its directory and takes its lock, recording the consumer.
    private static func claim(
        directory: String, chipName: String, offset: Int, lineName: String?, name: String, consumer: String,
        locks: inout [Int32]
    ) throws(GPIOError) -> SimulatedLine {
        let description = describeLine(chip: chipName, line: offset, lineName: lineName, name: name)
        var resolved = offset
        if let lineName {
            guard let found = Self.findLine(named: lineName, in: directory) else {
                throw GPIOError(
                    .lineNotFound,
                    "\(description): \(chipName) has no line named \"\(lineName)\" (no "
                        + "sim_gpio*/name file holds it; consumer \"\(consumer)\")", errno: ENOENT)
            }
            resolved = found
        }
        guard resolved >= 0 else {
            throw GPIOError(
                .lineOutOfRange,
                "\(description): offset \(resolved) is out of range, offsets start at 0 "
                    + "(consumer \"\(consumer)\")", errno: EINVAL)
        }
        let lineDirectory = directory + "/sim_gpio\(resolved)"
        if mkdir(lineDirectory, 0o755) != 0, errno != EEXIST {
            let code = errno
            throw GPIOError(
                .requestFailed, "\(description): creating \(lineDirectory) failed: \(errnoText(code))",
                errno: code)
        }
        let lockPath = lineDirectory + "/consumer"
        let descriptor = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            let code = errno
            throw GPIOError(
                .requestFailed, "\(description): opening \(lockPath) failed: \(errnoText(code))",
                errno: code)
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = (try? Self.readFile(lockPath, description: description)) ?? ""
            Glibc.close(descriptor)
            if code == EWOULDBLOCK {
                let who = holder.isEmpty ? "another consumer" : "consumer \"\(holder)\""
                throw GPIOError(
                    .lineBusy,
                    "\(description) is busy: held by \(who); stop it or pick a free line; requested by "
                        + "consumer \"\(consumer)\"", errno: EBUSY)
            }
            throw GPIOError(
                .requestFailed, "\(description): locking \(lockPath) failed: \(errnoText(code))",
                errno: code)
        }
        locks.append(descriptor)
        let bytes = Array((consumer + "\n").utf8)
        _ = ftruncate(descriptor, 0)
        _ = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return SimulatedLine(offset: resolved, description: description, directory: lineDirectory)
    }

    /// Empties the consumer record and drops the lock.
    /// Releases a line's lock explicitly before closing: a child process being spawned at this moment
    /// holds a copy of the descriptor until its `exec` (`O_CLOEXEC` acts only then), and the lock belongs
    /// to the shared open file description, so a bare `close` would leave the line "busy" meanwhile.
    private static func unlock(_ descriptor: Int32) {
        _ = ftruncate(descriptor, 0)
        _ = flock(descriptor, LOCK_UN)
        Glibc.close(descriptor)
    }

    /// The offset N of the first `sim_gpio<N>/name` file holding `lineName`, lowest N first.
    private static func findLine(named lineName: String, in directory: String) -> Int? {
        guard let stream = opendir(directory) else { return nil }
        defer { closedir(stream) }
        var offsets: [Int] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix("sim_gpio"), let offset = Int(name.dropFirst("sim_gpio".count)) {
                offsets.append(offset)
            }
        }
        for offset in offsets.sorted() {
            let path = directory + "/sim_gpio\(offset)/name"
            if let text = try? Self.readFile(path, description: path), text == lineName { return offset }
        }
        return nil
    }

    private static func readPull(_ line: SimulatedLine) throws(GPIOError) -> Bool {
        let text = try Self.readFile(line.directory + "/pull", description: line.description)
        switch text {
        case GPIOBias.pullUp.rawValue: return true
        case GPIOBias.pullDown.rawValue: return false
        default:
            throw GPIOError(
                .ioFailed, "\(line.description): pull file holds \"\(text)\", expected pull-up or pull-down")
        }
    }

    // MARK: Files

    /// Replaces `path` with `text` through a temporary file and a rename, so a reader never sees a partial value.
    private static func writeFile(_ path: String, _ text: String, description: String) throws(GPIOError) {
        let temporary = path + ".tmp"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            let code = errno
            throw GPIOError(.ioFailed, "\(description): writing \(path) failed: \(errnoText(code))", errno: code)
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let writeError = errno
        Glibc.close(descriptor)
        if written != bytes.count {
            unlink(temporary)
            throw GPIOError(
                .ioFailed, "\(description): writing \(path) failed: \(errnoText(writeError))",
                errno: writeError)
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw GPIOError(.ioFailed, "\(description): replacing \(path) failed: \(errnoText(code))", errno: code)
        }
    }

    /// The file's text without surrounding whitespace.
    private static func readFile(_ path: String, description: String) throws(GPIOError) -> String {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            throw GPIOError(.ioFailed, "\(description): reading \(path) failed: \(errnoText(code))", errno: code)
        }
        defer { Glibc.close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            let code = errno
            throw GPIOError(.ioFailed, "\(description): reading \(path) failed: \(errnoText(code))", errno: code)
        }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        return String(text.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
