/// The interlock as published: `absent` when none is configured.
public enum InterlockState: String, CaseIterable, Hashable, Sendable, Codable {
    case closed, open, absent
}

/// The full state the shell publishes on `state` and `tele` (one schema, docs/DESIGN.md).
public struct SafetySnapshot: Hashable, Sendable {
    public var state: SessionState
    public var sessionID: String?
    public var channels: ChannelSelection?
    public var intensityPercent: Double?
    public var plannedSeconds: Double?
    public var elapsedSeconds: Double
    public var remainingSeconds: Double
    public var dose: PerChannel<Dose>
    public var doseTarget: Dose?
    public var dose24h: Dose
    public var sessions24h: Int
    public var temperature: Celsius?
    /// From output readback, not from the command.
    public var emitting: Bool
    public var interlock: InterlockState
    public var faults: [FaultCode]
    public var presets: SafetySettings.Presets

    public init(
        state: SessionState, sessionID: String?, channels: ChannelSelection?, intensityPercent: Double?,
        plannedSeconds: Double?, elapsedSeconds: Double, remainingSeconds: Double, dose: PerChannel<Dose>,
        doseTarget: Dose?, dose24h: Dose, sessions24h: Int, temperature: Celsius?, emitting: Bool,
        interlock: InterlockState, faults: [FaultCode], presets: SafetySettings.Presets
    ) {
        self.state = state
        self.sessionID = sessionID
        self.channels = channels
        self.intensityPercent = intensityPercent
        self.plannedSeconds = plannedSeconds
        self.elapsedSeconds = elapsedSeconds
        self.remainingSeconds = remainingSeconds
        self.dose = dose
        self.doseTarget = doseTarget
        self.dose24h = dose24h
        self.sessions24h = sessions24h
        self.temperature = temperature
        self.emitting = emitting
        self.interlock = interlock
        self.faults = faults
        self.presets = presets
    }
}
