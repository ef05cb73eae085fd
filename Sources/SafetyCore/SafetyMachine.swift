/// The session-safety state machine: the only thing that decides whether the LEDs may be on.
///
/// Pure: it reads no clock, does no I/O and starts no thread. Each event comes with `now` on the
/// monotonic clock and returns the actions for the shell to perform, outputs first whenever
/// emission goes off.
///
/// Every event first brings the clock-driven rules up to `now` (dose integration, session end,
/// stale sensor, output mismatch, heating watch, cooldown), then applies the event itself, then
/// checks its own consistency. The rules S1–S16 and S18 (README table; docs/DESIGN.md "Safety rules") live in the extensions
/// `SafetyMachine+Session`, `+Commands` and `+Health`; the README's "Safety rules" section lists them.
///
/// - Important: it never traps. A state it cannot explain becomes a latched `F_INTERNAL` with
///   emission off, because a crash would leave the GPIO lines wherever they were.
public struct SafetyMachine: Sendable {
    public private(set) var settings: SafetySettings
    /// Prefix of session ids, unique per process start.
    public let bootID: String

    /// A session in progress (running or paused).
    struct Session: Hashable, Sendable {
        var plan: SessionPlan
        var startedAt: Instant
        var emittingSeconds: Double = 0
        var dose: PerChannel<Dose> = .zero
        /// Set while paused, with why.
        var pausedReason: PauseReason?
        var lastCheckpointAt: Instant

        var progress: SessionProgress {
            SessionProgress(sessionID: self.plan.sessionID, emittingSeconds: self.emittingSeconds, dose: self.dose)
        }
    }

    /// A sample kept for rate and rise comparisons (S8).
    struct Sample: Hashable, Sendable {
        var at: Instant
        var temperature: Celsius
    }

    /// The "must rise while emitting" watch of S8, armed whenever emission turns on.
    struct HeatingWatch: Hashable, Sendable {
        var startedAt: Instant
        /// The lowest temperature seen since the watch started; the rise is measured from here.
        var baseline: Celsius?
        var satisfied: Bool
    }

    /// Light delivered within one short stretch of monotonic time, as the rolling 24 h window counts
    /// it (S3): by when it was delivered, never by when its session started, so a long pause cannot
    /// take light out of the window early.
    ///
    /// A slice spans at most ``SafetyMachine/sliceSeconds`` and counts as delivered at its *latest*
    /// moment, so it stays in the window up to one slice longer than the light it holds: the window
    /// errs high, never low.
    struct DeliverySlice: Hashable, Sendable {
        /// When the first light of this slice was delivered (only used to close the slice).
        var opened: Instant
        /// When its latest light was delivered; the window counts the whole slice from here.
        var at: Instant
        var dose: Dose
    }

    var state: SessionState = .idle
    var session: Session?
    var faults: Set<FaultCode> = []
    /// The outputs last handed to the shell.
    var commanded: OutputCommand = .off
    var readback: OutputReadback = .off
    var emissionSensed = false
    /// Since when the readback (or emission sense) has disagreed with `commanded` (S9).
    var mismatchSince: Instant?

    /// Last valid temperature.
    var temperature: Celsius?
    var lastValidSampleAt: Instant?
    /// Where the stale-sensor clock starts before the first valid sample: the boot (S7).
    var sensorWatchFrom: Instant?
    var invalidStreak = 0
    var lastInvalidReason: String?
    /// The warning notice is armed again only below `warn - warnHysteresis` (S5).
    var warned = false
    var runawayReference: Sample?
    var heatingWatch: HeatingWatch?

    var interlockClosed = false
    /// The stop button reads pressed: held, or (wired normally closed, as the config requires) its wire
    /// is broken; no session starts or resumes until it reads released (S11).
    var stopButtonPressed = false
    var linkConnected = true
    /// When the last session ended; cooldown runs from here (S4).
    var cooldownSince: Instant?
    var lastAccountedAt: Instant?
    var sessionCounter = 0
    var presets: SafetySettings.Presets
    /// Every light the core knows of, in session or not, from boot history and from its own account,
    /// oldest first; slices older than the 24 h window are dropped (S3).
    var delivered: [DeliverySlice] = []
    /// When each past session delivered its last light (it ended), for the 24 h session count (S3): a
    /// session counts while any of its light is within the window.
    var sessionEnds: [Instant] = []
    /// Light outside any session not yet handed to the ledger, and when it last was (S9, S3).
    var unrecordedStray: Dose = .zero
    var strayRecordedAt: Instant?
    var answered = ResponseCache(capacity: 256)
    /// The signatures of signed commands admitted within the replay window (``SafetySettings/Signing``).
    var seenSignatures = ReplayMemory(capacity: 1024)
    var bucket: TokenBucket
    var isShutDown = false

