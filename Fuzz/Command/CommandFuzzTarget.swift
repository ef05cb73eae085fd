import FuzzSupport
#if canImport(Glibc)
    import Glibc
#endif
import GatewayProtocol
import SafetyCore
import TestKit

/// Fuzz target: untrusted `cmd` payloads through ``CommandDecoder`` into one ``SafetyMachine`` step
/// after another, with the world (temperature, interlock, link, time) also played from the input.
///
/// The input is a script of lines. A line starting with `~` is a world event (`~t<°C>`, `~i` toggles
/// the interlock, `~l` toggles the MQTT link, `~k<n>` lets n × 0.5 s pass, `~b` makes the outputs read
/// back wrongly once, `~s` shuts down); any other line is a command payload, retained when it starts
/// with byte 0x01. After every step the safety invariants of docs/DESIGN.md must hold, or the target
/// aborts, which libFuzzer (or the fallback harness) reports as a crash with the input.
enum CommandFuzzTarget {
    /// A key, so every payload with a `sig` also goes through the canonical form and the MAC check
    /// (arbitrary `args`, nested and escaped, included); the machine itself does not require signing.
    static let key = CommandSignature(key: Array(repeating: 0x42, count: 32))

    static func run(_ input: [UInt8]) {
        var world = World()
        world.send(.boot(BootContext()))
        world.send(.input(.interlock, active: true))
        world.send(.temperature(.valid(Celsius(30))))
        for line in input.split(separator: 0x0A, maxSplits: 64, omittingEmptySubsequences: true).prefix(64) {
            let bytes = Array(line)
            if bytes.first == UInt8(ascii: "~"), bytes.count >= 2 {
                world.worldEvent(bytes[1], argument: Array(bytes.dropFirst(2)))
            } else {
                let retained = bytes.first == 0x01
                let payload = retained ? Array(bytes.dropFirst()) : bytes
                let envelope = CommandDecoder.decode(
                    payload, source: payload.count % 7 == 3 ? .fleetAll : .device, retained: retained,
                    receivedAtUnixMs: 1_700_000_000_000 + world.now.nanoseconds / 1_000_000,
                    maximumBytes: world.machine.settings.maxCommandBytes, topic: "rlt/fuzz/cmd", key: Self.key)
                world.send(.command(envelope))
            }
            world.advance(0.1)
            world.send(.temperature(.valid(Celsius(world.temperature))))
            world.send(.tick)
            world.checkInvariants(input)
        }
    }
}

/// The machine and the output hardware around it (the test kit's bench); `~b` makes the hardware
/// read back wrongly once.
struct World {
    var bench: MachineBench
    var temperature = 30.0
    var interlockClosed = true
    var linked = true
    private let readbackFault: ReadbackFault

    /// Shared with the bench's hardware closure, which cannot reach into the world it belongs to.
    final class ReadbackFault {
        var lieOnce = false
    }

    init() {
        let fault = ReadbackFault()
        self.readbackFault = fault
        self.bench = MachineBench(SafetyMachine(settings: SafetySettings(), bootID: "fuzz")) { command in
            var readback = command.expectedReadback
            if fault.lieOnce {
                readback.red.toggle()
                fault.lieOnce = false
            }
            return readback
        }
    }

    var machine: SafetyMachine { self.bench.machine }
    var now: Instant { self.bench.now }
    var outputs: OutputCommand { self.bench.outputs }

    mutating func send(_ event: SafetyEvent) {
        self.bench.send(event)
    }

    mutating func advance(_ seconds: Double) {
        self.bench.advance(seconds: seconds)
    }

    mutating func worldEvent(_ kind: UInt8, argument: [UInt8]) {
        let number = Double(String(decoding: argument.prefix(24), as: UTF8.self))
        switch kind {
        case UInt8(ascii: "t"):
            if let number {
                self.temperature = number
                self.send(.temperature(number.isFinite ? .valid(Celsius(number)) : .invalid("not a number")))
            } else {
                self.send(.temperature(.invalid("garbage")))
            }
        case UInt8(ascii: "i"):
            self.interlockClosed.toggle()
            self.send(.input(.interlock, active: self.interlockClosed))
        case UInt8(ascii: "l"):
            self.linked.toggle()
            self.send(.linkChanged(connected: self.linked))
        case UInt8(ascii: "k"):
            let wanted = number ?? 1
            let steps = wanted.isFinite ? Int(min(600, max(1, wanted))) : 1
            for _ in 0..<steps {
                self.advance(0.5)
                self.send(.temperature(.valid(Celsius(self.temperature))))
                self.send(.tick)
            }
        case UInt8(ascii: "b"):
            self.readbackFault.lieOnce = true
        case UInt8(ascii: "s"):
            self.send(.shutdown)
        default:
            self.send(.tick)
        }
    }

    /// docs/DESIGN.md's invariants: emission only while running, never with a latched fault or the
    /// interlock open; the session dose never beyond its limit by more than a tick's worth.
    func checkInvariants(_ input: [UInt8]) {
        let snapshot = self.machine.snapshot(now: self.now)
        let emitting = self.outputs.emitting
        if emitting && snapshot.state != .running {
            fuzzFailure("emitting in state \(snapshot.state)", input: input)
        }
        if emitting && !snapshot.faults.isEmpty {
            fuzzFailure("emitting with faults \(snapshot.faults)", input: input)
        }
        if emitting && !self.interlockClosed {
            fuzzFailure("emitting with the interlock open", input: input)
        }
        let limit = self.machine.settings.limits.maxSessionDose.joulesPerCm2
        let total = snapshot.dose.red.joulesPerCm2 + snapshot.dose.nir.joulesPerCm2
        if total > limit + 0.5 {
            fuzzFailure("session dose \(total) above the limit \(limit)", input: input)
        }
    }
}

/// libFuzzer's per-input callback (also exported under its conventional name for tools).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    CommandFuzzTarget.run(bytes)
    return 0
}

/// Under libFuzzer (`-DRLT_LIBFUZZER`, `-sanitize=fuzzer,address`) hands control to its driver;
/// otherwise replays the corpus and mutates it with a seeded generator.
@main
struct CommandFuzzMain {
    static func main() {
        #if RLT_LIBFUZZER
            exit(runLibFuzzer(fuzzTestOneInput))
        #else
            RandomInputHarness(options: .init(arguments: CommandLine.arguments), body: CommandFuzzTarget.run).run()
        #endif
    }
}
