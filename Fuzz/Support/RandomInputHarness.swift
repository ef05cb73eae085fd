import TestKit
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fallback fuzzer for toolchains without libFuzzer, and the corpus replayer for both.
///
/// libFuzzer is the real fuzzer (coverage guided, `-sanitize=fuzzer`). Without its runtime this
/// harness still exercises the same entry point: it replays every corpus file, then mutates them
/// (bit flips, byte inserts and deletes, splices, interesting bytes) with a seeded generator for a
/// fixed time. It says its seed on standard error before the first input, and a crash (an
/// invariant's `abort`, a Swift trap, a bad access) writes the input that caused it to
/// `<artifact prefix>seed-<seed>` before the process dies, so a failure is reproducible twice over:
/// from the seed, and from the file, which belongs in Fuzz/regressions/<target>/.
public struct RandomInputHarness {
    /// Command-line options: `[--seconds N] [--seed S] [--runs N] [--artifact-prefix P] PATH…`
    /// (files or directories).
    public struct Options {
        public var seconds: Double = 10
        public var seed: UInt64 = 1
        public var maxRuns: Int = .max
        public var artifactPrefix = "./crash-"
        public var paths: [String] = []

        public init(arguments: [String]) {
            var iterator = arguments.dropFirst().makeIterator()
            while let argument = iterator.next() {
                switch argument {
                case "--seconds": self.seconds = iterator.next().flatMap(Double.init) ?? self.seconds
                case "--seed": self.seed = iterator.next().flatMap { UInt64($0) } ?? self.seed
                case "--runs": self.maxRuns = iterator.next().flatMap { Int($0) } ?? self.maxRuns
                case "--artifact-prefix": self.artifactPrefix = iterator.next() ?? self.artifactPrefix
                default: self.paths.append(argument)
                }
            }
        }
    }

    private let options: Options
    private let body: ([UInt8]) -> Void

    public init(options: Options, body: @escaping ([UInt8]) -> Void) {
        self.options = options
        self.body = body
    }

    /// Replays the corpus, then mutates it until the time or run budget is spent; prints
    /// `execs: N crashes: 0` (a crash ends the process, as under libFuzzer).
    public func run() {
        CrashInput.install(path: "\(self.options.artifactPrefix)seed-\(self.options.seed)")
        Self.say("random-input harness: seed \(self.options.seed) (replay with --seed \(self.options.seed))\n")
        var corpus: [[UInt8]] = []
        for path in self.options.paths {
            corpus += Self.readInputs(at: path)
        }
        if corpus.isEmpty { corpus = [[]] }
        var executions = 0
        for input in corpus {
            self.execute(input)
            executions += 1
        }
        var generator = SplitMix64(seed: self.options.seed)
        let start = Self.monotonicSeconds()
        Self.say("random-input harness: \(corpus.count) corpus inputs replayed\n")
        while executions < self.options.maxRuns, Self.monotonicSeconds() - start < self.options.seconds {
            for _ in 0..<64 {
                var input = corpus[Int(generator.next() % UInt64(corpus.count))]
                let mutations = 1 + Int(generator.next() % 8)
                for _ in 0..<mutations {
                    Self.mutate(&input, other: corpus[Int(generator.next() % UInt64(corpus.count))], &generator)
                }
                self.execute(input)
                executions += 1
            }
        }
        print("execs: \(executions) crashes: 0 seconds: \(Int(Self.monotonicSeconds() - start))")
    }

    private func execute(_ input: [UInt8]) {
        CrashInput.remember(input)
        self.body(input)
    }

