// rlt-bench: micro-benchmarks of the gateway's per-command work, with allocation counts.
//
// Not a test: it prints figures (ns per operation, heap allocations per operation) for command
// decoding, one state-machine step and state encoding, so a regression shows up as a number in
// BENCHMARKS.md rather than as a flaky timed assertion. Run through Benchmarks/run (which preloads
// Benchmarks/alloccount.c so allocations can be counted) or `Benchmarks/run --micro-only`.
#if canImport(Glibc)
    import Glibc
#endif
import Clocks
import GatewayProtocol
import SafetyCore
import TestKit

/// Reads the counter that Benchmarks/alloccount.c exports when it is preloaded; `nil` otherwise.
enum AllocationCounter {
    typealias CountFunction = @convention(c) () -> UInt64
    static let function: CountFunction? = {
        // A nil handle is RTLD_DEFAULT on glibc: search every loaded object, the preloaded one included.
        guard let symbol = dlsym(nil, "rlt_alloc_count") else { return nil }
        return unsafeBitCast(symbol, to: CountFunction.self)
    }()

    static func read() -> UInt64? { self.function?() }
}

func nowNanoseconds() -> Int64 { MonotonicClock.nanoseconds() }

/// Keeps a result alive so the optimiser cannot drop the work that produced it.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

struct Figure {
    var name: String
    var nanosecondsPerOperation: Double
    var allocationsPerOperation: Double?
}

/// Runs `body` `iterations` times in each of `batches` batches; the fastest batch is the figure
/// (the least disturbed by a shared, noisy machine). `body` gets the iteration index.
func measure(_ name: String, iterations: Int, batches: Int = 7, _ body: (Int) -> Void) -> Figure {
    // Warm caches and lazy metadata, with indices after the timed ones (commands need fresh ids).
    for index in 0..<min(iterations, 100) { body(batches * iterations + index) }
    var best = Double.infinity
    var allocations: Double?
    for batch in 0..<batches {
        let allocationsBefore = AllocationCounter.read()
        let start = nowNanoseconds()
        for index in 0..<iterations { body(batch * iterations + index) }
        let elapsed = nowNanoseconds() - start
        if let before = allocationsBefore, let after = AllocationCounter.read() {
            allocations = Double(after - before) / Double(iterations)
        }
        best = min(best, Double(elapsed) / Double(iterations))
    }
    return Figure(name: name, nanosecondsPerOperation: best, allocationsPerOperation: allocations)
}