    /// Where in the current action list a turn-on `setOutputs` belongs (after the ledger's
    /// `sessionOpened`, before the notices); only used while building one event's actions.
    var pendingOutputsIndex: Int?
    /// Boot, shutdown and a newly latched fault always repeat `setOutputs(.off)`, even when the core
    /// thinks the outputs are already off.
    var forceOutputsOff = false

    public init(settings: SafetySettings, bootID: String) {
        self.settings = settings
        self.bootID = bootID
        self.presets = settings.presets
        self.bucket = TokenBucket(burst: settings.rateLimit.burst)
    }

    /// Feeds one event and returns what the shell must do, in order.
    ///
    /// - Important: when emission goes off, `setOutputs` is the first action of the list.
    public mutating func handle(_ event: SafetyEvent, now: Instant) -> [SafetyAction] {
        var actions: [SafetyAction] = []
        let outputsBefore = self.commanded
        self.pendingOutputsIndex = nil
        self.forceOutputsOff = false
        if self.sensorWatchFrom == nil { self.sensorWatchFrom = now }

        self.advance(to: now, into: &actions)
        self.recordStrayLight(now: now, into: &actions)
        switch event {
        case .boot(let context):
            self.boot(context, now: now, into: &actions)
        case .command(let envelope):
            self.handleCommand(envelope, now: now, into: &actions)
        case .tick:
            self.checkpoint(now: now, into: &actions)
        case .temperature(let reading):
            self.temperatureSampled(reading, now: now, into: &actions)
        case .outputReadback(let readback):
            self.readback = readback
        case .input(let line, let active):
            self.inputChanged(line, active: active, now: now, into: &actions)
        case .linkChanged(let connected):
            self.linkChanged(connected: connected, now: now, into: &actions)
        case .storageFailed(let reason):
            self.raise(.storage, detail: "ledger write failed: \(reason)", now: now, into: &actions)
        case .commandNotRecorded(let envelope, let reason):
            self.commandNotRecorded(envelope, reason: reason, now: now, into: &actions)
        case .inputFailed(let line, let reason):
            self.inputFailed(line, reason: reason, now: now, into: &actions)
        case .shutdown:
            self.shutdown(now: now, into: &actions)
        }
        self.checkConsistency(now: now, into: &actions)
        self.applyOutputs(now: now)
        self.trackMismatch(now: now, handedOver: outputsBefore)
        return self.finish(actions, outputsBefore: outputsBefore)
    }

    /// The outputs the core last asked for (what the shell should be driving right now).
    public var commandedOutputs: OutputCommand { self.commanded }

    /// The state to publish.
    public func snapshot(now: Instant) -> SafetySnapshot {
        var session = self.session
        if var current = session, let last = self.lastAccountedAt {
            self.accrue(into: &current, seconds: max(0, now.seconds(since: last)))
            session = current
        }
        let window = self.window(now: now)
        let pending = self.lastAccountedAt.map { self.deliveredDose(seconds: max(0, now.seconds(since: $0))) }
        let sessionDose = session?.dose ?? .zero
        let elapsed = session?.emittingSeconds ?? 0
        let planned = session?.plan.plannedSeconds
        let emitting =
            self.readback.red || self.readback.nir || (self.settings.inputs.emissionSense && self.emissionSensed)
        return SafetySnapshot(
            state: self.state,
            sessionID: session?.plan.sessionID,
            channels: session?.plan.channels,
            intensityPercent: session?.plan.intensityPercent,
            plannedSeconds: planned,
            elapsedSeconds: elapsed,
            remainingSeconds: max(0, (planned ?? 0) - elapsed),
            dose: sessionDose,
            doseTarget: session?.plan.doseTarget,
            dose24h: window.dose + (pending?.total ?? .zero),
            sessions24h: window.count + (session == nil ? 0 : 1),
            temperature: self.temperature,
            emitting: emitting,
            interlock: self.settings.inputs.interlock ? (self.interlockClosed ? .closed : .open) : .absent,
            faults: self.faults.sorted(),
            presets: self.presets
        )
    }

    // MARK: - Boot and shutdown (S13, S18)

