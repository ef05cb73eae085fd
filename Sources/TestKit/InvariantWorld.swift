import SafetyCore

/// The world around one machine, with the invariants of docs/DESIGN.md checked after every single
/// `handle` call: the one oracle of the property tests, the exhaustive exploration and the command
/// fuzz target (Fuzz/Command), so a rule added here is checked by all three.
///
/// The world's own model (what it sent: interlock level, last valid sample, readback, how long it
/// has seen the lines lit, which sessions started when) is the oracle; the machine's snapshot is
/// only trusted for what it reports about itself.
public struct InvariantWorld {
    public var machine: SafetyMachine
    public let settings: SafetySettings
    public var now = Instant.seconds(10)
    /// The last `setOutputs` the machine returned.
    public var outputs: OutputCommand = .off
    public var readback: OutputReadback = .off
    public var sensed = false
    public var interlockClosed = false
    public var lastValidAt: Instant?
    public var lastValid: Double?
    /// Since when the readback (or sense) has disagreed with `outputs`, as the machine may see it.
    public var mismatchSince: Instant?
    public var honestHardware: Bool
    /// Seconds since the previous event; the dose bounds allow one of these at the limit.
    public var stepSeconds: Double = 0
    public var nextID = 0
    public var recentIDs: [String] = []
    public var violation: String?
    public var handled = 0
    /// How often each notice and response code was seen, to prove the generator's coverage.
    public var seen: [String: Int] = [:]
    public var litEvents = 0
    /// Light the hardware reported against an OFF command (stuck readback, emission sense), at full
    /// irradiance: the core counts it (S9) but cannot prevent it, so the dose bounds allow it on top.
    public var strayDose: Double = 0
    /// The session the lines were last commanded on for, and for how long in all (pauses excluded):
    /// the duration bound (S1) measured at the lines, not read from the machine's own clock.
    var litSessionID: String?
    var litSeconds: Double = 0
    /// When each session this world saw start did so, for the rolling 24 h session count (S3).
    var startedAt: [Instant] = []

    public init(settings: SafetySettings, honestHardware: Bool = true) {
        self.settings = settings
        self.machine = SafetyMachine(settings: settings, bootID: "w")
        self.honestHardware = honestHardware
    }

    /// Full-duty dose rate of every channel together, J/cm² per second.
    public var maxDoseRate: Double { (self.settings.irradianceMWPerCm2.red + self.settings.irradianceMWPerCm2.nir) / 1000 }

    public var lit: Bool { self.outputs.emitting || self.readback.red || self.readback.nir }

    public mutating func advance(_ seconds: Double) {
        self.now = self.now.adding(seconds: seconds)
        self.stepSeconds += seconds
    }

    public mutating func freshID() -> String {
        self.nextID += 1
        let id = "c\(self.nextID)"
        self.recentIDs.append(id)
        if self.recentIDs.count > 8 { self.recentIDs.removeFirst() }
        return id
    }

    /// Delivers one event, checks the action list and the state, and plays honest hardware.
    public mutating func deliver(_ event: SafetyEvent) {
        guard self.violation == nil else { return }
        let before = self.outputs
        let stray =
            (self.outputs.duty.red <= 0 && self.readback.red) || (self.outputs.duty.nir <= 0 && self.readback.nir)
            || (self.settings.inputs.emissionSense && self.sensed && !self.outputs.emitting)
        if stray { self.strayDose += self.stepSeconds * self.maxDoseRate }
        let snapshotBefore = self.machine.snapshot(now: self.now)
        self.accountLitTime(snapshotBefore)
        let faultsBefore = Set(snapshotBefore.faults)
        let actions = self.machine.handle(event, now: self.now)
        self.handled += 1
        self.update(for: event)
        self.checkActions(actions, event: event, before: before)
        // S3 with the boot history included: a session starts only while fewer than the limit ended
        // (or run) within 24 h; the history alone may exceed a limit lowered since.
        if Self.startsSession(actions), snapshotBefore.sessions24h >= self.settings.limits.maxDailySessions {
            self.fail(
                "a session started with \(snapshotBefore.sessions24h) sessions in the last 24 h, max_daily_sessions "
                    + "\(self.settings.limits.maxDailySessions)")
        }
        let newFaults = Set(self.machine.snapshot(now: self.now).faults).subtracting(faultsBefore)
        if !newFaults.isEmpty, actions.first != .setOutputs(.off) {
            self.fail("new fault \(newFaults.sorted()) did not re-send outputs off first: \(actions)")
        }
        for notice in Self.notices(actions) { self.seen[notice, default: 0] += 1 }
        if self.outputs.emitting { self.litEvents += 1 }
        self.stepSeconds = 0
        self.checkState(after: event)
        if self.honestHardware, self.outputs != before, self.violation == nil {
            self.deliver(.outputReadback(self.outputs.expectedReadback))
        }
    }