let getPayload = Array(#"{"id":"c17","cmd":"get"}"#.utf8)
let startPayload = Array(
    #"{"id":"c18","cmd":"start","args":{"channels":"both","intensity_pct":100,"duration_s":600},"ts":1795687156173,"ttl_ms":5000}"#
        .utf8)
let garbagePayload = Array(#"{"id":"c19","cmd":"#.utf8)

func decode(_ payload: [UInt8]) -> CommandEnvelope {
    CommandDecoder.decode(
        payload, source: .device, retained: false, receivedAtUnixMs: 1_795_687_156_200, maximumBytes: 4096)
}

let second: Int64 = 1_000_000_000
var figures: [Figure] = []

figures.append(measure("decode get", iterations: 20000) { _ in blackHole(decode(getPayload)) })
figures.append(measure("decode start (args, ts, ttl)", iterations: 20000) { _ in blackHole(decode(startPayload)) })
figures.append(measure("decode malformed JSON", iterations: 20000) { _ in blackHole(decode(garbagePayload)) })

var clock: Int64 = 1000 * second

/// A machine booted with a temperature and a closed interlock, as the gateway has it when idle.
func bootedMachine(at clock: Int64, settings: SafetySettings = SafetySettings()) -> SafetyMachine {
    var machine = SafetyMachine(settings: settings, bootID: "bench")
    let now = Instant(nanoseconds: clock)
    _ = machine.handle(.boot(BootContext()), now: now)
    _ = machine.handle(.temperature(.valid(Celsius(25))), now: now)
    _ = machine.handle(.input(.interlock, active: true), now: now)
    return machine
}
var machine = bootedMachine(at: clock)

// Distinct ids, made before timing: a repeated id would take the duplicate shortcut.
let getEnvelopes = (0..<20100).map { index -> CommandEnvelope in
    var envelope = decode(getPayload)
    envelope.id = "g\(index)"
    return envelope
}
figures.append(
    measure("machine step: get", iterations: 2000, batches: 10) { index in
        clock += 1_000_000
        blackHole(machine.handle(.command(getEnvelopes[index % getEnvelopes.count]), now: Instant(nanoseconds: clock)))
    })
// What the loop feeds the core in one idle second: ten ticks and four sensor samples.
figures.append(
    measure("machine: one idle second (10 ticks, 4 samples)", iterations: 2000) { _ in
        for step in 0..<20 {
            clock += 50_000_000
            if step % 2 == 1 { blackHole(machine.handle(.tick, now: Instant(nanoseconds: clock))) }
            if step % 5 == 4 {
                blackHole(machine.handle(.temperature(.valid(Celsius(25))), now: Instant(nanoseconds: clock)))
            }
        }
    })
figures.append(
    measure("machine step: temperature sample", iterations: 20000) { _ in
        clock += 250_000_000
        blackHole(machine.handle(.temperature(.valid(Celsius(25))), now: Instant(nanoseconds: clock)))
    })

// start + readback + stop + readback. The pure core is measured, not the policy: a machine whose
// daily limits, cooldown and rate limit never refuse (values no config may set), 1 ms apart.
var unlimited = SafetySettings(rateLimit: SafetySettings.RateLimit(perSecond: 1e9, burst: 1e9))
unlimited.limits.maxDailySessions = Int.max
unlimited.limits.maxDailyDose = Dose(joulesPerCm2: 1e12)
unlimited.limits.cooldownSeconds = 0
let startEnvelopes = (0..<4100).map { index -> CommandEnvelope in
    var envelope = decode(startPayload)
    envelope.id = "s\(index)"
    envelope.sentAtUnixMs = nil
    envelope.ttlMs = nil
    return envelope
}
let stopEnvelopes = (0..<4100).map { index -> CommandEnvelope in
    var envelope = decode(Array(#"{"id":"x","cmd":"stop"}"#.utf8))
    envelope.id = "t\(index)"
    return envelope
}
var refused = 0
// The outputs read back what they were told, as the loop feeds them back (the test kit's bench).
var pairBench = MachineBench(bootedMachine(at: clock, settings: unlimited), now: Instant(nanoseconds: clock))
figures.append(
    measure("machine steps: start/stop pair", iterations: 400, batches: 10) { index in
        pairBench.advance(seconds: 0.001)
        // Samples keep arriving in a real gateway; without them the sensor goes stale after 3 s.
        if index % 100 == 0 { pairBench.send(.temperature(.valid(Celsius(25)))) }
        let started = pairBench.send(.command(startEnvelopes[index % startEnvelopes.count]))
        pairBench.send(.command(stopEnvelopes[index % stopEnvelopes.count]))
        if started.lastOutputCommand == nil { refused += 1 }
    })
machine = pairBench.machine
clock = pairBench.now.nanoseconds

let snapshot = machine.snapshot(now: Instant(nanoseconds: clock))
// What a panel in use publishes: the ledger's totals after a few hundred sessions.
let lifetime = LifetimeTotals(dose: Dose(joulesPerCm2: 9_876.543), emittingSeconds: 345_678.9)
figures.append(
    measure("encode state (JSON bytes)", iterations: 20000) { index in
        blackHole(StateDocument(snapshot, lifetime: lifetime, unixMs: 1_795_687_156_200, seq: UInt64(index)).json.bytes)
    })
let getResponse = machine.handle(
    .command(decode(Array(#"{"id":"last","cmd":"get"}"#.utf8))), now: Instant(nanoseconds: clock))
if let response = getResponse.compactMap({ if case .respond(let r) = $0 { r } else { nil } }).first {
    figures.append(
        measure("encode get response with state", iterations: 20000) { index in
            let state = StateDocument(snapshot, lifetime: lifetime, unixMs: 1_795_687_156_200, seq: UInt64(index))
            blackHole(ResponseDocument(response, data: state).json.bytes)
        })
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
func lpad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
func oneDecimal(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
}

print("micro-benchmarks (release, fastest batch)                ns/op   allocs/op")
var json: [String] = []
for figure in figures {
    let allocations = figure.allocationsPerOperation.map(oneDecimal) ?? "n/a"
    print("  \(pad(figure.name, 48)) \(lpad(oneDecimal(figure.nanosecondsPerOperation), 9)) \(lpad(allocations, 10))")
    let allocationsJSON = figure.allocationsPerOperation.map { "\($0)" } ?? "null"
    json.append(
        "{\"name\":\"\(figure.name)\",\"ns_per_op\":\(figure.nanosecondsPerOperation),\"allocs_per_op\":\(allocationsJSON)}"
    )
}
if refused > 0 { print("  warning: \(refused) starts were refused; the pair figure is not a real start/stop") }
if AllocationCounter.read() == nil { print("  (allocations: run with LD_PRELOAD of Benchmarks/alloccount.c)") }
if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "--json" {
    let text = "[" + json.joined(separator: ",") + "]\n"
    if let file = fopen(CommandLine.arguments[2], "w") {
        fputs(text, file)
        fclose(file)
    }
}
