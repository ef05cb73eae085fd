/// Command admission and execution (S14, S15, S16 and the command contract of docs/DESIGN.md).
///
/// Admission runs in a fixed order so every rejection has one well-defined code: duplicate id
/// (replayed, no effect), size, rate, retained flag, undecodable body, signature (when required; not for
/// `stop`), `ts`+`ttl_ms`, the signed window and replay memory, fleet allow-list; then the command's own
/// preconditions.
extension SafetyMachine {
    /// Commands a fleet topic may send (docs/DESIGN.md: allow-list only).
    static let fleetAllowed: Set<CommandName> = [.stop, .get, .identify, .ping]

    /// The key a redelivery repeats exactly: the id together with the command name and the topic
    /// it came on. A different command that merely reuses an id (a client counting from 1 after a
    /// restart, a fleet tool's `stop` with a panel client's id) is a new command: a `stop` must
    /// never be answered with an old `start`'s response and leave the panel emitting.
    static func deduplicationKey(_ envelope: CommandEnvelope) -> String? {
        guard let id = envelope.id else { return nil }
        let source: String =
            switch envelope.source {
            case .device: "device"
            case .fleetAll: "all"
            case .fleetGroup(let group): "group:\(group)"
            }
        return "\(source)\u{1F}\(envelope.commandName ?? "")\u{1F}\(id)"
    }

