/// Thermal protection, sensor health, output plausibility, inputs and faults (S5–S12, S16).
extension SafetyMachine {
    // MARK: - Temperature (S5, S6, S8)

    mutating func temperatureSampled(_ reading: TemperatureReading, now: Instant, into actions: inout [SafetyAction]) {
        let thermal = self.settings.thermal
        let t: Celsius
        switch reading {
        case .invalid(let reason):
            self.invalidSample(reason, now: now, into: &actions)
            return
        case .valid(let value):
            guard value.value.isFinite, thermal.validRange.contains(value.value) else {
                self.invalidSample(
                    "\(format(value)) is outside the plausible \(format(thermal.validRange.lowerBound))…"
                        + "\(format(thermal.validRange.upperBound)) °C",
                    now: now, into: &actions)
                return
            }
            t = value
        }
        self.invalidStreak = 0
        self.temperature = t
        self.lastValidSampleAt = now

        if t >= thermal.cutoff {
            self.raise(
                .overTemperature, detail: "panel \(format(t)) ≥ cutoff \(format(thermal.cutoff))", now: now,
                into: &actions)
        }
        if t >= thermal.warn, !self.warned {
            self.warned = true
            actions.append(.notify(.temperatureWarning(t)))
        } else if t.value < thermal.warn.value - max(0, thermal.warnHysteresis) {
            self.warned = false
        }
        if self.commanded.emitting {
            self.checkRunaway(t, now: now, into: &actions)
            if var watch = self.heatingWatch, !watch.satisfied {
                let baseline = min(watch.baseline ?? t, t)
                watch.baseline = baseline
                if t.value - baseline.value >= thermal.minimumRise || self.nearSteadyState(t) { watch.satisfied = true }
                self.heatingWatch = watch
            }
        }
        self.checkCooldownEnd(now: now, into: &actions)
    }

    private mutating func invalidSample(_ reason: String, now: Instant, into actions: inout [SafetyAction]) {
        self.invalidStreak += 1
        self.lastInvalidReason = reason
        let limit = max(1, self.settings.thermal.invalidReadingsBeforeFault)
        if self.invalidStreak >= limit {
            self.raise(
                .sensorInvalid, detail: "\(self.invalidStreak) invalid readings in a row, last: \(reason)", now: now,
                into: &actions)
        }
    }

    /// A rise faster than `runawayRatePerSecond`, measured over at least `runawayWindowSeconds`.
    private mutating func checkRunaway(_ t: Celsius, now: Instant, into actions: inout [SafetyAction]) {
        guard let reference = self.runawayReference else {
            self.runawayReference = Sample(at: now, temperature: t)
            return
        }
        let span = now.seconds(since: reference.at)
        guard span >= max(0.001, self.settings.thermal.runawayWindowSeconds) else { return }
        let rate = (t.value - reference.temperature.value) / span
        self.runawayReference = Sample(at: now, temperature: t)
        if rate > self.settings.thermal.runawayRatePerSecond {
            self.raise(
                .thermalImplausible,
                detail: "panel rose \(format(rate)) °C/s, faster than the runaway rate "
                    + "\(format(self.settings.thermal.runawayRatePerSecond)) °C/s",
                now: now, into: &actions)
        }
    }

    /// Close enough to the cutoff that a missing rise proves nothing (S8).
    func nearSteadyState(_ t: Celsius) -> Bool {
        t.value >= self.settings.thermal.cutoff.value - self.settings.thermal.steadyStateMargin
    }

    mutating func armHeatingWatch(now: Instant) {
        let satisfied = self.temperature.map { self.nearSteadyState($0) } ?? false
        self.heatingWatch = HeatingWatch(startedAt: now, baseline: self.temperature, satisfied: satisfied)
        self.runawayReference = self.temperature.map { Sample(at: now, temperature: $0) }
    }

    /// With emission on for `heatingWatchSeconds`, no rise of `minimumRise` means the sensor does
    /// not see the panel (fell off, wrong zone): `F_THERMAL_IMPLAUSIBLE` (S8).
    mutating func checkHeatingWatch(now: Instant, into actions: inout [SafetyAction]) {
        guard self.commanded.emitting, let watch = self.heatingWatch, !watch.satisfied else { return }
        guard now.seconds(since: watch.startedAt) >= self.settings.thermal.heatingWatchSeconds else { return }
        if let t = self.temperature, self.nearSteadyState(t) { return }
        self.raise(
            .thermalImplausible,
            detail: "no rise of \(format(self.settings.thermal.minimumRise)) °C within "
                + "\(format(self.settings.thermal.heatingWatchSeconds)) s of emission",
            now: now, into: &actions)
    }

    // MARK: - Stale sensor (S7)

    func sensorIsStale(now: Instant) -> Bool {
        guard let since = self.lastValidSampleAt ?? self.sensorWatchFrom else { return true }
        return now.seconds(since: since) >= self.settings.thermal.staleAfterSeconds
    }

    mutating func checkSensorStale(now: Instant, into actions: inout [SafetyAction]) {
        guard !self.faults.contains(.sensorStale), self.sensorIsStale(now: now) else { return }
        let detail =
            self.lastValidSampleAt == nil
            ? "no valid temperature sample since boot (\(format(self.settings.thermal.staleAfterSeconds)) s allowed)"
            : "no valid temperature sample for \(format(self.settings.thermal.staleAfterSeconds)) s"
        self.raise(.sensorStale, detail: detail, now: now, into: &actions)
    }

    // MARK: - Output plausibility (S9)

