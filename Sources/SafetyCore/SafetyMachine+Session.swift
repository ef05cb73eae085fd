/// Sessions: planning, dose and time accounting, pause, resume, end and cooldown (S1–S4, S10–S12).
extension SafetyMachine {
    /// The rolling 24 h window as the limits see it (S3): sessions that started less than 24 h ago.
    struct Window: Hashable, Sendable {
        var dose: Dose
        var count: Int
        /// When the oldest counted session leaves the window, if any.
        var oldestLeavesAt: Instant?
    }

    static let windowSeconds: Double = 86_400

    func window(now: Instant) -> Window {
        var result = Window(dose: .zero, count: 0, oldestLeavesAt: nil)
        for past in self.history where now.seconds(since: past.startedAt) < Self.windowSeconds {
            result.dose = result.dose + past.dose
            result.count += 1
            let leaves = past.startedAt.adding(seconds: Self.windowSeconds)
            result.oldestLeavesAt = min(result.oldestLeavesAt ?? leaves, leaves)
        }
        return result
    }

    /// The dose a plan delivers over its full duration, per channel at duty = intensity / 100.
    func plannedDose(channels: ChannelSelection, intensityPercent: Double, seconds: Double) -> Dose {
        channels.channels.reduce(Dose.zero) {
            $0
                + Dose.delivered(
                    irradianceMWPerCm2: self.settings.irradianceMWPerCm2[$1], duty: intensityPercent / 100,
                    seconds: seconds)
        }
    }

    // MARK: - Accounting (S1, S2, S3)

    /// Integrates time and dose since the last event, on the monotonic clock.
    mutating func account(now: Instant) {
        defer { self.lastAccountedAt = max(self.lastAccountedAt ?? now, now) }
        guard let last = self.lastAccountedAt, var session = self.session else { return }
        self.accrue(into: &session, seconds: max(0, now.seconds(since: last)))
        self.session = session
    }

    /// Adds `seconds` of what the outputs did to a session.
    ///
    /// A channel counts at its commanded duty; a channel commanded off whose readback still says
    /// on counts at full duty, so the account errs high while the hardware disagrees (S9).
    func accrue(into session: inout Session, seconds: Double) {
        guard seconds > 0 else { return }
        if self.commanded.emitting { session.emittingSeconds += seconds }
        for channel in Channel.allCases {
            var duty = self.commanded.duty[channel]
            if duty <= 0, self.readback.isOn(channel) { duty = 1 }
            guard duty > 0 else { continue }
            session.dose[channel] =
                session.dose[channel]
                + Dose.delivered(
                    irradianceMWPerCm2: self.settings.irradianceMWPerCm2[channel], duty: min(1, duty), seconds: seconds)
        }
    }

    /// Ends the session at whichever comes first: duration, dose target, per-session dose limit
    /// or the rolling 24 h allowance.
    mutating func checkSessionEnd(now: Instant, into actions: inout [SafetyAction]) {
        guard let session = self.session else { return }
        let limits = self.settings.limits
        if session.emittingSeconds >= session.plan.plannedSeconds {
            self.endSession(reason: .duration, now: now, into: &actions)
        } else if let target = session.plan.doseTarget, session.dose.total >= target {
            self.endSession(reason: .doseTarget, now: now, into: &actions)
        } else if session.dose.total >= limits.maxSessionDose {
            self.endSession(reason: .doseLimit, now: now, into: &actions)
        } else if self.window(now: now).dose + session.dose.total >= limits.maxDailyDose {
            self.endSession(reason: .doseLimit, now: now, into: &actions)
        }
    }

    /// Records progress every `checkpointIntervalSeconds` of a running session (on `.tick`).
    mutating func checkpoint(now: Instant, into actions: inout [SafetyAction]) {
        guard var session = self.session, self.state == .running else { return }
        guard now.seconds(since: session.lastCheckpointAt) >= self.settings.policy.checkpointIntervalSeconds else {
            return
        }
        session.lastCheckpointAt = now
        self.session = session
        actions.append(.record(.sessionCheckpoint(session.progress)))
    }

    // MARK: - Transitions

    mutating func openSession(_ plan: SessionPlan, now: Instant, into actions: inout [SafetyAction]) {
        self.session = Session(plan: plan, startedAt: now, lastCheckpointAt: now)
        self.state = .running
        actions.append(.record(.sessionOpened(plan)))
        self.pendingOutputsIndex = actions.count
        self.applyOutputs(now: now)
        actions.append(.notify(.sessionStarted(plan)))
        actions.append(.publishState)
    }

