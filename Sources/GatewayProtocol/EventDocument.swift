import SafetyCore

/// `<base>/event` (never retained): one thing that happened, once, with the wall-clock `ts` it was
/// published at. Every kind names itself in `event`; the members after it depend on the kind.
public struct EventDocument: Hashable, Sendable {
    /// The `event` member: what a subscriber switches on.
    public enum Kind: String, CaseIterable, Hashable, Sendable {
        case sessionStarted = "session_started"
        case paused, resumed, completed, aborted
        case faultRaised = "fault_raised"
        case faultCleared = "fault_cleared"
        case commandRejected = "command_rejected"
        case temperatureWarning = "temperature_warning"
    }

    /// A session as `start` planned it.
    public struct Start: Hashable, Sendable {
        public var sessionID: String
        public var channels: ChannelSelection
        public var intensityPercent: Double
        public var plannedSeconds: Double
        public var doseTarget: Double?

        public init(
            sessionID: String, channels: ChannelSelection, intensityPercent: Double, plannedSeconds: Double,
            doseTarget: Double? = nil
        ) {
            self.sessionID = sessionID
            self.channels = channels
            self.intensityPercent = intensityPercent
            self.plannedSeconds = plannedSeconds
            self.doseTarget = doseTarget
        }
    }

    /// How a session ended: how long it emitted, what it delivered, and why it ended.
    public struct End: Hashable, Sendable {
        public var sessionID: String
        public var elapsedSeconds: Double
        public var dose: DoseDocument
        public var reason: SessionEndReason

        public init(sessionID: String, elapsedSeconds: Double, dose: DoseDocument, reason: SessionEndReason) {
            self.sessionID = sessionID
            self.elapsedSeconds = elapsedSeconds
            self.dose = dose
            self.reason = reason
        }
    }

    /// A latched fault, with the monotonic instants of its detection and of the outputs going off,
    /// so its reaction time can be measured from outside.
    public struct Fault: Hashable, Sendable {
        public var code: FaultCode
        public var detail: String
        public var detectedMonoNs: Int64
        public var outputsOffMonoNs: Int64?

        public init(code: FaultCode, detail: String, detectedMonoNs: Int64 = 0, outputsOffMonoNs: Int64? = nil) {
            self.code = code
            self.detail = detail
            self.detectedMonoNs = detectedMonoNs
            self.outputsOffMonoNs = outputsOffMonoNs
        }
    }

    public enum Event: Hashable, Sendable {
        case sessionStarted(Start)
        case paused(sessionID: String, reason: PauseReason)
        case resumed(sessionID: String)
        case completed(End)
        case aborted(End)
        case faultRaised(Fault)
        case faultCleared(FaultCode)
        /// A refusal that has no `res` to go to (a command without an id, a stale or retained one):
        /// `command` is its `cmd` when it could be read. At most one is published per code per second;
        /// `suppressed` counts the earlier refusals with this code folded into this one since the
        /// code's previous event (written only when not 0).
        case commandRejected(command: String?, code: ResponseCode, message: String, suppressed: Int = 0)
        case temperatureWarning(celsius: Double)
    }

    public var event: Event
    public var unixMs: Int64

    public init(_ event: Event, unixMs: Int64) {
        self.event = event
        self.unixMs = unixMs
    }

    /// The document of `notice`, rounded as published; `outputsOffAt` is when the shell drove the
    /// outputs off after a fault.
    public init(_ notice: SafetyNotice, unixMs: Int64, outputsOffAt: Instant? = nil) {
        let event: Event =
            switch notice {
            case .sessionStarted(let plan):
                .sessionStarted(
                    Start(
                        sessionID: plan.sessionID, channels: plan.channels, intensityPercent: plan.intensityPercent,
                        plannedSeconds: plan.plannedSeconds, doseTarget: plan.doseTarget?.joulesPerCm2))
            case .paused(let sessionID, let reason): .paused(sessionID: sessionID, reason: reason)
            case .resumed(let sessionID): .resumed(sessionID: sessionID)
            case .completed(let progress, let reason): .completed(End(progress, reason: reason))
            case .aborted(let progress, let reason): .aborted(End(progress, reason: reason))
            case .faultRaised(let code, let detail, let detectedAt):
                .faultRaised(
                    Fault(
                        code: code, detail: detail, detectedMonoNs: Int64(detectedAt.nanoseconds),
                        outputsOffMonoNs: outputsOffAt.map { Int64($0.nanoseconds) }))
            case .faultCleared(let code): .faultCleared(code)
            case .commandRejected(let name, let code, let message):
                .commandRejected(command: name, code: code, message: message, suppressed: 0)
            case .temperatureWarning(let t): .temperatureWarning(celsius: rounded(t.value, digits: 2))
            }
        self.init(event, unixMs: unixMs)
    }

    public var kind: Kind {
        switch self.event {
        case .sessionStarted: .sessionStarted
        case .paused: .paused
        case .resumed: .resumed
        case .completed: .completed
        case .aborted: .aborted
        case .faultRaised: .faultRaised
        case .faultCleared: .faultCleared
        case .commandRejected: .commandRejected
        case .temperatureWarning: .temperatureWarning
        }
    }

    /// The session the event is about, for the kinds that have one.
    public var sessionID: String? {
        switch self.event {
        case .sessionStarted(let start): start.sessionID
        case .paused(let id, _), .resumed(let id): id
        case .completed(let end), .aborted(let end): end.sessionID
        default: nil
        }
    }

    /// The fault a `fault_raised` or `fault_cleared` is about.
    public var faultCode: FaultCode? {
        switch self.event {
        case .faultRaised(let fault): fault.code
        case .faultCleared(let code): code
        default: nil
        }
    }

