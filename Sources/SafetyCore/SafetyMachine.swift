/// The session-safety state machine: the only thing that decides whether the LEDs may be on.
///
/// Pure: it reads no clock, does no I/O and starts no thread. Each event comes with `now` on the
/// monotonic clock and returns the actions for the shell to perform, outputs first.
///
/// - Important: it never traps. A state it cannot explain becomes a latched `F_INTERNAL` with
///   emission off, because a crash would leave the GPIO lines wherever they were.
public struct SafetyMachine: Sendable {
    public private(set) var settings: SafetySettings
    /// Prefix of session ids, unique per process start.
    public let bootID: String

    /// A session in progress.
    struct Session: Hashable, Sendable {
        var plan: SessionPlan
        var startedAt: Instant
        var emittingSeconds: Double = 0
        var dose: PerChannel<Dose> = .zero
        var pausedReason: PauseReason?

        var progress: SessionProgress {
            SessionProgress(sessionID: self.plan.sessionID, emittingSeconds: self.emittingSeconds, dose: self.dose)
        }
    }

    private(set) var state: SessionState = .idle
    private var session: Session?
    private var faults: Set<FaultCode> = []
    private var commanded: OutputCommand = .off
    private var readback: OutputReadback = .off
    private var temperature: Celsius?
    private var interlockClosed = false
    private var lastAccountedAt: Instant?
    private var sessionCounter = 0
    private var presets: SafetySettings.Presets
    /// Start time and dose of sessions inside the rolling 24 h window.
    private var history: [(startedAt: Instant, dose: Dose)] = []
    /// Responses by command id, so a QoS 1 redelivery replays the first answer (S14).
    private var answered: [String: CommandResponse] = [:]
    private var answeredOrder: [String] = []

    public init(settings: SafetySettings, bootID: String) {
        self.settings = settings
        self.bootID = bootID
        self.presets = settings.presets
    }

    /// Feeds one event and returns what the shell must do, in order.
    public mutating func handle(_ event: SafetyEvent, now: Instant) -> [SafetyAction] {
        var actions: [SafetyAction] = []
        self.account(now: now)
        switch event {
        case .boot(let context):
            actions.append(.setOutputs(.off))
            self.commanded = .off
            self.history = context.history.map { (now.adding(seconds: -$0.ageSeconds), $0.dose) }
            if let presets = context.persistedPresets { self.presets = presets }
            if context.uncleanSessionID != nil, self.settings.policy.latchOnUncleanRestart {
                self.raise(.uncleanShutdown, detail: "previous run left a session open", now: now, into: &actions)
            }
            actions.append(.publishState)
        case .command(let envelope):
            self.handleCommand(envelope, now: now, into: &actions)
        case .tick:
            self.checkSessionEnd(now: now, into: &actions)
        case .temperature(let reading):
            if case .valid(let t) = reading {
                self.temperature = t
                if t >= self.settings.thermal.cutoff {
                    self.raise(.overTemperature, detail: "panel \(t) ≥ cutoff \(self.settings.thermal.cutoff)",
                        now: now, into: &actions)
                }
            }
        case .outputReadback(let readback):
            self.readback = readback
        case .input(let line, let active):
            if line == .interlock { self.interlockClosed = active }
        case .linkChanged:
            break
        case .storageFailed(let reason):
            self.raise(.storage, detail: reason, now: now, into: &actions)
        case .shutdown:
            self.endSession(reason: .shutdown, now: now, into: &actions)
        }
        return actions
    }

