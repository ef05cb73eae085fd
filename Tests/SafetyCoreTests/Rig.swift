import SafetyCore
import TestKit

/// A test bench around one `SafetyMachine`: the test kit's ``MachineBench`` (a fake monotonic
/// clock, honest output hardware that reads back what it was told) and a panel whose temperature
/// rises while emitting and falls when dark.
///
/// It is not a fake of the machine: every decision comes from the real core; the rig only plays
/// the world around it and remembers what the machine last commanded.
struct Rig {
    var bench: MachineBench
    /// Panel model for `run(for:)`.
    var temperature: Double = 25
    var ambient: Double = 25
    var heatingPerSecond: Double = 0.05
    var coolingPerSecond: Double = 0.2
    var nextID = 0
    /// Every action the machine returned, in order (for tests that look at a whole scenario).
    var log: [SafetyAction] = []

    init(_ settings: SafetySettings = SafetySettings(), bootID: String = "b1") {
        self.bench = MachineBench(SafetyMachine(settings: settings, bootID: bootID))
    }

    var machine: SafetyMachine {
        get { self.bench.machine }
        set { self.bench.machine = newValue }
    }

    var now: Instant { self.bench.now }
    /// The outputs from the last `setOutputs` the machine returned.
    var outputs: OutputCommand { self.bench.outputs }

    /// Whether the hardware echoes each `setOutputs` as a readback at once (it does unless a test
    /// withholds it).
    var honestHardware = true {
        didSet {
            if self.honestHardware {
                self.bench.hardware = MachineBench.honest
            } else {
                self.bench.hardware = { (_: OutputCommand) -> OutputReadback? in nil }
            }
        }
    }

    var settings: SafetySettings { self.machine.settings }
    var snapshot: SafetySnapshot { self.machine.snapshot(now: self.now) }
    var state: SessionState { self.snapshot.state }

    /// Feeds one event at the current instant.
    @discardableResult
    mutating func send(_ event: SafetyEvent) -> [SafetyAction] {
        let actions = self.bench.send(event)
        self.log += actions
        return actions
    }

    mutating func advance(_ seconds: Double) {
        self.bench.advance(seconds: seconds)
    }

    /// Plays `seconds` of world time in steps of `step`: the panel model, a sample, a tick.
    @discardableResult
    mutating func run(for seconds: Double, step: Double = 0.25, sampling: Bool = true) -> [SafetyAction] {
        var actions: [SafetyAction] = []
        var left = seconds
        while left > 1e-9 {
            let dt = min(step, left)
            left -= dt
            self.advance(dt)
            if self.outputs.emitting {
                self.temperature += self.heatingPerSecond * dt
            } else {
                self.temperature = max(self.ambient, self.temperature - self.coolingPerSecond * dt)
            }
            if sampling { actions += self.send(.temperature(.valid(Celsius(self.temperature)))) }
            actions += self.send(.tick)
        }
        return actions
    }

    mutating func envelope(
        _ command: Command, id: String? = nil, source: CommandSource = .device, retained: Bool = false,
        payloadBytes: Int = 60, sentAtUnixMs: Int64? = nil, ttlMs: Int64? = nil, receivedAtUnixMs: Int64 = 0
    ) -> CommandEnvelope {
        self.nextID += 1
        return CommandEnvelope(
            id: id ?? "c\(self.nextID)", commandName: command.name.rawValue, body: .decoded(command), source: source,
            retained: retained, payloadBytes: payloadBytes, sentAtUnixMs: sentAtUnixMs, ttlMs: ttlMs,
            receivedAtUnixMs: receivedAtUnixMs)
    }

    /// Sends a command from the device topic and returns the actions.
    @discardableResult
    mutating func command(_ command: Command, id: String? = nil) -> [SafetyAction] {
        let envelope = self.envelope(command, id: id)
        return self.send(.command(envelope))
    }

    /// Boot, interlock closed, a first sample: the machine is `idle` and may start.
    static func ready(_ settings: SafetySettings = SafetySettings(), history: [DoseHistoryEntry] = []) -> Rig {
        var rig = Rig(settings)
        rig.send(.boot(BootContext(history: history)))
        rig.send(.input(.interlock, active: true))
        rig.send(.temperature(.valid(Celsius(rig.temperature))))
        return rig
    }

    /// `ready` plus a started default session.
    static func running(_ settings: SafetySettings = SafetySettings(), _ arguments: StartArguments = .init()) -> Rig {
        var rig = Rig.ready(settings)
        rig.command(.start(arguments))
        return rig
    }
}

extension [SafetyAction] {
    var responses: [CommandResponse] {
        self.compactMap { if case .respond(let response) = $0 { response } else { nil } }
    }

    var response: CommandResponse? { self.responses.last }

    var outputCommands: [OutputCommand] {
        self.compactMap { if case .setOutputs(let command) = $0 { command } else { nil } }
    }

    /// Notices as short strings (`aborted(stop)`, `fault_raised(F_OVERTEMP)`), easy to compare.
    var notices: [String] {
        self.compactMap {
            guard case .notify(let notice) = $0 else { return nil }
            return notice.label
        }
    }

    var records: [LedgerRecord] {
        self.compactMap { if case .record(let record) = $0 { record } else { nil } }
    }
}

extension SafetyNotice {
    var label: String {
        switch self {
        case .sessionStarted: "session_started"
        case .paused(_, let reason): "paused(\(reason.rawValue))"
        case .resumed: "resumed"
        case .completed(_, let reason): "completed(\(reason.rawValue))"
        case .aborted(_, let reason): "aborted(\(reason.rawValue))"
        case .faultRaised(let code, _, _): "fault_raised(\(code.rawValue))"
        case .faultCleared(let code): "fault_cleared(\(code.rawValue))"
        case .commandRejected(_, let code, _): "command_rejected(\(code.rawValue))"
        case .temperatureWarning: "temperature_warning"
        }
    }
}

extension OutputCommand {
    /// Whether going from `before` to `self` lowers any channel or drops the master relay.
    func lowers(from before: OutputCommand) -> Bool {
        self.duty.red < before.duty.red || self.duty.nir < before.duty.nir || (before.master && !self.master)
    }
}