    private mutating func update(for event: SafetyEvent) {
        switch event {
        case .temperature(.valid(let t)) where t.value.isFinite && self.settings.thermal.validRange.contains(t.value):
            self.lastValidAt = self.now
            self.lastValid = t.value
        case .outputReadback(let readback):
            self.readback = readback
        case .input(.interlock, let active):
            self.interlockClosed = active
        case .input(.emissionSense, let active) where self.settings.inputs.emissionSense:
            self.sensed = active
        default:
            break
        }
    }

    /// Adds the time since the previous event to the session the lines were commanded on for, and
    /// fails once that exceeds the session's planned duration by more than one step (S1).
    private mutating func accountLitTime(_ snapshot: SafetySnapshot) {
        guard self.outputs.emitting else { return }
        if snapshot.sessionID != self.litSessionID {
            self.litSessionID = snapshot.sessionID
            self.litSeconds = 0
        }
        self.litSeconds += self.stepSeconds
        if let planned = snapshot.plannedSeconds, self.litSeconds > planned + self.maxStepWhileLit + 1e-6 {
            self.fail("lines lit for \(self.litSeconds) s in session \(snapshot.sessionID ?? "?") planned for \(planned) s")
        }
    }

    private mutating func fail(_ message: String) {
        if self.violation == nil { self.violation = message }
    }

    private mutating func checkActions(_ actions: [SafetyAction], event: SafetyEvent, before: OutputCommand) {
        let sets = actions.enumerated().compactMap { index, action -> (Int, OutputCommand)? in
            if case .setOutputs(let command) = action { (index, command) } else { nil }
        }
        if sets.count > 1 { self.fail("more than one setOutputs in \(actions)") }
        if let (index, command) = sets.first {
            if Self.lowers(command, from: before), index != 0 {
                self.fail("emission went down but setOutputs is action #\(index): \(actions)")
            }
            self.outputs = command
            if command != before { self.mismatchSince = nil }
        }
        if case .command(let envelope) = event {
            let responses = Self.responses(actions)
            if responses.count != 1 { self.fail("a command got \(responses.count) responses") }
            // The effect, not the answer: a duplicate id is answered with the first answer, which may be
            // an `ok` (a retained copy of a start already taken live gets that start's answer, and no
            // second session).
            if case .decoded(.start) = envelope.body, let refusal = Self.mustRefuseStart(envelope),
                Self.startsSession(actions)
            {
                self.fail("started a session on a start that \(refusal)")
            }
        }
        if Self.startsSession(actions) { self.startedAt.append(self.now) }
        if case .boot = event, actions.first != .setOutputs(.off) {
            self.fail("boot did not request outputs off first: \(actions)")
        }
        if case .shutdown = event, actions.first != .setOutputs(.off) {
            self.fail("shutdown did not request outputs off first: \(actions)")
        }
    }

    /// The readback (or sense) disagrees with the last command, as S9 defines it.
    public var hardwareDisagrees: Bool {
        var expected = self.outputs.expectedReadback
        if !self.settings.hasMasterRelay { expected.master = self.readback.master }
        if self.readback != expected { return true }
        return self.settings.inputs.emissionSense && self.sensed != self.outputs.emitting
    }

    private mutating func checkState(after event: SafetyEvent) {
        let snapshot = self.machine.snapshot(now: self.now)
        let emitting = self.outputs.emitting
        let thermal = self.settings.thermal
        let limits = self.settings.limits
        if snapshot.faults.contains(.internal) {
            self.fail("F_INTERNAL latched: the machine found itself inconsistent")
        }
        if emitting {
            if snapshot.state != .running { self.fail("emitting in state \(snapshot.state)") }
            if !snapshot.faults.isEmpty { self.fail("emitting with faults \(snapshot.faults)") }
            if self.settings.inputs.interlock, !self.interlockClosed { self.fail("emitting with the interlock open") }
            if let at = self.lastValidAt {
                if self.now.seconds(since: at) >= thermal.staleAfterSeconds {
                    self.fail("emitting with a stale sensor")
                }
            } else {
                self.fail("emitting without any valid sample")
            }
            if let t = self.lastValid, t >= thermal.cutoff.value { self.fail("emitting at \(t) °C ≥ cutoff") }
        }
        // The snapshot's `emitting` comes from readback: outside `running` it may only be on while
        // the hardware disagrees with the command, and never longer than S9 allows unlatched.
        if snapshot.emitting, snapshot.state != .running, !self.hardwareDisagrees {
            self.fail("snapshot emitting in \(snapshot.state) while the hardware agrees with off")
        }
        if self.hardwareDisagrees {
            if self.mismatchSince == nil { self.mismatchSince = self.now }
        } else {
            self.mismatchSince = nil
        }
        if let since = self.mismatchSince,
            self.now.seconds(since: since) > self.settings.policy.outputMismatchSeconds + 1e-6,
            !snapshot.faults.contains(.outputMismatch)
        {
            self.fail("outputs disagreed for \(self.now.seconds(since: since)) s without F_OUTPUT_MISMATCH")
        }
        let tick = self.maxStepWhileLit * self.maxDoseRate + self.strayDose + 1e-9
        var sessionLimit = limits.maxSessionDose.joulesPerCm2
        if let target = snapshot.doseTarget { sessionLimit = min(sessionLimit, target.joulesPerCm2) }
        if snapshot.dose.total.joulesPerCm2 > sessionLimit + tick {
            self.fail("session dose \(snapshot.dose.total) beyond \(sessionLimit) + one tick \(tick)")
        }
        if snapshot.dose24h.joulesPerCm2 > limits.maxDailyDose.joulesPerCm2 + tick {
            self.fail("24 h dose \(snapshot.dose24h) beyond \(limits.maxDailyDose) + one tick \(tick)")
        }
        if let planned = snapshot.plannedSeconds, planned > limits.maxSessionSeconds + 1e-9 {
            self.fail("session planned for \(planned) s, above max_session_s \(limits.maxSessionSeconds)")
        }
        let dayAgo = self.now.adding(seconds: -86_400)
        let startsInDay = self.startedAt.filter { $0 > dayAgo }.count
        if startsInDay > limits.maxDailySessions {
            self.fail("\(startsInDay) sessions started within 24 h, above max_daily_sessions \(limits.maxDailySessions)")
        }
        if case .command(let envelope) = event, case .decoded(.stop) = envelope.body, !envelope.retained,
            envelope.payloadBytes <= self.settings.maxCommandBytes, envelope.ttlMs == nil,
            !self.replayed(envelope)
        {
            if emitting || snapshot.state == .running || snapshot.state == .paused {
                self.fail("stop left the machine \(snapshot.state), emitting \(emitting)")
            }
        }
    }