    /// Writes straight to standard error: stdout's buffer dies with an aborting process.
    static func say(_ text: String) {
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    private static let interesting: [[UInt8]] = [
        Array("{".utf8), Array("}".utf8), Array("[".utf8), Array("\"".utf8), Array("\\u0000".utf8),
        Array("1e309".utf8), Array("-0".utf8), Array("NaN".utf8), Array("null".utf8), [0xFF], [0xC0, 0x80],
        [0xED, 0xA0, 0x80], Array(":".utf8), Array("\n".utf8), Array("- ".utf8), Array("&a *a".utf8),
    ]

    static func mutate(_ input: inout [UInt8], other: [UInt8], _ g: inout SplitMix64) {
        let position = input.isEmpty ? 0 : Int(g.next() % UInt64(input.count + 1))
        switch g.next() % 6 {
        case 0 where !input.isEmpty:
            let index = min(position, input.count - 1)
            input[index] ^= UInt8(1 << (g.next() % 8))
        case 1:
            input.insert(UInt8(truncatingIfNeeded: g.next()), at: position)
        case 2 where !input.isEmpty:
            let index = min(position, input.count - 1)
            let count = min(input.count - index, 1 + Int(g.next() % 8))
            input.removeSubrange(index..<index + count)
        case 3:
            input.insert(contentsOf: Self.interesting[Int(g.next() % UInt64(Self.interesting.count))], at: position)
        case 4 where !other.isEmpty:
            let from = Int(g.next() % UInt64(other.count))
            let length = min(other.count - from, 1 + Int(g.next() % 32))
            input.insert(contentsOf: other[from..<from + length], at: position)
        default:
            if input.count > 1 { input.swapAt(Int(g.next() % UInt64(input.count)), position % input.count) }
        }
        if input.count > 8192 { input.removeLast(input.count - 8192) }
    }

    static func readInputs(at path: String) -> [[UInt8]] {
        if let directory = opendir(path) {
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if !name.hasPrefix(".") { names.append(name) }
            }
            return names.sorted().flatMap { Self.readInputs(at: path + "/" + $0) }
        }
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return [bytes]
    }

    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Ends the process the way a sanitizer would, with a message, so both libFuzzer and the harness
/// count it as a crash and keep the input (libFuzzer's `-artifact_prefix`, the harness's
/// ``CrashInput``).
public func fuzzFailure(_ message: String, input: [UInt8]) -> Never {
    let shown = String(decoding: input.prefix(300), as: UTF8.self)
    let text = "FUZZ INVARIANT VIOLATED: \(message)\ninput: \(shown)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    abort()
}

/// The input the harness is running, kept where a signal handler can write it out.
///
/// A Swift trap or an `abort` gives no chance to run Swift code that allocates, so the input is copied
/// into a buffer owned here before each run and the artifact path is a C string made once; the
/// handler only calls `open`, `write`, `close` and re-raises, all async-signal-safe.
enum CrashInput {
    nonisolated(unsafe) static var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    nonisolated(unsafe) static var capacity = 1
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>?

    static func install(path: String) {
        Self.path = strdup(path)
        for number in [SIGABRT, SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE] {
            _ = signal(number, CrashInput.handler)
        }
    }

    static func remember(_ input: [UInt8]) {
        if input.count > Self.capacity {
            Self.buffer.deallocate()
            Self.capacity = input.count
            Self.buffer = .allocate(capacity: input.count)
        }
        Self.count = 0
        input.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { Self.buffer.update(from: base, count: source.count) }
        }
        Self.count = input.count
    }

    static let handler: @convention(c) (Int32) -> Void = { number in
        if let path = CrashInput.path {
            let file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            if file >= 0 {
                _ = write(file, CrashInput.buffer, CrashInput.count)
                close(file)
                let note = "random-input harness: crashing input written to "
                _ = write(2, note, strlen(note))
                _ = write(2, path, strlen(path))
                _ = write(2, "\n", 1)
            }
        }
        _ = signal(number, SIG_DFL)
        raise(number)
    }
}

/// One fuzz target: `run` takes one input and calls the real code with it, reporting a broken
/// invariant through `fuzzFailure`. Marked `@main`, the type gets its `main` from here.
public protocol FuzzTarget {
    static func run(_ input: [UInt8])
}

extension FuzzTarget {
    /// libFuzzer's driver in builds with `RLT_LIBFUZZER` (and `-sanitize=fuzzer`), the seeded
    /// random-input harness otherwise, both over the same `run`.
    public static func main() {
        fuzzTargetBody = Self.run
        #if RLT_LIBFUZZER
            exit(runLibFuzzer(fuzzTestOneInput))
        #else
            RandomInputHarness(options: .init(arguments: CommandLine.arguments), body: Self.run).run()
        #endif
    }
}

/// The running target's `run`, set once by `main` before the first input; each fuzz binary holds
/// one target.
nonisolated(unsafe) private var fuzzTargetBody: ([UInt8]) -> Void = { _ in }

/// libFuzzer's per-input callback (also exported under its conventional name for tools).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    fuzzTargetBody(bytes)
    return 0
}

#if RLT_LIBFUZZER
    import CFuzzerDriver

    /// Runs libFuzzer's driver with this process's arguments (`-max_total_time=60 corpus/` …).
    public func runLibFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        return LLVMFuzzerRunDriver(&argc, &argv, callback)
    }
#endif
