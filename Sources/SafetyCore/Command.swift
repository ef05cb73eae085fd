/// The command names of the contract (`cmd` in the envelope).
public enum CommandName: String, CaseIterable, Hashable, Sendable, Codable {
    case start, pause, resume, stop, ack, set, get, identify, ping
}

/// Arguments of `start`; anything missing comes from the presets.
public struct StartArguments: Hashable, Sendable {
    public var channels: ChannelSelection?
    public var intensityPercent: Double?
    public var durationSeconds: Double?
    public var doseTarget: Dose?

    public init(
        channels: ChannelSelection? = nil, intensityPercent: Double? = nil, durationSeconds: Double? = nil,
        doseTarget: Dose? = nil
    ) {
        self.channels = channels
        self.intensityPercent = intensityPercent
        self.durationSeconds = durationSeconds
        self.doseTarget = doseTarget
    }
}

/// Changes to the presets requested by `set`. `doseTarget` of `.some(nil)` clears the target.
public struct PresetChanges: Hashable, Sendable {
    public var channels: ChannelSelection?
    public var intensityPercent: Double?
    public var durationSeconds: Double?
    public var doseTarget: Dose??

    public init(
        channels: ChannelSelection? = nil, intensityPercent: Double? = nil, durationSeconds: Double? = nil,
        doseTarget: Dose?? = nil
    ) {
        self.channels = channels
        self.intensityPercent = intensityPercent
        self.durationSeconds = durationSeconds
        self.doseTarget = doseTarget
    }

    public var isEmpty: Bool {
        self.channels == nil && self.intensityPercent == nil && self.durationSeconds == nil && self.doseTarget == nil
    }
}

/// Which faults an `ack` names.
public enum FaultSelector: Hashable, Sendable {
    case one(FaultCode)
    /// Every fault whose condition is gone.
    case all
}

/// A decoded command.
public enum Command: Hashable, Sendable {
    case start(StartArguments)
    case pause
    case resume
    case stop
    case ack(FaultSelector)
    case set(PresetChanges)
    case get
    case identify
    case ping

    public var name: CommandName {
        switch self {
        case .start: .start
        case .pause: .pause
        case .resume: .resume
        case .stop: .stop
        case .ack: .ack
        case .set: .set
        case .get: .get
        case .identify: .identify
        case .ping: .ping
        }
    }
}

/// Where a command came from; fleet topics are restricted to an allow-list.
public enum CommandSource: Hashable, Sendable {
    /// `<base>/cmd`: this device's own command topic.
    case device
    /// `<prefix>/_all/cmd`.
    case fleetAll
    /// `<prefix>/_group/<g>/cmd`.
    case fleetGroup(String)
}

/// A command as it reached the gateway, decoded or not, with what admission needs to know.
///
/// Decoding happens outside the core (``GatewayProtocol``); a payload that did not decode arrives
/// as `.invalid` so that admission (duplicate ids, rate limit) and the response still go through
/// one place.
public struct CommandEnvelope: Hashable, Sendable {
    public enum Body: Hashable, Sendable {
        case decoded(Command)
        /// The payload could not be turned into a command; the code is `E_JSON`, `E_SCHEMA`,
        /// `E_UNKNOWN_CMD` or `E_RANGE`, the message says what was wrong.
        case invalid(ResponseCode, String)
    }

    /// The client's id, echoed in the response; `nil` when the payload had none.
    public var id: String?
    /// The command name as sent, echoed in the response even when unknown.
    public var commandName: String?
    public var body: Body
    public var source: CommandSource
    /// The MQTT retain flag of the message that carried it.
    public var retained: Bool
    /// The payload size in bytes.
    public var payloadBytes: Int
    /// `ts`: unix milliseconds when the client sent it, if given.
    public var sentAtUnixMs: Int64?
    /// `ttl_ms`: how long after `ts` the command may still act, if given.
    public var ttlMs: Int64?
    /// Wall-clock unix milliseconds when the gateway received it (only used against `ts`).
    public var receivedAtUnixMs: Int64
    /// What the decoder found out about the envelope's `sig`; whether it matters is the core's decision
    /// (``SafetySettings/Signing``), so the rule lives with the rest of the admission order.
    public var signature: SignatureVerdict

    public init(
        id: String?, commandName: String?, body: Body, source: CommandSource = .device, retained: Bool = false,
        payloadBytes: Int = 0, sentAtUnixMs: Int64? = nil, ttlMs: Int64? = nil, receivedAtUnixMs: Int64 = 0,
        signature: SignatureVerdict = .absent
    ) {
        self.id = id
        self.commandName = commandName
        self.body = body
        self.source = source
        self.retained = retained
        self.payloadBytes = payloadBytes
        self.sentAtUnixMs = sentAtUnixMs
        self.ttlMs = ttlMs
        self.receivedAtUnixMs = receivedAtUnixMs
        self.signature = signature
    }
}

/// The outcome of checking a command's `sig` against this panel's key, decided outside the core (the
/// HMAC needs a crypto library the pure core does not link) and judged inside it.
public enum SignatureVerdict: Hashable, Sendable {
    /// No `sig` member.
    case absent
    /// A `sig` arrived but this gateway has no key to check it with (signing not configured).
    case unchecked
    /// `sig` is present but `ts` or `ttl_ms` is missing: the signed form needs both.
    case incomplete
    /// `sig` matches the canonical form under this panel's key; `tag` is the signature itself (lowercase
    /// hex), the key of the replay memory: a replay is the same signed bytes, so the same tag.
    case verified(tag: String)
    /// `sig` is malformed or does not match.
    case mismatch
}

/// The answer to one command, published on `<base>/res` (or the v5 response topic).
public struct CommandResponse: Hashable, Sendable {
    public var id: String?
    public var commandName: String?
    /// `nil` for success.
    public var code: ResponseCode?
    public var message: String
    /// The machine's state after the command.
    public var state: SessionState
    /// Extra payload for `get`/`ping` answers (the shell fills in the snapshot).
    public var includesSnapshot: Bool

    public var ok: Bool { self.code == nil }

    public init(
        id: String?, commandName: String?, code: ResponseCode?, message: String, state: SessionState,
        includesSnapshot: Bool = false
    ) {
        self.id = id
        self.commandName = commandName
        self.code = code
        self.message = message
        self.state = state
        self.includesSnapshot = includesSnapshot
    }
}
