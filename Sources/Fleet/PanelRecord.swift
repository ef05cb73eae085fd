import GatewayProtocol
import SafetyCore

/// What the fleet knows about one panel, assembled from its `status`, `state`, `tele` and `event` topics.
///
/// Every field is optional until the panel has published it: a panel seen only through its
/// retained `status` still gets a row (and metrics), so nothing about it is invented.
public struct PanelRecord: Hashable, Sendable {
    public let device: String
    /// `true` online, `false` offline (will or clean stop), `nil` before any `status`.
    public var online: Bool?
    /// Why the panel went offline (`connection_lost`, `shutdown`), as its `status` said.
    public var offlineReason: String?
    public var bootID: String?
    public var version: String?
    /// The panel's safety state as published; `nil` (shown as `unknown`) before its first `state`/`tele`.
    public var state: SessionState?
    public var sessionID: String?
    public var remainingSeconds: Double?
    public var plannedSeconds: Double?
    public var elapsedSeconds: Double?
    /// Dose of the current (or last) session, total and per channel, in J/cm².
    public var dose: DoseDocument?
    public var dose24h: Double?
    public var sessions24h: Double?
    public var temperatureC: Double?
    public var emitting: Bool?
    public var interlock: String?
    public var faults: [String] = []
    /// Wall-clock unix seconds of the newest message known to be fresh (see ``FleetRegistry``).
    public var lastSeen: Double?
    public var lastEvent: String?
    /// Counters of what this tool saw since it started (Prometheus counters).
    public var counters = Counters()

    public struct Counters: Hashable, Sendable {
        public var sessionsStarted = 0
        public var sessionsCompleted = 0
        public var sessionsAborted = 0
        public var faultsRaised = 0
        /// Offline → online transitions, and new boot ids seen while online.
        public var reconnects = 0
        public var messages = 0
        /// Dose and emitting seconds delivered in the sessions seen (see ``DeliveryTally``).
        public var delivered = DeliveryTally()
    }

    public init(device: String) {
        self.device = device
    }
}

extension PanelRecord {
    /// Every state a viewer shows: the contract's, and `unknown` before the first document.
    public static let stateNames = SessionState.allCases.map(\.rawValue) + ["unknown"]

    /// The state as a viewer shows it.
    public var stateName: String { self.state?.rawValue ?? "unknown" }

    /// The record as one JSON object, for `fleet watch --json`.
    public func json(now: Double) -> JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
        var members: [(String, JSONValue)] = [
            ("device", .string(self.device)),
            ("online", self.online.map(JSONValue.bool) ?? .null),
            ("offline_reason", self.offlineReason.map(JSONValue.string) ?? .null),
            ("state", .string(self.stateName)),
            ("session_id", self.sessionID.map(JSONValue.string) ?? .null),
            ("remaining_s", number(self.remainingSeconds)),
            ("dose_j_cm2", number(self.dose?.total)),
            ("dose_24h_j_cm2", number(self.dose24h)),
            ("sessions_24h", number(self.sessions24h)),
            ("temperature_c", number(self.temperatureC)),
            ("emitting", self.emitting.map(JSONValue.bool) ?? .null),
            ("interlock", self.interlock.map(JSONValue.string) ?? .null),
            ("faults", .array(self.faults.map(JSONValue.string))),
            ("last_seen", number(self.lastSeen)),
            ("last_seen_age_s", number(self.lastSeen.map { max(0, (now - $0).rounded()) })),
            ("version", self.version.map(JSONValue.string) ?? .null),
        ]
        members.append(("reconnects", .number(Double(self.counters.reconnects))))
        return .object(members)
    }
}
