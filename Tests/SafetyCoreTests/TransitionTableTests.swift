import SafetyCore
import Testing

/// Where a row starts; reached through real events, never by poking the machine.
enum Given: String, Sendable {
    case idle, running, paused, cooldown, fault
    /// Booted but the interlock never closed.
    case interlockOpen
    /// Running, then paused by the interlock opening.
    case pausedByInterlock

    func arrange(_ settings: SafetySettings) -> Rig {
        switch self {
        case .idle:
            return Rig.ready(settings)
        case .running:
            return Rig.running(settings)
        case .paused:
            var rig = Rig.running(settings)
            rig.command(.pause)
            return rig
        case .cooldown:
            var rig = Rig.running(settings)
            rig.command(.stop)
            return rig
        case .fault:
            // Over-temperature while running, then cooled: latched, with its condition gone.
            var rig = Rig.running(settings)
            rig.send(.temperature(.valid(Celsius(66))))
            rig.send(.temperature(.valid(Celsius(45))))
            rig.temperature = 45
            return rig
        case .interlockOpen:
            var rig = Rig(settings)
            rig.send(.boot(BootContext()))
            rig.send(.temperature(.valid(Celsius(25))))
            return rig
        case .pausedByInterlock:
            var rig = Rig.running(settings)
            rig.send(.input(.interlock, active: false))
            rig.send(.input(.interlock, active: true))
            return rig
        }
    }
}

/// What happens to the machine in a row.
enum When: Sendable {
    case event(SafetyEvent)
    case command(Command)
    case envelope(CommandEnvelope)
    /// World time with samples and ticks from the rig's panel model.
    case run(seconds: Double)
    /// Ticks only, no samples.
    case ticks(seconds: Double)
    case temperature(Double)
    /// A constant temperature, sampled every 0.25 s with a tick, for `seconds`.
    case hold(Double, seconds: Double)
    case steps([When])

    func apply(to rig: inout Rig) -> [SafetyAction] {
        switch self {
        case .event(let event): rig.send(event)
        case .command(let command): rig.command(command)
        case .envelope(let envelope): rig.send(.command(envelope))
        case .run(let seconds): rig.run(for: seconds)
        case .ticks(let seconds): rig.run(for: seconds, sampling: false)
        case .temperature(let t):
            {
                rig.temperature = t
                return rig.send(.temperature(.valid(Celsius(t))))
            }()
        case .hold(let t, let seconds):
            {
                var actions: [SafetyAction] = []
                for _ in 0..<Int((seconds / 0.25).rounded()) {
                    rig.advance(0.25)
                    actions += rig.send(.temperature(.valid(Celsius(t))))
                    actions += rig.send(.tick)
                }
                return actions
            }()
        case .steps(let steps): steps.flatMap { $0.apply(to: &rig) }
        }
    }
}

/// One row of a rule's transition table: given a state, when something happens, then the state,
/// the outputs, the response code and the notice.
struct Row: Sendable, CustomTestStringConvertible {
    enum Outputs: Sendable { case on, off }

    var rule: String
    var name: String
    var settings = SafetySettings()
    var given: Given
    var when: When
    var then: SessionState
    /// `nil`: no command in the row, or it must succeed (see `ok`).
    var code: ResponseCode?
    /// The last response must be `ok`.
    var ok = false
    var outputs: Outputs
    var notice: String?
    var faults: [FaultCode]?

    var testDescription: String { "\(self.rule) \(self.given.rawValue): \(self.name)" }

    init(
        _ rule: String, _ name: String, settings: SafetySettings = SafetySettings(), given: Given, when: When,
        then: SessionState, code: ResponseCode? = nil, ok: Bool = false, outputs: Outputs, notice: String? = nil,
        faults: [FaultCode]? = nil
    ) {
        self.rule = rule
        self.name = name
        self.settings = settings
        self.given = given
        self.when = when
        self.then = then
        self.code = code
        self.ok = ok
        self.outputs = outputs
        self.notice = notice
        self.faults = faults
    }
}

func settings(_ change: (inout SafetySettings) -> Void) -> SafetySettings {
    var settings = SafetySettings()
    change(&settings)
    return settings
}

