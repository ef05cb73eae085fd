/// Failures of the shell's own work that the core must decide on: a ledger record a command
/// depended on, and an input line that can no longer be read.
extension SafetyMachine {
    /// The `sessionOpened` (or another record) that `envelope`'s actions depended on could not be
    /// written, so the shell performed none of the actions after it.
    ///
    /// The session that command opened never emitted: `F_STORAGE` latches (which ends it as
    /// `aborted(fault)` with no dose), and the command is answered again, now with `E_STORAGE`,
    /// because the shell withheld its `ok`. The cached `ok` is forgotten, so a retry with the same
    /// id is decided afresh (and refused while the fault is latched).
    mutating func commandNotRecorded(
        _ envelope: CommandEnvelope, reason: String, now: Instant, into actions: inout [SafetyAction]
    ) {
        self.raise(.storage, detail: "ledger write failed: \(reason)", now: now, into: &actions)
        if let key = Self.deduplicationKey(envelope) { self.answered.forget(key) }
        let response = self.reject(
            envelope, .storage,
            "the ledger could not record the session (\(reason)); nothing was started and F_STORAGE is latched")
        actions.append(
            .notify(.commandRejected(commandName: envelope.commandName, code: .storage, message: response.message)))
        actions.append(.respond(response))
    }

    /// An input line can no longer be read: its level is unknown, so it counts at its unsafe level.
    ///
    /// An interlock counts as open (S10: a broken wire is open), and every configured safety input
    /// latches `F_INTERLOCK_WIRING`, which ends a session: a panel that cannot see its interlock,
    /// its stop button or its emission sense must not emit.
    mutating func inputFailed(_ line: InputLine, reason: String, now: Instant, into actions: inout [SafetyAction]) {
        let inputs = self.settings.inputs
        switch line {
        case .interlock:
            guard inputs.interlock else { return }
            self.interlockClosed = false
        case .stopButton:
            guard inputs.stopButton else { return }
        case .emissionSense:
            guard inputs.emissionSense else { return }
        }
        self.raise(
            .interlockWiring, detail: "input \(line.rawValue) cannot be read: \(reason)", now: now, into: &actions)
        self.applyOutputs(now: now)
        actions.append(.publishState)
    }
}