    /// Why a `paused` paused.
    public var pauseReason: PauseReason? {
        if case .paused(_, let reason) = self.event { return reason }
        return nil
    }

    /// The code of a `command_rejected`.
    public var rejectionCode: ResponseCode? {
        if case .commandRejected(_, let code, _, _) = self.event { return code }
        return nil
    }

    /// How many earlier refusals a `command_rejected` stands for besides its own (0 for other kinds).
    public var suppressedRejections: Int {
        if case .commandRejected(_, _, _, let suppressed) = self.event { return suppressed }
        return 0
    }

    /// How the session ended, for `completed` and `aborted`.
    public var end: End? {
        switch self.event {
        case .completed(let end), .aborted(let end): end
        default: nil
        }
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("event", .string(self.kind.rawValue))]
        switch self.event {
        case .sessionStarted(let start):
            members += [
                ("session_id", .string(start.sessionID)), ("channels", .string(start.channels.rawValue)),
                ("intensity_pct", .number(start.intensityPercent)), ("planned_s", .number(start.plannedSeconds)),
                ("dose_target_j_cm2", start.doseTarget.map(JSONValue.number) ?? .null),
            ]
        case .paused(let sessionID, let reason):
            members += [("session_id", .string(sessionID)), ("reason", .string(reason.rawValue))]
        case .resumed(let sessionID):
            members += [("session_id", .string(sessionID))]
        case .completed(let end), .aborted(let end):
            members += [
                ("session_id", .string(end.sessionID)), ("elapsed_s", .number(end.elapsedSeconds)),
                ("dose_j_cm2", end.dose.json), ("reason", .string(end.reason.rawValue)),
            ]
        case .faultRaised(let fault):
            members += [
                ("fault", .string(fault.code.rawValue)), ("detail", .string(fault.detail)),
                ("detected_mono_ns", .number(Double(fault.detectedMonoNs))),
            ]
            if let off = fault.outputsOffMonoNs { members.append(("outputs_off_mono_ns", .number(Double(off)))) }
        case .faultCleared(let code):
            members += [("fault", .string(code.rawValue))]
        case .commandRejected(let command, let code, let message, let suppressed):
            members += [
                ("cmd", command.map(JSONValue.string) ?? .null), ("code", .string(code.rawValue)),
                ("message", .string(message)),
            ]
            if suppressed > 0 { members.append(("suppressed", .number(Double(suppressed)))) }
        case .temperatureWarning(let celsius):
            members += [("temperature_c", .number(celsius))]
        }
        members.append(("ts", .number(Double(self.unixMs))))
        return .object(members)
    }

    /// Reads an `event`, refusing an unknown kind, a missing member, a wrong type or a reason,
    /// fault or code this contract does not have.
    public init(json: JSONValue) throws(ContractError) {
        let reader = try DocumentReader("event", json)
        let event: Event =
            switch try reader.choice("event", Kind.self) {
            case .sessionStarted:
                .sessionStarted(
                    Start(
                        sessionID: try reader.string("session_id"),
                        channels: try reader.choice("channels", ChannelSelection.self),
                        intensityPercent: try reader.number("intensity_pct"),
                        plannedSeconds: try reader.number("planned_s"),
                        doseTarget: try reader.optionalNumber("dose_target_j_cm2")))
            case .paused:
                .paused(sessionID: try reader.string("session_id"), reason: try reader.choice("reason", PauseReason.self))
            case .resumed: .resumed(sessionID: try reader.string("session_id"))
            case .completed: .completed(try End(reader))
            case .aborted: .aborted(try End(reader))
            case .faultRaised:
                .faultRaised(
                    Fault(
                        code: try reader.choice("fault", FaultCode.self), detail: try reader.string("detail"),
                        detectedMonoNs: try reader.integer("detected_mono_ns"),
                        outputsOffMonoNs: try reader.optionalInteger("outputs_off_mono_ns")))
            case .faultCleared: .faultCleared(try reader.choice("fault", FaultCode.self))
            case .commandRejected:
                .commandRejected(
                    command: try reader.optionalString("cmd"), code: try reader.choice("code", ResponseCode.self),
                    message: try reader.string("message"), suppressed: try Self.suppressed(reader))
            case .temperatureWarning: .temperatureWarning(celsius: try reader.number("temperature_c"))
            }
        self.init(event, unixMs: try reader.integer("ts"))
    }
}

extension EventDocument {
    /// `suppressed`: missing means 0; when there, a whole number ≥ 1 (the gateway never writes 0).
    fileprivate static func suppressed(_ reader: DocumentReader) throws(ContractError) -> Int {
        guard let number = try reader.optionalNumber("suppressed") else { return 0 }
        guard number >= 1, number <= 1e15, number.rounded() == number else {
            throw ContractError("event: 'suppressed' must be a whole number ≥ 1")
        }
        return Int(number)
    }
}

extension EventDocument.End {
    /// Rounded as published: 0.1 s, 0.001 J/cm².
    init(_ progress: SessionProgress, reason: SessionEndReason) {
        self.init(
            sessionID: progress.sessionID, elapsedSeconds: rounded(progress.emittingSeconds, digits: 1),
            dose: DoseDocument(progress.dose), reason: reason)
    }

    init(_ reader: DocumentReader) throws(ContractError) {
        self.init(
            sessionID: try reader.string("session_id"), elapsedSeconds: try reader.number("elapsed_s"),
            dose: try DoseDocument(try reader.object("dose_j_cm2")),
            reason: try reader.choice("reason", SessionEndReason.self))
    }
}