let doseTarget10 = StartArguments(doseTarget: Dose(joulesPerCm2: 10))

/// The table, grouped by rule (docs/DESIGN.md "Safety rules").
let transitionTable: [Row] = [
    // S1 duration
    Row(
        "S1", "planned duration reached completes", given: .running, when: .run(seconds: 600.25), then: .cooldown,
        outputs: .off, notice: "completed(duration)"),
    Row(
        "S1", "before the planned end keeps running", given: .running, when: .run(seconds: 599), then: .running,
        outputs: .on),
    Row(
        "S1", "duration above the limit is refused", given: .idle,
        when: .command(.start(StartArguments(durationSeconds: 1201))), then: .idle, code: .range, outputs: .off),
    Row(
        "S1", "pauses are not counted", given: .running,
        when: .steps([.run(seconds: 300), .command(.pause), .run(seconds: 400), .command(.resume), .run(seconds: 299)]),
        then: .running, outputs: .on),
    // S2 dose target / session limit
    Row(
        "S2", "dose target reached completes", given: .idle,
        when: .steps([.command(.start(doseTarget10)), .run(seconds: 112)]), then: .cooldown, outputs: .off,
        notice: "completed(dose_target)"),
    Row(
        "S2", "target above the session limit is refused", given: .idle,
        when: .command(.start(StartArguments(doseTarget: Dose(joulesPerCm2: 61)))), then: .idle, code: .doseLimit,
        outputs: .off),
    Row(
        "S2", "plan above the session limit is refused", given: .idle,
        when: .command(.start(StartArguments(durationSeconds: 1200))), then: .idle, code: .doseLimit, outputs: .off),
    Row(
        "S2", "long plan with a target within the limit starts", given: .idle,
        when: .command(.start(StartArguments(durationSeconds: 1200, doseTarget: Dose(joulesPerCm2: 60)))),
        then: .running, ok: true, outputs: .on, notice: "session_started"),
    // S3 rolling 24 h
    Row(
        "S3", "session count reached is refused",
        settings: settings { $0.limits.maxDailySessions = 1 }, given: .cooldown,
        when: .steps([.run(seconds: 200), .command(.start(.init()))]), then: .idle, code: .doseLimit, outputs: .off),
    Row(
        "S3", "plan beyond the daily allowance is refused",
        settings: settings { $0.limits.maxDailyDose = Dose(joulesPerCm2: 50) }, given: .idle,
        when: .command(.start(.init())), then: .idle, code: .doseLimit, outputs: .off),
    // S4 cooldown
    Row(
        "S4", "start during cooldown is refused", given: .cooldown, when: .command(.start(.init())),
        then: .cooldown, code: .cooldown, outputs: .off),
    Row(
        "S4", "rest time over and cool ends cooldown", given: .cooldown, when: .run(seconds: 120), then: .idle,
        outputs: .off),
    Row(
        "S4", "rest time over but hot stays in cooldown", given: .cooldown,
        when: .hold(52, seconds: 200), then: .cooldown, outputs: .off),
    Row(
        "S4", "cooling below resume after the rest ends cooldown", given: .cooldown,
        when: .steps([.hold(52, seconds: 200), .hold(49.5, seconds: 0.25)]), then: .idle, outputs: .off),
    // S5 over-temperature
    Row(
        "S5", "cutoff while running latches", given: .running, when: .temperature(65), then: .fault, outputs: .off,
        notice: "fault_raised(F_OVERTEMP)", faults: [.overTemperature]),
    Row(
        "S5", "cutoff while idle latches", given: .idle, when: .temperature(70), then: .fault, outputs: .off,
        notice: "fault_raised(F_OVERTEMP)", faults: [.overTemperature]),
    Row(
        "S5", "ack above resume is refused", given: .running,
        when: .steps([.temperature(66), .temperature(51), .command(.ack(.one(.overTemperature)))]), then: .fault,
        code: .faultActive, outputs: .off, faults: [.overTemperature]),
    Row(
        "S5", "ack at resume clears into cooldown", given: .fault,
        when: .steps([.temperature(50), .command(.ack(.one(.overTemperature)))]), then: .cooldown, ok: true,
        outputs: .off, notice: "fault_cleared(F_OVERTEMP)", faults: []),
    Row(
        "S5", "warning at warn_c", given: .running, when: .temperature(55), then: .running, outputs: .on,
        notice: "temperature_warning"),
    Row(
        "S5", "start while above resume is refused", given: .idle,
        when: .steps([.temperature(50), .command(.start(.init()))]), then: .idle, code: .overTemperature,
        outputs: .off),
    // S6 invalid readings
    Row(
        "S6", "three invalid readings latch", given: .running,
        when: .steps([
            .event(.temperature(.invalid("EIO"))), .event(.temperature(.invalid("EIO"))),
            .event(.temperature(.invalid("EIO"))),
        ]),
        then: .fault, outputs: .off, notice: "fault_raised(F_SENSOR_INVALID)", faults: [.sensorInvalid]),
    Row(
        "S6", "two invalid then valid does not", given: .running,
        when: .steps([
            .event(.temperature(.invalid("EIO"))), .event(.temperature(.invalid("nan"))),
            .temperature(26), .event(.temperature(.invalid("EIO"))),
        ]),
        then: .running, outputs: .on),
    Row(
        "S6", "out of range counts as invalid", given: .running,
        when: .steps([
            .event(.temperature(.valid(Celsius(130)))), .event(.temperature(.valid(Celsius(-40)))),
            .event(.temperature(.valid(Celsius(.nan)))),
        ]),
        then: .fault, outputs: .off, notice: "fault_raised(F_SENSOR_INVALID)", faults: [.sensorInvalid]),
    // S7 stale sensor
    Row(
        "S7", "no sample for 3 s while running latches", given: .running, when: .ticks(seconds: 3), then: .fault,
        outputs: .off, notice: "fault_raised(F_SENSOR_STALE)", faults: [.sensorStale]),
    Row(
        "S7", "no sample for 2.75 s keeps running", given: .running, when: .ticks(seconds: 2.75), then: .running,
        outputs: .on),
    Row(
        "S7", "ack while still stale is refused", given: .idle,
        when: .steps([.ticks(seconds: 4), .command(.ack(.one(.sensorStale)))]), then: .fault, code: .faultActive,
        outputs: .off, faults: [.sensorStale]),
    Row(
        "S7", "ack after a fresh sample clears", given: .idle,
        when: .steps([.ticks(seconds: 4), .temperature(25), .command(.ack(.all))]), then: .idle, ok: true,
        outputs: .off, notice: "fault_cleared(F_SENSOR_STALE)", faults: []),
    // S8 implausible heating
    Row(
        "S8", "no rise within the watch period latches", given: .running,
        when: .steps([.event(.tick)] + (0..<122).map { _ in When.steps([.ticks(seconds: 1), .temperature(25)]) }),
        then: .fault, outputs: .off, notice: "fault_raised(F_THERMAL_IMPLAUSIBLE)", faults: [.thermalImplausible]),
    Row(
        "S8", "a slow rise passes the watch", given: .running, when: .run(seconds: 200), then: .running,
        outputs: .on),
    Row(
        "S8", "a runaway latches", given: .running,
        when: .steps([
            .run(seconds: 5), .temperature(27), .ticks(seconds: 1), .temperature(30), .ticks(seconds: 1),
            .temperature(33),
        ]),
        then: .fault, outputs: .off, notice: "fault_raised(F_THERMAL_IMPLAUSIBLE)", faults: [.thermalImplausible]),
    // S9 output plausibility
    Row(
        "S9", "readback off while commanded on latches after 1 s", given: .running,
        when: .steps([.event(.outputReadback(.off)), .run(seconds: 1)]), then: .fault, outputs: .off,
        notice: "fault_raised(F_OUTPUT_MISMATCH)", faults: [.outputMismatch]),
    Row(
        "S9", "a short readback glitch is tolerated", given: .running,
        when: .steps([
            .event(.outputReadback(.off)), .run(seconds: 0.5),
            .event(.outputReadback(OutputReadback(red: true, nir: true, master: true))), .run(seconds: 2),
        ]),
        then: .running, outputs: .on),
    Row(
        "S9", "readback stuck on while idle latches", given: .idle,
        when: .steps([
            .event(.outputReadback(OutputReadback(red: true, nir: false, master: false))),
            .run(seconds: 1),
        ]),
        then: .fault, outputs: .off, notice: "fault_raised(F_OUTPUT_MISMATCH)", faults: [.outputMismatch]),
    Row(
        "S9", "emission sense dark while on latches",
        settings: settings { $0.inputs.emissionSense = true }, given: .idle,
        when: .steps([.command(.start(.init())), .run(seconds: 1)]), then: .fault, outputs: .off,
        notice: "fault_raised(F_OUTPUT_MISMATCH)", faults: [.outputMismatch]),
    // S10 interlock
    Row(
        "S10", "opening pauses at once", given: .running, when: .event(.input(.interlock, active: false)),
        then: .paused, outputs: .off, notice: "paused(interlock)"),
    Row(
        "S10", "closing again never auto-resumes", given: .pausedByInterlock, when: .run(seconds: 5),
        then: .paused, outputs: .off),
    Row(
        "S10", "resume while open is refused", given: .paused,
        when: .steps([.event(.input(.interlock, active: false)), .command(.resume)]), then: .paused,
        code: .interlock, outputs: .off),
    Row(
        "S10", "resume after closing works", given: .pausedByInterlock, when: .command(.resume), then: .running,
        ok: true, outputs: .on, notice: "resumed"),
    Row(
        "S10", "start while open is refused", given: .interlockOpen, when: .command(.start(.init())), then: .idle,
        code: .interlock, outputs: .off),
    Row(
        "S10", "no interlock configured ignores the input",
        settings: settings { $0.inputs.interlock = false }, given: .running,
        when: .event(.input(.interlock, active: false)), then: .running, outputs: .on),
    // S11 stop button
    Row(
        "S11", "stop button stops the session",
        settings: settings { $0.inputs.stopButton = true }, given: .running,
        when: .event(.input(.stopButton, active: true)), then: .cooldown, outputs: .off,
        notice: "aborted(stop_button)"),
    Row(
        "S11", "stop button stops a paused session",
        settings: settings { $0.inputs.stopButton = true }, given: .paused,
        when: .event(.input(.stopButton, active: true)), then: .cooldown, outputs: .off,
        notice: "aborted(stop_button)"),
    Row(
        "S11", "unconfigured stop button is ignored", given: .running,
        when: .event(.input(.stopButton, active: true)), then: .running, outputs: .on),
    // S12 link loss
    Row(
        "S12", "continue keeps emitting", given: .running, when: .event(.linkChanged(connected: false)),
        then: .running, outputs: .on),
    Row(
        "S12", "continue still ends at the planned end", given: .running,
        when: .steps([.event(.linkChanged(connected: false)), .run(seconds: 600.25)]), then: .cooldown,
        outputs: .off, notice: "completed(duration)"),
    Row(
        "S12", "pause policy pauses",
        settings: settings { $0.policy.onLinkLoss = .pause }, given: .running,
        when: .event(.linkChanged(connected: false)), then: .paused, outputs: .off, notice: "paused(link_loss)"),
    Row(
        "S12", "stop policy stops",
        settings: settings { $0.policy.onLinkLoss = .stop }, given: .running,
        when: .event(.linkChanged(connected: false)), then: .cooldown, outputs: .off, notice: "aborted(link_loss)"),
    Row(
        "S12", "reconnect does not resume",
        settings: settings { $0.policy.onLinkLoss = .pause }, given: .running,
        when: .steps([.event(.linkChanged(connected: false)), .event(.linkChanged(connected: true))]),
        then: .paused, outputs: .off),
    // S13 boot / unclean
    Row(
        "S13", "unclean previous session latches", given: .idle,
        when: .event(.boot(BootContext(uncleanSessionID: "old-3"))), then: .fault, outputs: .off,
        notice: "fault_raised(F_UNCLEAN_SHUTDOWN)", faults: [.uncleanShutdown]),
    Row(
        "S13", "unclean shutdown is acknowledgeable", given: .idle,
        when: .steps([.event(.boot(BootContext(uncleanSessionID: "old-3"))), .command(.ack(.all))]), then: .idle,
        ok: true, outputs: .off, faults: []),
    Row(
        "S13", "policy off: no latch",
        settings: settings { $0.policy.latchOnUncleanRestart = false }, given: .idle,
        when: .event(.boot(BootContext(uncleanSessionID: "old-3"))), then: .idle, outputs: .off, faults: []),
    // S14 admission
    Row(
        "S14", "retained start never acts", given: .idle,
        when: .envelope(
            CommandEnvelope(id: "r1", commandName: "start", body: .decoded(.start(.init())), retained: true)),
        then: .idle, code: .retained, outputs: .off, notice: "command_rejected(E_RETAINED)"),
    Row(
        "S14", "retained stop never acts", given: .running,
        when: .envelope(CommandEnvelope(id: "r2", commandName: "stop", body: .decoded(.stop), retained: true)),
        then: .running, code: .retained, outputs: .on),
    Row(
        "S14", "stale start never acts", given: .idle,
        when: .envelope(
            CommandEnvelope(
                id: "s1", commandName: "start", body: .decoded(.start(.init())),
                sentAtUnixMs: 1_000, ttlMs: 500, receivedAtUnixMs: 1_501)),
        then: .idle, code: .stale, outputs: .off),
    Row(
        "S14", "fresh start within ttl acts", given: .idle,
        when: .envelope(
            CommandEnvelope(
                id: "s2", commandName: "start", body: .decoded(.start(.init())),
                sentAtUnixMs: 1_000, ttlMs: 500, receivedAtUnixMs: 1_500)),
        then: .running, ok: true, outputs: .on),
    Row(
        "S14", "oversized start never acts", given: .idle,
        when: .envelope(
            CommandEnvelope(
                id: "o1", commandName: "start", body: .decoded(.start(.init())),
                payloadBytes: 4097)),
        then: .idle, code: .tooLarge, outputs: .off),
    Row(
        "S14", "undecodable body answers its code", given: .running,
        when: .envelope(CommandEnvelope(id: nil, commandName: nil, body: .invalid(.json, "not JSON at byte 3"))),
        then: .running, code: .json, outputs: .on, notice: "command_rejected(E_JSON)"),
    // S15 rate / fleet
    Row(
        "S15", "fleet start is not allowed", given: .idle,
        when: .envelope(
            CommandEnvelope(
                id: "f1", commandName: "start", body: .decoded(.start(.init())),
                source: .fleetAll)),
        then: .idle, code: .notAllowed, outputs: .off),
    Row(
        "S15", "fleet group stop stops", given: .running,
        when: .envelope(
            CommandEnvelope(
                id: "f2", commandName: "stop", body: .decoded(.stop),
                source: .fleetGroup("upstairs"))),
        then: .cooldown, ok: true, outputs: .off, notice: "aborted(stop)"),
    Row(
        "S15", "burst exhausted rejects a ping", given: .idle,
        when: .steps((0..<10).map { _ in When.command(.ping) } + [.command(.ping)]), then: .idle, code: .rate,
        outputs: .off),
    Row(
        "S15", "stop passes an exhausted bucket", given: .running,
        when: .steps((0..<12).map { _ in When.command(.ping) } + [.command(.stop)]), then: .cooldown, ok: true,
        outputs: .off),
    // S16 faults and ack
    Row(
        "S16", "start with a latched fault is refused", given: .fault, when: .command(.start(.init())),
        then: .fault, code: .faultActive, outputs: .off),
    Row(
        "S16", "ack of a fault not latched is refused", given: .idle,
        when: .command(.ack(.one(.overTemperature))), then: .idle, code: .state, outputs: .off),
    Row(
        "S16", "ack never starts emission", given: .fault, when: .command(.ack(.all)), then: .cooldown, ok: true,
        outputs: .off),
    Row(
        "S16", "storage failure latches", given: .running, when: .event(.storageFailed("disk full")), then: .fault,
        outputs: .off, notice: "fault_raised(F_STORAGE)", faults: [.storage]),
    // S18 shutdown
    Row(
        "S18", "shutdown closes the session", given: .running, when: .event(.shutdown), then: .cooldown,
        outputs: .off, notice: "aborted(shutdown)"),
    Row(
        "S18", "no start after shutdown", given: .idle,
        when: .steps([.event(.shutdown), .command(.start(.init()))]), then: .idle, code: .state, outputs: .off),
    // commands by state
    Row("cmd", "pause while idle", given: .idle, when: .command(.pause), then: .idle, code: .state, outputs: .off),
    Row(
        "cmd", "pause while running", given: .running, when: .command(.pause), then: .paused, ok: true,
        outputs: .off, notice: "paused(command)"),
    Row(
        "cmd", "pause while paused", given: .paused, when: .command(.pause), then: .paused, code: .state,
        outputs: .off),
    Row(
        "cmd", "resume while running", given: .running, when: .command(.resume), then: .running, code: .state,
        outputs: .on),
    Row(
        "cmd", "resume while paused", given: .paused, when: .command(.resume), then: .running, ok: true,
        outputs: .on, notice: "resumed"),
    Row(
        "cmd", "resume in cooldown", given: .cooldown, when: .command(.resume), then: .cooldown, code: .state,
        outputs: .off),
    Row(
        "cmd", "start while running", given: .running, when: .command(.start(.init())), then: .running,
        code: .state, outputs: .on),
    Row(
        "cmd", "start while paused", given: .paused, when: .command(.start(.init())), then: .paused,
        code: .state, outputs: .off),
    Row("cmd", "stop while idle is ok", given: .idle, when: .command(.stop), then: .idle, ok: true, outputs: .off),
    Row(
        "cmd", "stop while running", given: .running, when: .command(.stop), then: .cooldown, ok: true,
        outputs: .off, notice: "aborted(stop)"),
    Row(
        "cmd", "stop while paused", given: .paused, when: .command(.stop), then: .cooldown, ok: true,
        outputs: .off, notice: "aborted(stop)"),
    Row("cmd", "stop in fault", given: .fault, when: .command(.stop), then: .fault, ok: true, outputs: .off),
    Row(
        "cmd", "dimmed start without PWM", given: .idle,
        when: .command(.start(StartArguments(intensityPercent: 50))), then: .idle, code: .range, outputs: .off),
    Row(
        "cmd", "dimmed start with PWM",
        settings: settings { $0.dimmable = PerChannel(red: true, nir: true) }, given: .idle,
        when: .command(.start(StartArguments(intensityPercent: 50))), then: .running, ok: true, outputs: .on),
    Row(
        "cmd", "set duration above the limit", given: .running,
        when: .command(.set(PresetChanges(durationSeconds: 1500))), then: .running, code: .range, outputs: .on),
    Row(
        "cmd", "set empty", given: .idle, when: .command(.set(PresetChanges())), then: .idle, code: .schema,
        outputs: .off),
    Row(
        "cmd", "identify in fault", given: .fault, when: .command(.identify), then: .fault, ok: true,
        outputs: .off),
]

