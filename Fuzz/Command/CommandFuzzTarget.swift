import FuzzSupport
#if canImport(Glibc)
    import Glibc
#endif
import GatewayProtocol
import SafetyCore
import TestKit

/// Fuzz target: untrusted `cmd` payloads through ``CommandDecoder`` into the ``SafetyMachine``, with
/// the world around it (settings, temperature, sensor, interlock, link, time, readback) played from
/// the same input, and the test kit's ``InvariantWorld`` checking docs/DESIGN.md's invariants after
/// every event: no light above the cutoff, with the interlock open, with a stale sensor or outside
/// `running`; never beyond the session's duration or dose, nor the 24 h dose and session count, by
/// more than a tick; no start accepted from a fleet topic, retained or past its `ts` + `ttl_ms`.
///
/// The input is a script of lines. A first line `~c<bytes>` picks the settings (each byte one knob:
/// low limits reach the 24 h rules within a script). A line starting with `~` is a world event:
/// `~t<°C>` a sample (anything unparseable is an invalid sample), `~i` toggles the interlock, `~l`
/// the MQTT link, `~e` the emission sense, `~k<n>` lets n × 0.5 s pass with a sample and a tick each,
/// `~w<n>` the same without samples (the sensor goes stale), `~h<n>` jumps n × 10 min while the
/// lines are off (the cooldown, the 24 h window), `~b` makes the hardware read back wrongly once,
/// `~s` shuts down. Any other line is a command payload; a first byte 0x01 marks it retained, 0x02
/// sends it on `_all/cmd`, 0x03 on a group's topic.
@main
enum CommandFuzzTarget: FuzzTarget {
    /// A key, so every payload with a `sig` also goes through the canonical form and the MAC check
    /// (arbitrary `args`, nested and escaped, included); the machine itself does not require signing
    /// unless the settings line asks for it.
    static let key = CommandSignature(key: Array(repeating: 0x42, count: 32))
    static let wallClockBase: Int64 = 1_700_000_000_000
    static let topic = "rlt/fuzz/cmd"

    static func run(_ input: [UInt8]) {
        var lines = input.split(separator: 0x0A, maxSplits: 64, omittingEmptySubsequences: true).prefix(64)
        var settings = SafetySettings()
        if let first = lines.first, first.starts(with: [UInt8(ascii: "~"), UInt8(ascii: "c")]) {
            settings = Self.settings(Array(first.dropFirst(2)))
            lines = lines.dropFirst()
        }
        var script = Script(settings: settings)
        for line in lines {
            let bytes = Array(line)
            if bytes.first == UInt8(ascii: "~"), bytes.count >= 2 {
                script.worldEvent(bytes[1], argument: Array(bytes.dropFirst(2)))
            } else {
                script.command(bytes)
            }
            script.step(0.1)
            if let violation = script.world.violation { fuzzFailure(violation, input: input) }
        }
    }

    /// Settings from the bytes after `~c`, one knob per byte (missing bytes keep the defaults), the
    /// same knobs the property tests vary.
    static func settings(_ knobs: [UInt8]) -> SafetySettings {
        var settings = SafetySettings()
        func knob(_ index: Int) -> Int? { index < knobs.count ? Int(knobs[index]) : nil }
        if let k = knob(0) {
            settings.inputs = .init(interlock: k & 1 == 0, stopButton: false, emissionSense: k & 2 != 0)
            settings.hasMasterRelay = k & 4 == 0
        }
        if let k = knob(1) { settings.limits.maxSessionSeconds = [30, 60, 1200, 3600][k % 4] }
        if let k = knob(2) { settings.limits.maxSessionDose = Dose(joulesPerCm2: [0.5, 1.5, 60][k % 3]) }
        if let k = knob(3) { settings.limits.maxDailyDose = Dose(joulesPerCm2: [1, 2.5, 120][k % 3]) }
        if let k = knob(4) { settings.limits.maxDailySessions = 1 + k % 3 }
        if let k = knob(5) { settings.limits.cooldownSeconds = [0, 2, 120][k % 3] }
        if let k = knob(6) { settings.presets.durationSeconds = [5, 10, 20][k % 3] }
        if let k = knob(7) { settings.policy.onLinkLoss = SafetySettings.LinkLossPolicy.allCases[k % 3] }
        if let k = knob(8) { settings.dimmable = PerChannel(red: k & 1 != 0, nir: k & 2 != 0) }
        if let k = knob(9) { settings.signing.required = k & 1 != 0 }
        return settings
    }
}

