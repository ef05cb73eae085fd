/// What the outputs should be. `duty` 0 means off; the shell maps duty to GPIO and PWM.
public struct OutputCommand: Hashable, Sendable {
    public var duty: PerChannel<Double>
    /// The optional series relay: on only while emitting.
    public var master: Bool

    public init(duty: PerChannel<Double>, master: Bool) {
        self.duty = duty
        self.master = master
    }

    public static let off = OutputCommand(duty: PerChannel(red: 0, nir: 0), master: false)
    public var emitting: Bool { self.duty.red > 0 || self.duty.nir > 0 }

    /// The readback that would agree with this command.
    public var expectedReadback: OutputReadback {
        OutputReadback(red: self.duty.red > 0, nir: self.duty.nir > 0, master: self.master)
    }
}

/// Why a session ended.
public enum SessionEndReason: String, Hashable, Sendable, Codable, CaseIterable {
    // completed
    case duration
    case doseTarget = "dose_target"
    case doseLimit = "dose_limit"
    // aborted
    case stopCommand = "stop"
    case stopButton = "stop_button"
    case fault
    case linkLoss = "link_loss"
    case shutdown
    case uncleanShutdown = "unclean_shutdown"

    /// `completed` for the planned ends, `aborted` otherwise.
    public var isCompletion: Bool {
        switch self {
        case .duration, .doseTarget, .doseLimit: true
        case .stopCommand, .stopButton, .fault, .linkLoss, .shutdown, .uncleanShutdown: false
        }
    }
}

/// Why a session paused.
public enum PauseReason: String, CaseIterable, Hashable, Sendable, Codable {
    case command
    case interlock
    case linkLoss = "link_loss"
}

/// A session as planned at `start`.
public struct SessionPlan: Hashable, Sendable {
    public var sessionID: String
    public var channels: ChannelSelection
    public var intensityPercent: Double
    public var plannedSeconds: Double
    public var doseTarget: Dose?
    /// The most this session can deliver before the machine ends it: the smallest of the planned
    /// duration's dose, the target and the per-session limit. The ledger books this for a session a
    /// crash left open, so the 24 h total never under-counts.
    public var doseCeiling: Dose

    public init(
        sessionID: String, channels: ChannelSelection, intensityPercent: Double, plannedSeconds: Double,
        doseTarget: Dose?, doseCeiling: Dose
    ) {
        self.sessionID = sessionID
        self.channels = channels
        self.intensityPercent = intensityPercent
        self.plannedSeconds = plannedSeconds
        self.doseTarget = doseTarget
        self.doseCeiling = doseCeiling
    }
}

/// What a session delivered so far.
public struct SessionProgress: Hashable, Sendable {
    public var sessionID: String
    public var emittingSeconds: Double
    public var dose: PerChannel<Dose>

    public init(sessionID: String, emittingSeconds: Double, dose: PerChannel<Dose>) {
        self.sessionID = sessionID
        self.emittingSeconds = emittingSeconds
        self.dose = dose
    }
}

/// A user-visible happening, published on `<base>/event`.
public enum SafetyNotice: Hashable, Sendable {
    case sessionStarted(SessionPlan)
    case paused(sessionID: String, reason: PauseReason)
    case resumed(sessionID: String)
    case completed(SessionProgress, reason: SessionEndReason)
    case aborted(SessionProgress, reason: SessionEndReason)
    /// `detectedAt` is the monotonic time of the event that revealed the fault; the shell adds the
    /// time the outputs were driven off, so reaction time is measurable.
    case faultRaised(FaultCode, detail: String, detectedAt: Instant)
    case faultCleared(FaultCode)
    case commandRejected(commandName: String?, code: ResponseCode, message: String)
    case temperatureWarning(Celsius)
}

/// What the ledger must record; the shell performs these in order.
public enum LedgerRecord: Hashable, Sendable {
    /// Written before emission starts.
    case sessionOpened(SessionPlan)
    /// Periodic progress so a crash loses at most a checkpoint interval (the ledger errs high).
    case sessionCheckpoint(SessionProgress)
    case sessionClosed(SessionProgress, reason: SessionEndReason)
    /// Light the hardware gave while no session was open (readback or emission sense against an OFF
    /// command, S9), counted at full irradiance, delivered since the previous such record; the ledger
    /// books it by delivery time so the 24 h window survives a restart (S3).
    case lightOutsideSession(Dose)
    case faultRaised(FaultCode, detail: String)
    case faultCleared(FaultCode)
    case presetsChanged(SafetySettings.Presets)
}

/// What the shell must do after an event.
///
/// - Important: the shell performs the actions in list order. The core puts `setOutputs` first
///   whenever anything turns off (and always at boot and shutdown); when emission turns on, it
///   comes right after `record(.sessionOpened)`, so the ledger knows the session before the LEDs
///   light. There is at most one `setOutputs` and at most one `publishState` (last) per event.
public enum SafetyAction: Hashable, Sendable {
    case setOutputs(OutputCommand)
    case respond(CommandResponse)
    /// The snapshot changed: publish retained `state`.
    case publishState
    case notify(SafetyNotice)
    case record(LedgerRecord)
    /// Blink the indicator so someone can find the panel.
    case identify
}