    /// The state to publish.
    public func snapshot(now: Instant) -> SafetySnapshot {
        let window = self.history.filter { now.seconds(since: $0.startedAt) < 86_400 }
        let sessionDose = self.session?.dose ?? .zero
        let elapsed = self.session?.emittingSeconds ?? 0
        let planned = self.session?.plan.plannedSeconds
        return SafetySnapshot(
            state: self.state,
            sessionID: self.session?.plan.sessionID,
            channels: self.session?.plan.channels,
            intensityPercent: self.session?.plan.intensityPercent,
            plannedSeconds: planned,
            elapsedSeconds: elapsed,
            remainingSeconds: max(0, (planned ?? 0) - elapsed),
            dose: sessionDose,
            doseTarget: self.session?.plan.doseTarget,
            dose24h: window.reduce(Dose.zero) { $0 + $1.dose } + sessionDose.total,
            sessions24h: window.count + (self.session == nil ? 0 : 1),
            temperature: self.temperature,
            emitting: self.readback.red || self.readback.nir,
            interlock: self.settings.inputs.interlock ? (self.interlockClosed ? .closed : .open) : .absent,
            faults: self.faults.sorted(),
            presets: self.presets
        )
    }

    // MARK: - Commands

    private mutating func handleCommand(_ envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]) {
        if let id = envelope.id, let first = self.answered[id] {
            actions.append(.respond(first))
            return
        }
        let response: CommandResponse
        switch envelope.body {
        case .invalid(let code, let message):
            response = self.reject(envelope, code, message)
        case .decoded(let command):
            response = self.execute(command, envelope: envelope, now: now, into: &actions)
        }
        if let id = envelope.id {
            self.answered[id] = response
            self.answeredOrder.append(id)
            if self.answeredOrder.count > 256 {
                self.answered[self.answeredOrder.removeFirst()] = nil
            }
        }
        if let code = response.code {
            actions.append(.notify(.commandRejected(commandName: envelope.commandName, code: code, message: response.message)))
        }
        actions.append(.respond(response))
    }

    private func reject(_ envelope: CommandEnvelope, _ code: ResponseCode, _ message: String) -> CommandResponse {
        CommandResponse(id: envelope.id, commandName: envelope.commandName, code: code, message: message, state: self.state)
    }

    private func accept(_ envelope: CommandEnvelope, _ message: String, snapshot: Bool = false) -> CommandResponse {
        CommandResponse(
            id: envelope.id, commandName: envelope.commandName, code: nil, message: message, state: self.state,
            includesSnapshot: snapshot)
    }

    private mutating func execute(
        _ command: Command, envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        if envelope.retained, command != .stop {
            return self.reject(envelope, .retained, "retained commands never act; publish with retain=false")
        }
        switch command {
        case .start(let arguments):
            return self.start(arguments, envelope: envelope, now: now, into: &actions)
        case .stop:
            if self.session != nil {
                self.endSession(reason: .stopCommand, now: now, into: &actions)
                return self.accept(envelope, "session stopped")
            }
            return self.accept(envelope, "no session running")
        case .get, .ping:
            return self.accept(envelope, command == .ping ? "pong" : "state", snapshot: true)
        case .identify:
            actions.append(.identify)
            return self.accept(envelope, "identifying")
        case .pause, .resume, .ack, .set:
            return self.reject(envelope, .state, "\(command.name.rawValue) is not available yet")
        }
    }

    private mutating func start(
        _ arguments: StartArguments, envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        guard self.state == .idle else {
            return self.reject(envelope, .state, "a session can only start when idle, not \(self.state.rawValue)")
        }
        if let fault = self.faults.sorted().first {
            return self.reject(envelope, .faultActive, "fault \(fault.rawValue) is latched; acknowledge it first")
        }
        if self.settings.inputs.interlock, !self.interlockClosed {
            return self.reject(envelope, .interlock, "the interlock is open; close it to start")
        }
        let duration = arguments.durationSeconds ?? self.presets.durationSeconds
        guard duration > 0, duration <= self.settings.limits.maxSessionSeconds else {
            return self.reject(
                envelope, .range,
                "duration_s \(duration) is outside 1…\(Int(self.settings.limits.maxSessionSeconds))")
        }
        let intensity = arguments.intensityPercent ?? self.presets.intensityPercent
        guard intensity == 100 else {
            return self.reject(envelope, .range, "intensity_pct \(intensity): this panel has no PWM, only 100 is accepted")
        }
        self.sessionCounter += 1
        let channels = arguments.channels ?? self.presets.channels
        let doseTarget = arguments.doseTarget ?? self.presets.doseTarget
        let plannedDose = channels.channels.reduce(Dose.zero) {
            $0 + Dose.delivered(
                irradianceMWPerCm2: self.settings.irradianceMWPerCm2[$1], duty: intensity / 100, seconds: duration)
        }
        let plan = SessionPlan(
            sessionID: "\(self.bootID)-\(self.sessionCounter)",
            channels: channels,
            intensityPercent: intensity,
            plannedSeconds: duration,
            doseTarget: doseTarget,
            doseCeiling: min(plannedDose, doseTarget ?? plannedDose, self.settings.limits.maxSessionDose))
        self.session = Session(plan: plan, startedAt: now)
        self.state = .running
        actions.append(.record(.sessionOpened(plan)))
        self.applyOutputs(into: &actions)
        actions.append(.notify(.sessionStarted(plan)))
        actions.append(.publishState)
        return self.accept(envelope, "session \(plan.sessionID) started")
    }

    // MARK: - Session

    /// Integrates time and dose since the last event, on the monotonic clock.
    private mutating func account(now: Instant) {
        defer { self.lastAccountedAt = now }
        guard let last = self.lastAccountedAt, var session = self.session, self.commanded.emitting else { return }
        let dt = max(0, now.seconds(since: last))
        session.emittingSeconds += dt
        for channel in Channel.allCases where self.commanded.duty[channel] > 0 {
            session.dose[channel] = session.dose[channel] + Dose.delivered(
                irradianceMWPerCm2: self.settings.irradianceMWPerCm2[channel],
                duty: self.commanded.duty[channel], seconds: dt)
        }
        self.session = session
    }

    private mutating func checkSessionEnd(now: Instant, into actions: inout [SafetyAction]) {
        guard let session = self.session else { return }
        if session.emittingSeconds >= session.plan.plannedSeconds {
            self.endSession(reason: .duration, now: now, into: &actions)
        } else if let target = session.plan.doseTarget, session.dose.total >= target {
            self.endSession(reason: .doseTarget, now: now, into: &actions)
        } else if session.dose.total >= self.settings.limits.maxSessionDose {
            self.endSession(reason: .doseLimit, now: now, into: &actions)
        }
    }

    private mutating func endSession(reason: SessionEndReason, now: Instant, into actions: inout [SafetyAction]) {
        guard let session = self.session else { return }
        self.session = nil
        self.state = self.faults.isEmpty ? .idle : .fault
        self.applyOutputs(into: &actions)
        self.history.append((session.startedAt, session.dose.total))
        actions.append(.record(.sessionClosed(session.progress, reason: reason)))
        actions.append(.notify(reason.isCompletion
            ? .completed(session.progress, reason: reason) : .aborted(session.progress, reason: reason)))
        actions.append(.publishState)
    }

    private mutating func raise(_ fault: FaultCode, detail: String, now: Instant, into actions: inout [SafetyAction]) {
        guard !self.faults.contains(fault) else { return }
        self.faults.insert(fault)
        self.endSession(reason: .fault, now: now, into: &actions)
        self.state = .fault
        self.applyOutputs(into: &actions)
        actions.append(.record(.faultRaised(fault, detail: detail)))
        actions.append(.notify(.faultRaised(fault, detail: detail, detectedAt: now)))
        actions.append(.publishState)
    }

    /// Derives the outputs from the state: emission only while running with nothing latched.
    private mutating func applyOutputs(into actions: inout [SafetyAction]) {
        var wanted = OutputCommand.off
        if self.state == .running, self.faults.isEmpty, let plan = self.session?.plan {
            let duty = plan.intensityPercent / 100
            wanted = OutputCommand(
                duty: PerChannel(red: plan.channels.includes(.red) ? duty : 0, nir: plan.channels.includes(.nir) ? duty : 0),
                master: true)
        }
        guard wanted != self.commanded else { return }
        self.commanded = wanted
        actions.insert(.setOutputs(wanted), at: 0)
    }
}
