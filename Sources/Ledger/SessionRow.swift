public import SafetyCore

/// One session as the ledger remembers it, for `rlt-gateway history` and for tests.
///
/// Wall-clock times are unix milliseconds: they label records for people; the safety core never runs
/// a timer on them.
public struct SessionRow: Sendable, Hashable {
    public var id: String
    public var startedAtUnixMs: Int64
    /// `nil` while the session is open. For `unclean_shutdown`, the last sign of life (the last
    /// checkpoint, or the start): the real end is unknown.
    public var endedAtUnixMs: Int64?
    public var channels: ChannelSelection
    public var intensityPercent: Double
    public var plannedSeconds: Double
    public var doseTarget: Dose?
    /// The most this session could deliver before the machine ended it (``SessionPlan/doseCeiling``).
    public var doseCeiling: Dose
    public var emittingSeconds: Double
    /// Measured dose of the red channel at the last checkpoint or at the close.
    public var doseRed: Dose
    /// Measured dose of the near-infrared channel at the last checkpoint or at the close.
    public var doseNIR: Dose
    /// The dose booked against the rolling 24 h window. Normally `doseRed + doseNIR`; for a session a
    /// crash left open it is the conservative `max(last checkpoint, doseCeiling)`, so it can be larger
    /// than the measured channels.
    public var doseTotal: Dose
    /// A ``SessionEndReason`` raw value, or `nil` while open. A string, so rows written by a newer version
    /// with a new reason stay readable.
    public var endReason: String?
    public var checkpointAtUnixMs: Int64?
    /// When boot recovery closed this session as `unclean_shutdown`; `nil` for every other session.
    public var recoveredAtUnixMs: Int64?

    public init(
        id: String, startedAtUnixMs: Int64, endedAtUnixMs: Int64?, channels: ChannelSelection,
        intensityPercent: Double, plannedSeconds: Double, doseTarget: Dose?, doseCeiling: Dose,
        emittingSeconds: Double, doseRed: Dose, doseNIR: Dose, doseTotal: Dose, endReason: String?,
        checkpointAtUnixMs: Int64?, recoveredAtUnixMs: Int64?
    ) {
        self.id = id
        self.startedAtUnixMs = startedAtUnixMs
        self.endedAtUnixMs = endedAtUnixMs
        self.channels = channels
        self.intensityPercent = intensityPercent
        self.plannedSeconds = plannedSeconds
        self.doseTarget = doseTarget
        self.doseCeiling = doseCeiling
        self.emittingSeconds = emittingSeconds
        self.doseRed = doseRed
        self.doseNIR = doseNIR
        self.doseTotal = doseTotal
        self.endReason = endReason
        self.checkpointAtUnixMs = checkpointAtUnixMs
        self.recoveredAtUnixMs = recoveredAtUnixMs
    }

    /// Whether the session has no end yet (running now, or left open by a crash before recovery).
    public var isOpen: Bool { self.endedAtUnixMs == nil }

    /// The end reason as the core's enum, when it is one this version knows.
    public var sessionEndReason: SessionEndReason? { self.endReason.flatMap(SessionEndReason.init(rawValue:)) }
}

/// One raised fault and, once acknowledged with its condition gone, when it cleared.
public struct FaultRow: Sendable, Hashable {
    /// Row id, increasing in the order faults were raised.
    public var id: Int64
    /// The ``FaultCode`` raw value (`F_OVERTEMP`, …); a string so newer codes stay readable.
    public var code: String
    public var detail: String
    public var raisedAtUnixMs: Int64
    public var clearedAtUnixMs: Int64?

    public init(id: Int64, code: String, detail: String, raisedAtUnixMs: Int64, clearedAtUnixMs: Int64?) {
        self.id = id
        self.code = code
        self.detail = detail
        self.raisedAtUnixMs = raisedAtUnixMs
        self.clearedAtUnixMs = clearedAtUnixMs
    }

    /// The code as the core's enum, when it is one this version knows.
    public var faultCode: FaultCode? { FaultCode(rawValue: self.code) }
}