    /// What the outputs should read back as, given what the core commanded.
    var outputMismatch: String? {
        let expected = self.commanded.expectedReadback
        var got = self.readback
        if !self.settings.hasMasterRelay { got.master = expected.master }
        if got != expected {
            return "readback red=\(got.red) nir=\(got.nir) master=\(got.master), commanded "
                + "red=\(expected.red) nir=\(expected.nir) master=\(expected.master)"
        }
        if self.settings.inputs.emissionSense, self.emissionSensed != self.commanded.emitting {
            return "emission sense reads \(self.emissionSensed ? "light" : "dark") while outputs are "
                + (self.commanded.emitting ? "on" : "off")
        }
        return nil
    }

    /// Starts or stops the S9 mismatch clock at the end of an event.
    ///
    /// `handedOver` is the command the shell held before this event. Only a different command
    /// restarts the grace period: a repeated identical one (the OFF re-sent on a new fault, at boot
    /// or shutdown) changes nothing the hardware is asked to do, so a disagreement keeps its age.
    mutating func trackMismatch(now: Instant, handedOver: OutputCommand) {
        if self.commanded != handedOver { self.mismatchSince = nil }
        if self.outputMismatch == nil {
            self.mismatchSince = nil
        } else if self.mismatchSince == nil {
            self.mismatchSince = now
        }
    }

    mutating func checkMismatchTimeout(now: Instant, into actions: inout [SafetyAction]) {
        guard let since = self.mismatchSince, let mismatch = self.outputMismatch,
            now.seconds(since: since) >= self.settings.policy.outputMismatchSeconds
        else { return }
        self.raise(.outputMismatch, detail: mismatch, now: now, into: &actions)
    }

    // MARK: - Inputs and link (S10, S11, S12)

    mutating func inputChanged(_ line: InputLine, active: Bool, now: Instant, into actions: inout [SafetyAction]) {
        switch line {
        case .interlock:
            guard self.settings.inputs.interlock, self.interlockClosed != active else { return }
            self.interlockClosed = active
            if !active { self.pause(reason: .interlock, now: now, into: &actions) }
            self.applyOutputs(now: now)
            actions.append(.publishState)
        case .stopButton:
            guard self.settings.inputs.stopButton else { return }
            self.stopButtonPressed = active
            guard active else { return }
            self.endSession(reason: .stopButton, now: now, into: &actions)
        case .emissionSense:
            guard self.settings.inputs.emissionSense else { return }
            self.emissionSensed = active
        }
    }

    mutating func linkChanged(connected: Bool, now: Instant, into actions: inout [SafetyAction]) {
        let lost = self.linkConnected && !connected
        self.linkConnected = connected
        guard lost, self.session != nil else { return }
        switch self.settings.policy.onLinkLoss {
        case .continue:
            // The session keeps its planned end: it is never extended.
            break
        case .pause:
            self.pause(reason: .linkLoss, now: now, into: &actions)
        case .stop:
            self.endSession(reason: .linkLoss, now: now, into: &actions)
        }
    }

    // MARK: - Faults (S16)

    /// Latches a fault: emission off, the session aborted, state `fault`.
    ///
    /// A new fault re-sends `setOutputs(.off)` first even when the core believes the outputs are
    /// already off: the fault may mean the hardware did not follow (S9) or the shell lost a command,
    /// so repeating OFF is defence in depth. Re-raising a latched fault only re-enforces emission
    /// off; it is not announced twice.
    mutating func raise(_ fault: FaultCode, detail: String, now: Instant, into actions: inout [SafetyAction]) {
        let isNew = self.faults.insert(fault).inserted
        if isNew { self.forceOutputsOff = true }
        self.endSession(reason: .fault, now: now, into: &actions)
        self.state = .fault
        self.applyOutputs(now: now)
        guard isNew else { return }
        actions.append(.record(.faultRaised(fault, detail: detail)))
        actions.append(.notify(.faultRaised(fault, detail: detail, detectedAt: now)))
        actions.append(.publishState)
    }

    /// Why a fault's condition still holds, or `nil` when it may be acknowledged.
    func faultCondition(_ fault: FaultCode, now: Instant) -> String? {
        let thermal = self.settings.thermal
        switch fault {
        case .overTemperature:
            guard let t = self.temperature else {
                return "no panel temperature known; it must read ≤ \(format(thermal.resume))"
            }
            return t > thermal.resume ? "panel \(format(t)) must cool to ≤ \(format(thermal.resume))" : nil
        case .sensorInvalid:
            return self.invalidStreak > 0
                ? "the last reading was invalid (\(self.lastInvalidReason ?? "unknown")); a valid one is needed" : nil
        case .sensorStale:
            return self.sensorIsStale(now: now)
                ? "no valid temperature sample in the last \(format(thermal.staleAfterSeconds)) s" : nil
        case .thermalImplausible:
            return nil
        case .outputMismatch:
            return self.outputMismatch.map { "outputs still disagree: \($0)" }
        case .interlockWiring:
            return self.interlockAllowsEmission ? nil : "the interlock is still open"
        case .uncleanShutdown, .storage, .internal:
            return nil
        }
    }

    /// Clears a latched fault whose condition is gone; leaves `fault` when none is left.
    mutating func clear(_ fault: FaultCode, now: Instant, into actions: inout [SafetyAction]) {
        guard self.faults.remove(fault) != nil else { return }
        actions.append(.record(.faultCleared(fault)))
        actions.append(.notify(.faultCleared(fault)))
        actions.append(.publishState)
        guard self.faults.isEmpty, self.state == .fault else { return }
        self.state = self.cooldownSince == nil ? .idle : .cooldown
        self.checkCooldownEnd(now: now, into: &actions)
    }
}