/// One script's world: the invariant world, the panel temperature it plays, and the clocks.
struct Script {
    var world: InvariantWorld
    var temperature = 30.0
    var sampling = true
    var linked = true

    init(settings: SafetySettings) {
        self.world = InvariantWorld(settings: settings)
        self.world.deliver(.boot(BootContext()))
        self.world.deliver(.input(.interlock, active: true))
        self.world.deliver(.temperature(.valid(Celsius(self.temperature))))
    }

    /// Time passes; the sensor samples (unless it died) and the loop ticks, as the gateway does.
    mutating func step(_ seconds: Double) {
        self.world.advance(seconds)
        if self.sampling { self.world.deliver(.temperature(.valid(Celsius(self.temperature)))) }
        self.world.deliver(.tick)
    }

    mutating func command(_ line: [UInt8]) {
        var payload = ArraySlice(line)
        var source = CommandSource.device
        var retained = false
        switch payload.first {
        case 0x01: retained = true
        case 0x02: source = .fleetAll
        case 0x03: source = .fleetGroup("g")
        default: break
        }
        if let first = payload.first, first >= 0x01, first <= 0x03 { payload = payload.dropFirst() }
        let envelope = CommandDecoder.decode(
            Array(payload), source: source, retained: retained,
            receivedAtUnixMs: CommandFuzzTarget.wallClockBase + self.world.now.nanoseconds / 1_000_000,
            maximumBytes: self.world.settings.maxCommandBytes, topic: CommandFuzzTarget.topic,
            key: CommandFuzzTarget.key)
        self.world.deliver(.command(envelope))
    }

    mutating func worldEvent(_ kind: UInt8, argument: [UInt8]) {
        let number = Double(String(decoding: argument.prefix(24), as: UTF8.self))
        /// A count from the argument, bounded so one line cannot make an input slow.
        func count(_ limit: Double) -> Int {
            guard let number, number.isFinite else { return 1 }
            return Int(min(limit, max(1, number)))
        }
        switch kind {
        case UInt8(ascii: "t"):
            self.sampling = true
            if let number {
                self.temperature = number
                self.world.deliver(.temperature(number.isFinite ? .valid(Celsius(number)) : .invalid("not a number")))
            } else {
                self.world.deliver(.temperature(.invalid("garbage")))
            }
        case UInt8(ascii: "i"):
            self.world.deliver(.input(.interlock, active: !self.world.interlockClosed))
        case UInt8(ascii: "l"):
            self.linked.toggle()
            self.world.deliver(.linkChanged(connected: self.linked))
        case UInt8(ascii: "e"):
            self.world.deliver(.input(.emissionSense, active: !self.world.sensed))
        case UInt8(ascii: "k"):
            self.sampling = true
            for _ in 0..<count(600) { self.step(0.5) }
        case UInt8(ascii: "w"):
            self.sampling = false
            for _ in 0..<count(60) { self.step(0.5) }
        case UInt8(ascii: "h"):
            // A jump is only honest while nothing is lit: the dose bounds allow one tick of light.
            for _ in 0..<count(200) {
                if self.world.lit {
                    self.step(0.5)
                } else {
                    self.world.advance(600)
                    self.world.deliver(.temperature(.valid(Celsius(self.temperature))))
                    self.world.deliver(.tick)
                }
            }
        case UInt8(ascii: "b"):
            var readback = self.world.outputs.expectedReadback
            readback.red.toggle()
            self.world.deliver(.outputReadback(readback))
        case UInt8(ascii: "s"):
            self.world.deliver(.shutdown)
        default:
            self.world.deliver(.tick)
        }
    }
}