    private mutating func boot(_ context: BootContext, now: Instant, into actions: inout [SafetyAction]) {
        self.forceOutputsOff = true
        self.sensorWatchFrom = now
        if self.session != nil {
            self.raise(.internal, detail: "boot event while a session was open", now: now, into: &actions)
        }
        self.delivered = []
        self.sessionEnds = []
        // Oldest first; a negative or non-finite age counts as "now", so nothing leaves the window early,
        // and an age far beyond the window is clamped so the instant arithmetic cannot overflow.
        let aged = context.history.map {
            (age: $0.ageSeconds.isFinite ? min(max(0, $0.ageSeconds), 2 * Self.windowSeconds) : 0, entry: $0)
        }
        for (age, entry) in aged.sorted(by: { $0.age > $1.age }) {
            let at = now.adding(seconds: -age)
            // Merged into slices of a minute like the core's own account, so memory stays bounded by
            // minutes of light however finely the ledger recorded it. An unreadable dose counts as the
            // largest daily limit any config may set (more, never less, and still a number to publish).
            let dose = entry.dose.joulesPerCm2.isFinite ? entry.dose : HardLimits.maxDailyDose
            self.book(dose, at: at)
            // Beyond the daily count a session more changes nothing but memory: cap a corrupt count.
            for _ in 0..<min(max(0, entry.sessions), 64) { self.sessionEnds.append(at) }
        }
        if let presets = context.persistedPresets { self.presets = presets }
        if let age = context.lastSessionEndedAgeSeconds, age < self.settings.limits.cooldownSeconds {
            self.cooldownSince = now.adding(seconds: -max(0, age))
            self.state = .cooldown
        }
        if let unclean = context.uncleanSessionID, self.settings.policy.latchOnUncleanRestart {
            self.raise(
                .uncleanShutdown,
                detail: "session \(unclean) was left open by the previous run and closed as aborted(unclean_shutdown)",
                now: now, into: &actions)
        }
        self.applyOutputs(now: now)
        actions.append(.publishState)
    }

    private mutating func shutdown(now: Instant, into actions: inout [SafetyAction]) {
        self.isShutDown = true
        self.forceOutputsOff = true
        self.endSession(reason: .shutdown, now: now, into: &actions)
        self.applyOutputs(now: now)
        actions.append(.publishState)
    }

    // MARK: - Time

    /// Brings every clock-driven rule up to `now`, before the event itself is applied.
    private mutating func advance(to now: Instant, into actions: inout [SafetyAction]) {
        self.account(now: now)
        self.checkSensorStale(now: now, into: &actions)
        self.checkMismatchTimeout(now: now, into: &actions)
        self.checkHeatingWatch(now: now, into: &actions)
        self.checkSessionEnd(now: now, into: &actions)
        self.checkCooldownEnd(now: now, into: &actions)
    }

    // MARK: - Consistency

    /// Turns any state the rules cannot explain into a latched `F_INTERNAL` with emission off.
    private mutating func checkConsistency(now: Instant, into actions: inout [SafetyAction]) {
        var problem: String?
        let hasSession = self.session != nil
        let sessionState = self.state == .running || self.state == .paused
        if hasSession != sessionState {
            problem = "state \(self.state.rawValue) with\(hasSession ? "" : "out") a session"
        } else if self.faults.isEmpty == (self.state == .fault) {
            problem = "state \(self.state.rawValue) with \(self.faults.count) latched faults"
        } else if self.commanded.emitting, self.state != .running {
            problem = "outputs on in state \(self.state.rawValue)"
        } else if self.state == .running, self.session?.pausedReason != nil {
            problem = "running with a pause reason"
        } else if self.state == .running, self.wantedOutputs(now: now) == .off {
            problem = "running while a safety condition forbids emission"
        } else if self.commanded != self.wantedOutputs(now: now) {
            // Every transition sets the outputs itself; a difference here means one did not.
            problem = "outputs \(self.commanded) differ from what the state allows"
        }
        if let problem {
            self.raise(.internal, detail: "inconsistent state: \(problem)", now: now, into: &actions)
        }
    }

    /// Places `setOutputs` (first when anything turns off) and publishes the state once, last.
    private func finish(_ built: [SafetyAction], outputsBefore: OutputCommand) -> [SafetyAction] {
        var actions: [SafetyAction] = []
        actions.reserveCapacity(built.count + 1)
        var publish = false
        var onIndex: Int?
        for (index, action) in built.enumerated() {
            if index == self.pendingOutputsIndex { onIndex = actions.count }
            if case .publishState = action {
                publish = true
            } else {
                actions.append(action)
            }
        }
        let after = self.commanded
        if self.forceOutputsOff || after.turnsOff(from: outputsBefore) {
            actions.insert(.setOutputs(after), at: 0)
        } else if after != outputsBefore {
            // Turning on: after the ledger knows the session (docs/DESIGN.md: "written before emission").
            actions.insert(.setOutputs(after), at: onIndex ?? actions.count)
        }
        if publish { actions.append(.publishState) }
        return actions
    }
}

extension OutputCommand {
    /// Whether going from `before` to `self` lowers any channel or drops the master relay.
    func turnsOff(from before: OutputCommand) -> Bool {
        self.duty.red < before.duty.red || self.duty.nir < before.duty.nir || (before.master && !self.master)
    }
}
