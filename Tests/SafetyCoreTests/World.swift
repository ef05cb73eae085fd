import SafetyCore

/// The world around one machine, for property tests and exhaustive exploration, with the
/// invariants of docs/DESIGN.md checked after every single `handle` call.
///
/// The world's own model (what it sent: interlock level, last valid sample, readback) is the
/// oracle; the machine's snapshot is only trusted for what it reports about itself.
struct World {
    var machine: SafetyMachine
    let settings: SafetySettings
    var now = Instant.seconds(10)
    /// The last `setOutputs` the machine returned.
    var outputs: OutputCommand = .off
    var readback: OutputReadback = .off
    var sensed = false
    var interlockClosed = false
    var lastValidAt: Instant?
    var lastValid: Double?
    /// Since when the readback (or sense) has disagreed with `outputs`, as the machine may see it.
    var mismatchSince: Instant?
    var honestHardware: Bool
    /// Seconds since the previous event; the dose bounds allow one of these at the limit.
    var stepSeconds: Double = 0
    var nextID = 0
    var recentIDs: [String] = []
    var violation: String?
    var handled = 0
    /// How often each notice and response code was seen, to prove the generator's coverage.
    var seen: [String: Int] = [:]
    var litEvents = 0
    /// Light the hardware reported against an OFF command (stuck readback, emission sense), at full
    /// irradiance: the core counts it (S9) but cannot prevent it, so the dose bounds allow it on top.
    var strayDose: Double = 0

    init(settings: SafetySettings, honestHardware: Bool = true) {
        self.settings = settings
        self.machine = SafetyMachine(settings: settings, bootID: "w")
        self.honestHardware = honestHardware
    }

    /// Full-duty dose rate of every channel together, J/cm² per second.
    var maxDoseRate: Double { (self.settings.irradianceMWPerCm2.red + self.settings.irradianceMWPerCm2.nir) / 1000 }

    var lit: Bool { self.outputs.emitting || self.readback.red || self.readback.nir }

    mutating func advance(_ seconds: Double) {
        self.now = self.now.adding(seconds: seconds)
        self.stepSeconds += seconds
    }

    mutating func freshID() -> String {
        self.nextID += 1
        let id = "c\(self.nextID)"
        self.recentIDs.append(id)
        if self.recentIDs.count > 8 { self.recentIDs.removeFirst() }
        return id
    }

    /// Delivers one event, checks the action list and the state, and plays honest hardware.
    mutating func deliver(_ event: SafetyEvent) {
        guard self.violation == nil else { return }
        let before = self.outputs
        let stray =
            (self.outputs.duty.red <= 0 && self.readback.red) || (self.outputs.duty.nir <= 0 && self.readback.nir)
            || (self.settings.inputs.emissionSense && self.sensed && !self.outputs.emitting)
        if stray { self.strayDose += self.stepSeconds * self.maxDoseRate }
        let faultsBefore = Set(self.machine.snapshot(now: self.now).faults)
        let actions = self.machine.handle(event, now: self.now)
        self.handled += 1
        self.update(for: event)
        self.checkActions(actions, event: event, before: before)
        let newFaults = Set(self.machine.snapshot(now: self.now).faults).subtracting(faultsBefore)
        if !newFaults.isEmpty, actions.first != .setOutputs(.off) {
            self.fail("new fault \(newFaults.sorted()) did not re-send outputs off first: \(actions)")
        }
        for notice in actions.notices { self.seen[notice, default: 0] += 1 }
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

    private mutating func fail(_ message: String) {
        if self.violation == nil { self.violation = message }
    }

    private mutating func checkActions(_ actions: [SafetyAction], event: SafetyEvent, before: OutputCommand) {
        let sets = actions.enumerated().compactMap { index, action -> (Int, OutputCommand)? in
            if case .setOutputs(let command) = action { (index, command) } else { nil }
        }
        if sets.count > 1 { self.fail("more than one setOutputs in \(actions)") }
        if let (index, command) = sets.first {
            if command.lowers(from: before), index != 0 {
                self.fail("emission went down but setOutputs is action #\(index): \(actions)")
            }
            self.outputs = command
            if command != before { self.mismatchSince = nil }
        }
        if case .command = event {
            let responses = actions.responses.count
            if responses != 1 { self.fail("a command got \(responses) responses") }
        }
        if case .boot = event, actions.first != .setOutputs(.off) {
            self.fail("boot did not request outputs off first: \(actions)")
        }
        if case .shutdown = event, actions.first != .setOutputs(.off) {
            self.fail("shutdown did not request outputs off first: \(actions)")
        }
    }

    /// The readback (or sense) disagrees with the last command, as S9 defines it.
    var hardwareDisagrees: Bool {
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
    var maxStepWhileLit: Double = 0.5

    /// Whether this envelope's id was already answered (a replay has no effect by design).
    func replayed(_ envelope: CommandEnvelope) -> Bool {
        guard let id = envelope.id else { return false }
        return self.recentIDs.filter { $0 == id }.count > 1 || self.reusedIDs.contains(id)
    }

    var reusedIDs: Set<String> = []

    mutating func envelope(
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