    /// The largest gap between events while anything was lit; generators keep it at a tick.
    public var maxStepWhileLit: Double = 0.5

    /// Why a `start` in this envelope must be refused whatever the machine's state, or `nil`: fleet
    /// topics never start a session, nor does a retained message or one past its `ts` + `ttl_ms`
    /// (docs/DESIGN.md, "Safety rules"). Computed in `Double` so hostile `ts`/`ttl_ms` cannot trap here.
    static func mustRefuseStart(_ envelope: CommandEnvelope) -> String? {
        if envelope.source != .device { return "came from a fleet topic (\(envelope.source))" }
        if envelope.retained { return "was retained" }
        if let sent = envelope.sentAtUnixMs, let ttl = envelope.ttlMs,
            Double(envelope.receivedAtUnixMs) - Double(sent) > Double(ttl)
        {
            return "was stale (ts \(sent), ttl_ms \(ttl), received \(envelope.receivedAtUnixMs))"
        }
        return nil
    }

    static func startsSession(_ actions: [SafetyAction]) -> Bool {
        actions.contains { if case .notify(.sessionStarted) = $0 { true } else { false } }
    }

    static func responses(_ actions: [SafetyAction]) -> [CommandResponse] {
        actions.compactMap { if case .respond(let response) = $0 { response } else { nil } }
    }

    /// Notices as the short strings the tests count (`aborted(stop)`, `fault_raised(F_OVERTEMP)`).
    static func notices(_ actions: [SafetyAction]) -> [String] {
        actions.compactMap {
            guard case .notify(let notice) = $0 else { return nil }
            switch notice {
            case .sessionStarted: return "session_started"
            case .paused(_, let reason): return "paused(\(reason.rawValue))"
            case .resumed: return "resumed"
            case .completed(_, let reason): return "completed(\(reason.rawValue))"
            case .aborted(_, let reason): return "aborted(\(reason.rawValue))"
            case .faultRaised(let code, _, _): return "fault_raised(\(code.rawValue))"
            case .faultCleared(let code): return "fault_cleared(\(code.rawValue))"
            case .commandRejected(_, let code, _): return "command_rejected(\(code.rawValue))"
            case .temperatureWarning: return "temperature_warning"
            }
        }
    }

    /// Whether going from `before` to `command` lowers any channel or drops the master relay.
    static func lowers(_ command: OutputCommand, from before: OutputCommand) -> Bool {
        command.duty.red < before.duty.red || command.duty.nir < before.duty.nir || (before.master && !command.master)
    }

    /// Whether this envelope's id was already answered (a replay has no effect by design).
    public func replayed(_ envelope: CommandEnvelope) -> Bool {
        guard let id = envelope.id else { return false }
        return self.recentIDs.filter { $0 == id }.count > 1 || self.reusedIDs.contains(id)
    }

    public var reusedIDs: Set<String> = []

    public mutating func envelope(
        _ command: Command, reuseID: Bool = false, source: CommandSource = .device, retained: Bool = false,
        payloadBytes: Int = 80, stale: Bool = false
    ) -> CommandEnvelope {
        var id: String
        if reuseID, let old = self.recentIDs.last {
            id = old
            self.reusedIDs.insert(old)
        } else {
            id = self.freshID()
        }
        return CommandEnvelope(
            id: id, commandName: command.name.rawValue, body: .decoded(command), source: source, retained: retained,
            payloadBytes: payloadBytes, sentAtUnixMs: stale ? 1_000 : nil, ttlMs: stale ? 100 : nil,
            receivedAtUnixMs: 2_000)
    }
}