    /// Admits and executes one command, or replays the first answer to a redelivery.
    ///
    /// Only an *accepted* command other than `stop` is remembered as answered:
    /// - a `stop` is never answered from the cache, whatever id it reuses: it acts every time (emission
    ///   off, the session ended if there is one) and answers `ok` again. Acting twice is harmless, while
    ///   a replayed answer would leave a panel emitting that a later `start` turned on.
    /// - a refused command (any error code) had no effect; a corrected resend under the same id, which is
    ///   what `E_RETAINED`, `E_STALE` or `E_SCHEMA` tell the user to do, must be decided afresh.
    mutating func handleCommand(_ envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]) {
        let isStop = envelope.commandName == CommandName.stop.rawValue
        let key = isStop ? nil : Self.deduplicationKey(envelope)
        if let key, let first = self.answered[key] {
            actions.append(.respond(first))
            return
        }
        let response = self.admitAndExecute(envelope, now: now, into: &actions)
        if let key, response.code == nil {
            self.answered.remember(response, for: key)
        }
        if let code = response.code {
            actions.append(
                .notify(.commandRejected(commandName: envelope.commandName, code: code, message: response.message)))
        }
        actions.append(.respond(response))
    }

    private mutating func admitAndExecute(
        _ envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        let maxBytes = self.settings.maxCommandBytes
        if envelope.payloadBytes > maxBytes {
            return self.reject(
                envelope, .tooLarge, "payload of \(envelope.payloadBytes) bytes exceeds the limit of \(maxBytes) bytes")
        }
        var exempt = false
        if case .decoded(let command) = envelope.body, command == .stop || command == .get { exempt = true }
        if !exempt,
            !self.bucket.take(
                now: now, perSecond: self.settings.rateLimit.perSecond, burst: self.settings.rateLimit.burst)
        {
            return self.reject(
                envelope, .rate,
                "rate limit of \(format(self.settings.rateLimit.perSecond)) commands/s (burst "
                    + "\(format(self.settings.rateLimit.burst))) exceeded; retry later (stop and get always pass)")
        }
        if envelope.retained {
            return self.reject(
                envelope, .retained, "retained commands never act; publish the command with retain=false")
        }
        let command: Command
        switch envelope.body {
        case .invalid(let code, let message):
            return self.reject(envelope, code, message)
        case .decoded(let decoded):
            command = decoded
        }
        var signatureTag: String?
        if self.settings.signing.required, command != .stop {
            switch Self.signatureProblem(envelope) {
            case .success(let tag): signatureTag = tag
            case .failure(let problem): return self.reject(envelope, problem.code, problem.message)
            }
        }
        if let sent = envelope.sentAtUnixMs, let ttl = envelope.ttlMs {
            let age = envelope.receivedAtUnixMs - sent
            if age > ttl {
                return self.reject(
                    envelope, .stale,
                    "command is \(age) ms old (ts \(sent)), beyond its ttl_ms \(ttl); send it again with a fresh ts")
            }
        }
        if let tag = signatureTag, let rejection = self.admitSigned(envelope, tag: tag) { return rejection }
        if envelope.source != .device, !Self.fleetAllowed.contains(command.name) {
            return self.reject(
                envelope, .notAllowed,
                "\(command.name.rawValue) is not allowed on a fleet topic; fleet topics accept stop, get, identify, "
                    + "ping; send \(command.name.rawValue) to the device's own cmd topic")
        }
        return self.execute(command, envelope: envelope, now: now, into: &actions)
    }

    /// Whether a command that must be signed is: its tag when `sig` matched, else the code and message.
    ///
    /// `stop` never comes here (S15: a stop must never be blocked by missing or broken crypto). A
    /// signature covers `ts` and `ttl_ms`, so a `sig` without them is as good as none.
    private static func signatureProblem(_ envelope: CommandEnvelope) -> Result<String, SignatureProblem> {
        switch envelope.signature {
        case .verified(let tag):
            return .success(tag)
        case .absent, .unchecked:
            return .failure(
                SignatureProblem(
                    .unsigned,
                    "this panel accepts only signed commands (stop excepted); add ts, ttl_ms and sig (README, "
                        + "\"Signed commands\")"))
        case .incomplete:
            return .failure(
                SignatureProblem(.unsigned, "a signed command needs ts and ttl_ms: the signature covers both"))
        case .mismatch:
            return .failure(
                SignatureProblem(
                    .signature,
                    "sig does not match this panel's key and the command as received (topic, id, cmd, ts, ttl_ms, "
                        + "args)"))
        }
    }

    /// The signed command's freshness against the replay window, then the replay memory; `nil` admits it
    /// and remembers its tag.
    private mutating func admitSigned(_ envelope: CommandEnvelope, tag: String) -> CommandResponse? {
        let window = Int64((self.settings.signing.replayWindowSeconds * 1000).rounded())
        let now = envelope.receivedAtUnixMs
        // `incomplete` would have been refused above, so both are present.
        let sent = envelope.sentAtUnixMs ?? 0
        if abs(now - sent) > window {
            return self.reject(
                envelope, .stale,
                "signed command's ts \(sent) is \(now - sent) ms from this panel's clock, outside the replay window "
                    + "of ±\(window) ms; check both clocks (NTP) and send it again with a fresh ts")
        }
        if self.seenSignatures.contains(tag, nowUnixMs: now) {
            return self.reject(
                envelope, .replay,
                "this signed command was already received; sign it again with a fresh ts to repeat it")
        }
        guard self.seenSignatures.remember(tag, expiresAtUnixMs: sent + window, nowUnixMs: now) else {
            return self.reject(
                envelope, .rate,
                "more than \(self.seenSignatures.capacity) signed commands within the replay window; retry later")
        }
        return nil
    }

    func reject(_ envelope: CommandEnvelope, _ code: ResponseCode, _ message: String) -> CommandResponse {
        CommandResponse(
            id: envelope.id, commandName: envelope.commandName, code: code, message: message, state: self.state)
    }

    func accept(_ envelope: CommandEnvelope, _ message: String, snapshot: Bool = false) -> CommandResponse {
        CommandResponse(
            id: envelope.id, commandName: envelope.commandName, code: nil, message: message, state: self.state,
            includesSnapshot: snapshot)
    }

    private mutating func execute(
        _ command: Command, envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        switch command {
        case .start(let arguments):
            return self.start(arguments, envelope: envelope, now: now, into: &actions)
        case .stop:
            guard let session = self.session else {
                return self.accept(envelope, "no session to stop; state is \(self.state.rawValue)")
            }
            self.endSession(reason: .stopCommand, now: now, into: &actions)
            return self.accept(envelope, "session \(session.plan.sessionID) stopped")
        case .pause:
            guard self.state == .running else {
                return self.reject(
                    envelope, .state, "pause needs a running session; state is \(self.state.rawValue)")
            }
            self.pause(reason: .command, now: now, into: &actions)
            return self.accept(envelope, "session paused; resume or stop it")
        case .resume:
            return self.resume(envelope: envelope, now: now, into: &actions)
        case .ack(let selector):
            return self.acknowledge(selector, envelope: envelope, now: now, into: &actions)
        case .set(let changes):
            return self.setPresets(changes, envelope: envelope, into: &actions)
        case .get:
            return self.accept(envelope, "state", snapshot: true)
        case .ping:
            return self.accept(envelope, "pong", snapshot: true)
        case .identify:
            actions.append(.identify)
            return self.accept(envelope, "identifying")
        }
    }

    // MARK: - start

    private mutating func start(
        _ arguments: StartArguments, envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        if let rejection = self.startBlocker(envelope: envelope, now: now) { return rejection }
        let limits = self.settings.limits
        let channels = arguments.channels ?? self.presets.channels
        let intensity = arguments.intensityPercent ?? self.presets.intensityPercent
        if let problem = self.intensityProblem(intensity, channels: channels) {
            return self.reject(envelope, .range, problem)
        }
        let duration = arguments.durationSeconds ?? self.presets.durationSeconds
        guard duration.isFinite, duration > 0, duration <= limits.maxSessionSeconds else {
            return self.reject(
                envelope, .range,
                "duration_s \(format(duration)) is outside the accepted range 1…\(format(limits.maxSessionSeconds))")
        }
        let target = arguments.doseTarget ?? self.presets.doseTarget
        if let target {
            guard target.joulesPerCm2.isFinite, target.joulesPerCm2 > 0 else {
                return self.reject(
                    envelope, .range,
                    "dose_j_cm2 \(format(target)) must be above 0 and at most \(format(limits.maxSessionDose))")
            }
            guard target <= limits.maxSessionDose else {
                return self.reject(
                    envelope, .doseLimit,
                    "dose_j_cm2 \(format(target)) exceeds the per-session limit \(format(limits.maxSessionDose)); "
                        + "use dose_j_cm2 ≤ \(formatDown(limits.maxSessionDose))")
            }
        }
        let fullDose = self.plannedDose(channels: channels, intensityPercent: intensity, seconds: duration)
        let ceiling = min(fullDose, target ?? fullDose)
        if ceiling > limits.maxSessionDose {
            let rate = self.plannedDose(channels: channels, intensityPercent: intensity, seconds: 1)
            let fitting = rate.joulesPerCm2 > 0 ? limits.maxSessionDose.joulesPerCm2 / rate.joulesPerCm2 : 0
            return self.reject(
                envelope, .doseLimit,
                "planned dose \(format(ceiling)) exceeds the per-session limit \(format(limits.maxSessionDose)); "
                    + "use duration_s ≤ \(Int(fitting)) or dose_j_cm2 ≤ \(formatDown(limits.maxSessionDose))")
        }
        let window = self.window(now: now)
        if window.count >= limits.maxDailySessions {
            let next = window.oldestLeavesAt.map {
                "; the next is allowed in \(format(max(0, $0.seconds(since: now)))) s"
            }
            return self.reject(
                envelope, .doseLimit,
                "\(window.count) sessions in the last 24 h reach the limit of \(limits.maxDailySessions)"
                    + (next ?? ""))
        }
        let remaining = max(.zero, limits.maxDailyDose - window.dose)
        if window.dose + ceiling > limits.maxDailyDose {
            let rate = self.plannedDose(channels: channels, intensityPercent: intensity, seconds: 1)
            let fitting = rate.joulesPerCm2 > 0 ? Int(remaining.joulesPerCm2 / rate.joulesPerCm2) : 0
            let used = "\(format(window.dose)) of \(format(limits.maxDailyDose)) used"
            return self.reject(
                envelope, .doseLimit,
                "planned dose \(format(ceiling)) exceeds the remaining 24 h allowance \(format(remaining)) "
                    + "(\(used)); use duration_s ≤ \(fitting) or dose_j_cm2 ≤ \(formatDown(remaining))")
        }
        self.sessionCounter += 1
        let plan = SessionPlan(
            sessionID: "\(self.bootID)-\(self.sessionCounter)", channels: channels, intensityPercent: intensity,
            plannedSeconds: duration, doseTarget: target, doseCeiling: ceiling)
        self.openSession(plan, now: now, into: &actions)
        guard self.state == .running else {
            return self.reject(envelope, .internal, "the session could not start; state is \(self.state.rawValue)")
        }
        return self.accept(
            envelope, "session \(plan.sessionID) started: \(format(duration)) s, dose up to \(format(ceiling))")
    }

    /// Refuses a start or resume while the stop button reads pressed: a held button, or a broken wire of
    /// the normally-closed button the config requires, must never let emission begin (S11).
    private func stopButtonBlocker(_ envelope: CommandEnvelope, to verb: String) -> CommandResponse? {
        guard self.settings.inputs.stopButton, self.stopButtonPressed else { return nil }
        return self.reject(
            envelope, .state, "the stop button reads pressed (held, or its wire is broken); release it to \(verb)")
    }

    /// The reason a session cannot start now, independent of its arguments.
    private func startBlocker(envelope: CommandEnvelope, now: Instant) -> CommandResponse? {
        if self.isShutDown {
            return self.reject(envelope, .state, "the gateway is shutting down; no session can start")
        }
        switch self.state {
        case .running, .paused:
            return self.reject(
                envelope, .state, "a session is already \(self.state.rawValue); stop it before starting another")
        case .fault:
            let latched = self.faults.sorted().map(\.rawValue).joined(separator: ", ")
            return self.reject(
                envelope, .faultActive, "fault \(latched) latched; acknowledge with ack once its condition is gone")
        case .cooldown:
            return self.reject(
                envelope, .cooldown,
                "cooling down: \(self.cooldownBlocker(now: now) ?? "almost done"); start after that")
        case .idle:
            break
        }
        if !self.interlockAllowsEmission {
            return self.reject(envelope, .interlock, "the interlock is open; close it to start")
        }
        if let blocked = self.stopButtonBlocker(envelope, to: "start") { return blocked }
        let thermal = self.settings.thermal
        guard let t = self.temperature, !self.sensorIsStale(now: now) else {
            return self.reject(
                envelope, .state,
                "no valid panel temperature in the last \(format(thermal.staleAfterSeconds)) s; a session starts "
                    + "only with a working sensor")
        }
        if t >= thermal.resume {
            return self.reject(
                envelope, .overTemperature, "panel \(format(t)) ≥ resume \(format(thermal.resume)); start below that")
        }
        return nil
    }

    /// Why an intensity cannot be used on these channels, or `nil`.
    private func intensityProblem(_ intensity: Double, channels: ChannelSelection) -> String? {
        guard intensity.isFinite, intensity > 0, intensity <= 100 else {
            return "intensity_pct \(format(intensity)) is outside the accepted range above 0 up to 100"
        }
        guard intensity < 100 else { return nil }
        let fixed = channels.channels.filter { !self.settings.dimmable[$0] }
        guard fixed.isEmpty else {
            let names = fixed.map(\.rawValue).joined(separator: " and ")
            return "intensity_pct \(format(intensity)): channel \(names) has no PWM output, only 100 is accepted"
        }
        return nil
    }

    // MARK: - resume

    private mutating func resume(
        envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        guard self.state == .paused else {
            return self.reject(envelope, .state, "resume needs a paused session; state is \(self.state.rawValue)")
        }
        if self.isShutDown {
            return self.reject(envelope, .state, "the gateway is shutting down; the session cannot resume")
        }
        if !self.interlockAllowsEmission {
            return self.reject(envelope, .interlock, "the interlock is open; close it, then resume")
        }
        if let blocked = self.stopButtonBlocker(envelope, to: "resume") { return blocked }
        let thermal = self.settings.thermal
        guard let t = self.temperature, !self.sensorIsStale(now: now) else {
            return self.reject(
                envelope, .state, "no valid panel temperature in the last \(format(thermal.staleAfterSeconds)) s")
        }
        if t >= thermal.cutoff {
            return self.reject(envelope, .overTemperature, "panel \(format(t)) ≥ cutoff \(format(thermal.cutoff))")
        }
        self.resumeSession(now: now, into: &actions)
        return self.accept(envelope, "session resumed")
    }

    // MARK: - ack (S16)

    private mutating func acknowledge(
        _ selector: FaultSelector, envelope: CommandEnvelope, now: Instant, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        switch selector {
        case .one(let fault):
            guard self.faults.contains(fault) else {
                let latched =
                    self.faults.isEmpty ? "none" : self.faults.sorted().map(\.rawValue).joined(separator: ", ")
                return self.reject(envelope, .state, "\(fault.rawValue) is not latched; latched: \(latched)")
            }
            if let condition = self.faultCondition(fault, now: now) {
                return self.reject(
                    envelope, .faultActive, "\(fault.rawValue) cannot be acknowledged yet: \(condition)")
            }
            self.clear(fault, now: now, into: &actions)
            return self.accept(envelope, "\(fault.rawValue) cleared; state is \(self.state.rawValue)")
        case .all:
            guard !self.faults.isEmpty else { return self.accept(envelope, "no faults latched") }
            var cleared: [String] = []
            var remaining: [String] = []
            for fault in self.faults.sorted() {
                if let condition = self.faultCondition(fault, now: now) {
                    remaining.append("\(fault.rawValue) (\(condition))")
                } else {
                    self.clear(fault, now: now, into: &actions)
                    cleared.append(fault.rawValue)
                }
            }
            if cleared.isEmpty {
                return self.reject(
                    envelope, .faultActive, "no fault can be acknowledged yet: " + remaining.joined(separator: "; "))
            }
            let still = remaining.isEmpty ? "" : "; still latched: " + remaining.joined(separator: "; ")
            return self.accept(envelope, "cleared \(cleared.joined(separator: ", "))\(still)")
        }
    }

    // MARK: - set

    private mutating func setPresets(
        _ changes: PresetChanges, envelope: CommandEnvelope, into actions: inout [SafetyAction]
    ) -> CommandResponse {
        guard !changes.isEmpty else {
            return self.reject(
                envelope, .schema, "set needs at least one of channels, intensity_pct, duration_s, dose_j_cm2")
        }
        let limits = self.settings.limits
        var presets = self.presets
        if let channels = changes.channels { presets.channels = channels }
        if let intensity = changes.intensityPercent { presets.intensityPercent = intensity }
        if changes.channels != nil || changes.intensityPercent != nil,
            let problem = self.intensityProblem(presets.intensityPercent, channels: presets.channels)
        {
            return self.reject(envelope, .range, problem)
        }
        if let duration = changes.durationSeconds {
            guard duration.isFinite, duration > 0, duration <= limits.maxSessionSeconds else {
                return self.reject(
                    envelope, .range,
                    "duration_s \(format(duration)) is outside the accepted range "
                        + "1…\(format(limits.maxSessionSeconds))")
            }
            presets.durationSeconds = duration
        }
        if let target = changes.doseTarget {
            if let dose = target {
                guard dose.joulesPerCm2.isFinite, dose.joulesPerCm2 > 0, dose <= limits.maxSessionDose else {
                    return self.reject(
                        envelope, .range,
                        "dose_j_cm2 \(format(dose)) is outside the accepted range above 0 up to "
                            + "\(format(limits.maxSessionDose)) (or null for none)")
                }
            }
            presets.doseTarget = target
        }
        if presets != self.presets {
            self.presets = presets
            actions.append(.record(.presetsChanged(presets)))
            actions.append(.publishState)
        }
        return self.accept(envelope, "presets updated")
    }
}

/// A refused signature: its code and message.
private struct SignatureProblem: Error {
    var code: ResponseCode
    var message: String
    init(_ code: ResponseCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
