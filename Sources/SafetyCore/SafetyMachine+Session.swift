/// Sessions: planning, dose and time accounting, pause, resume, end and cooldown (S1–S4, S10–S12).
extension SafetyMachine {
    /// The rolling 24 h window as the limits see it (S3): the light delivered less than 24 h ago (the
    /// running session's included) and the sessions that delivered light in that time.
    struct Window: Hashable, Sendable {
        var dose: Dose
        /// Past sessions only; a running or paused session is counted by the caller.
        var count: Int
        /// When the oldest counted session leaves the window, if any.
        var oldestLeavesAt: Instant?
    }

    static let windowSeconds: Double = 86_400
    /// The longest stretch one ``DeliverySlice`` covers: the window may hold light up to this much
    /// longer than it was delivered (conservative), and memory stays bounded by minutes of light.
    static let sliceSeconds: Double = 60

    func window(now: Instant) -> Window {
        var result = Window(dose: .zero, count: 0, oldestLeavesAt: nil)
        for slice in self.delivered where now.seconds(since: slice.at) < Self.windowSeconds {
            result.dose = result.dose + slice.dose
        }
        for end in self.sessionEnds where now.seconds(since: end) < Self.windowSeconds {
            result.count += 1
            let leaves = end.adding(seconds: Self.windowSeconds)
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
    ///
    /// All light is booked into the 24 h window by when it was delivered, whether a session is open or
    /// not (stray light while the outputs are commanded off counts too, S9).
    mutating func account(now: Instant) {
        defer { self.lastAccountedAt = max(self.lastAccountedAt ?? now, now) }
        guard let last = self.lastAccountedAt else { return }
        let seconds = max(0, now.seconds(since: last))
        guard seconds > 0 else { return }
        let dose = self.deliveredDose(seconds: seconds)
        self.book(dose.total, at: now)
        if var session = self.session {
            self.accrue(into: &session, seconds: seconds)
            self.session = session
        } else {
            // A session's light reaches the ledger with its checkpoints and close; this has no session.
            self.unrecordedStray = self.unrecordedStray + dose.total
        }
    }

    /// Hands light outside any session to the ledger once the light stops, and every checkpoint
    /// interval while it goes on, so a crash loses at most one interval of it.
    mutating func recordStrayLight(now: Instant, into actions: inout [SafetyAction]) {
        guard self.unrecordedStray > .zero else { return }
        let ongoing = self.session == nil && self.deliveredDose(seconds: 1).total > .zero
        if ongoing, let last = self.strayRecordedAt,
            now.seconds(since: last) < self.settings.policy.checkpointIntervalSeconds
        {
            return
        }
        actions.append(.record(.lightOutsideSession(self.unrecordedStray)))
        self.unrecordedStray = .zero
        self.strayRecordedAt = ongoing ? now : nil
    }

    /// Adds light delivered up to `at` to the newest slice, or opens a new one when that slice is full.
    mutating func book(_ dose: Dose, at: Instant) {
        guard dose > .zero else { return }
        if var last = self.delivered.last, at.seconds(since: last.opened) < Self.sliceSeconds {
            last.at = max(last.at, at)
            last.dose = last.dose + dose
            self.delivered[self.delivered.count - 1] = last
            return
        }
        // Light older than the window can never count again: keep the account bounded.
        self.delivered.removeAll { at.seconds(since: $0.at) >= Self.windowSeconds }
        self.delivered.append(DeliverySlice(opened: at, at: at, dose: dose))
    }

    /// The light the panel delivered in `seconds` at what the outputs did, per channel.
    ///
    /// A channel counts at its commanded duty. Where the hardware may disagree the account errs high
    /// (S9): a channel commanded off whose readback still says on counts at full duty, and light the
    /// emission-sense input reports while every output is commanded off counts at the full irradiance
    /// of every channel, since the sensor cannot say which one is lit.
    func deliveredDose(seconds: Double) -> PerChannel<Dose> {
        var dose = PerChannel<Dose>.zero
        guard seconds > 0 else { return dose }
        let strayLight = self.settings.inputs.emissionSense && self.emissionSensed && !self.commanded.emitting
        for channel in Channel.allCases {
            var duty = self.commanded.duty[channel]
            if duty <= 0, self.readback.isOn(channel) || strayLight { duty = 1 }
            guard duty > 0 else { continue }
            dose[channel] = Dose.delivered(
                irradianceMWPerCm2: self.settings.irradianceMWPerCm2[channel], duty: min(1, duty), seconds: seconds)
        }
        return dose
    }

    /// Adds `seconds` of what the outputs did to a session (see ``deliveredDose(seconds:)``).
    func accrue(into session: inout Session, seconds: Double) {
        guard seconds > 0 else { return }
        if self.commanded.emitting { session.emittingSeconds += seconds }
        let dose = self.deliveredDose(seconds: seconds)
        for channel in Channel.allCases {
            session.dose[channel] = session.dose[channel] + dose[channel]
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
        } else if self.window(now: now).dose >= limits.maxDailyDose {
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
        // Its light is already in `delivered`, slice by slice; the session counts from its last light.
        // Sessions that left the 24 h window can never count again: keep the list bounded.
        self.sessionEnds.removeAll { now.seconds(since: $0) >= Self.windowSeconds }
        self.sessionEnds.append(now)
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