    mutating func pause(reason: PauseReason, now: Instant, into actions: inout [SafetyAction]) {
        guard self.state == .running, var session = self.session else { return }
        session.pausedReason = reason
        self.session = session
        self.state = .paused
        self.applyOutputs(now: now)
        actions.append(.notify(.paused(sessionID: session.plan.sessionID, reason: reason)))
        actions.append(.publishState)
    }

    mutating func resumeSession(now: Instant, into actions: inout [SafetyAction]) {
        guard self.state == .paused, var session = self.session else { return }
        session.pausedReason = nil
        self.session = session
        self.state = .running
        self.pendingOutputsIndex = actions.count
        self.applyOutputs(now: now)
        actions.append(.notify(.resumed(sessionID: session.plan.sessionID)))
        actions.append(.publishState)
    }

    /// Closes the session (if any), books it into the 24 h window and starts the cooldown.
    mutating func endSession(reason: SessionEndReason, now: Instant, into actions: inout [SafetyAction]) {
        guard let session = self.session else { return }
        self.session = nil
        // Sessions that left the 24 h window can never count again: keep the history bounded.
        self.history.removeAll { now.seconds(since: $0.startedAt) >= Self.windowSeconds }
        self.history.append(PastSession(startedAt: session.startedAt, dose: session.dose.total))
        self.cooldownSince = now
        self.state = self.faults.isEmpty ? .cooldown : .fault
        self.applyOutputs(now: now)
        actions.append(.record(.sessionClosed(session.progress, reason: reason)))
        actions.append(
            .notify(
                reason.isCompletion
                    ? .completed(session.progress, reason: reason) : .aborted(session.progress, reason: reason)))
        actions.append(.publishState)
        self.checkCooldownEnd(now: now, into: &actions)
    }

    // MARK: - Cooldown (S4)

    /// What still keeps the panel in cooldown, or `nil` when it may start again.
    func cooldownBlocker(now: Instant) -> String? {
        guard let since = self.cooldownSince else { return nil }
        var reasons: [String] = []
        let left = self.settings.limits.cooldownSeconds - now.seconds(since: since)
        if left > 0 {
            reasons.append("\(format(left)) s of the \(format(self.settings.limits.cooldownSeconds)) s rest left")
        }
        let resume = self.settings.thermal.resume
        if let t = self.temperature {
            if t >= resume { reasons.append("panel \(format(t)) must fall below \(format(resume))") }
        } else {
            reasons.append("no panel temperature known; it must read below \(format(resume))")
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: " and ")
    }

    mutating func checkCooldownEnd(now: Instant, into actions: inout [SafetyAction]) {
        guard self.state == .cooldown, self.cooldownBlocker(now: now) == nil else { return }
        self.cooldownSince = nil
        self.state = .idle
        actions.append(.publishState)
    }

    // MARK: - Outputs

    /// The outputs the state allows: emission only while running, nothing latched, the interlock
    /// closed, a fresh sensor below the cutoff, and no shutdown under way.
    func wantedOutputs(now: Instant) -> OutputCommand {
        guard self.state == .running, self.faults.isEmpty, !self.isShutDown, let session = self.session,
            session.pausedReason == nil, self.interlockAllowsEmission, !self.sensorIsStale(now: now),
            let temperature = self.temperature, temperature < self.settings.thermal.cutoff
        else { return .off }
        let plan = session.plan
        let duty = min(1, max(0, plan.intensityPercent / 100))
        guard duty > 0 else { return .off }
        return OutputCommand(
            duty: PerChannel(
                red: plan.channels.includes(.red) ? duty : 0, nir: plan.channels.includes(.nir) ? duty : 0),
            master: true)
    }

    var interlockAllowsEmission: Bool { !self.settings.inputs.interlock || self.interlockClosed }

    /// Derives the outputs from the state; `finish` places the `setOutputs` action.
    mutating func applyOutputs(now: Instant) {
        let wanted = self.wantedOutputs(now: now)
        guard wanted != self.commanded else { return }
        let wasEmitting = self.commanded.emitting
        self.commanded = wanted
        // The S9 grace period restarts in `trackMismatch`, only for a command the shell actually gets:
        // within one event the outputs may go off and on again (a session ends, the next starts), and
        // the hardware that never saw those steps must not win a fresh grace period from them.
        if wanted.emitting, !wasEmitting {
            self.armHeatingWatch(now: now)
        } else if !wanted.emitting {
            self.heatingWatch = nil
            self.runawayReference = nil
        }
    }
}

extension OutputReadback {
    func isOn(_ channel: Channel) -> Bool {
        switch channel {
        case .red: self.red
        case .nir: self.nir
        }
    }
}