@Suite("Transition table, one row per rule × state")
struct TransitionTableTests {
    @Test(arguments: transitionTable)
    func row(_ row: Row) {
        var rig = row.given.arrange(row.settings)
        let outputsBefore = rig.outputs
        let actions = row.when.apply(to: &rig)
        let snapshot = rig.snapshot

        #expect(snapshot.state == row.then, "state")
        switch row.outputs {
        case .on: #expect(rig.outputs.emitting, "outputs should be on")
        case .off: #expect(!rig.outputs.emitting, "outputs should be off")
        }
        if row.outputs == .off, outputsBefore.emitting {
            // The first action of the event that turned emission off is setOutputs.
            #expect(rig.log.contains { if case .setOutputs(let c) = $0 { !c.emitting } else { false } })
        }
        if let code = row.code {
            #expect(actions.response?.code == code, "response \(String(describing: actions.response))")
            #expect(actions.response.map { !$0.message.isEmpty } ?? false)
            #expect(actions.notices.contains("command_rejected(\(code.rawValue))"))
        }
        if row.ok {
            #expect(actions.response?.ok == true, "response \(String(describing: actions.response))")
        }
        if let notice = row.notice {
            #expect(actions.notices.contains(notice), "notices \(actions.notices)")
        }
        if let faults = row.faults {
            #expect(snapshot.faults == faults)
        }
        #expect(!snapshot.faults.contains(.internal))
    }
}
