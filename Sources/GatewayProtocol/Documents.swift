import SafetyCore

/// A document of the MQTT contract that could not be read: which key, and what was wrong with it.
public struct ContractError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}

/// A document of the MQTT contract: the one encoder the gateway publishes with and the one strict
/// decoder every reader uses. A decoder refuses a missing member, a wrong type and a value outside
/// its enumeration; it ignores members it does not know, so a reader of this version still reads a
/// document that a later version extends.
public protocol ContractDocument: Sendable {
    init(json: JSONValue) throws(ContractError)
    var json: JSONValue { get }
}

extension ContractDocument {
    /// Parses `payload` as JSON and reads it as this document.
    public init(payload: [UInt8]) throws(ContractError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(payload)
        } catch {
            throw ContractError("not JSON: \(error)")
        }
        try self.init(json: json)
    }
}

extension StatusDocument: ContractDocument {}
extension StateDocument: ContractDocument {}
extension ResponseDocument: ContractDocument {}
extension EventDocument: ContractDocument {}
extension InfoDocument: ContractDocument {}
extension DiagnosticsDocument: ContractDocument {}

/// Reads the members of one JSON object strictly: a required key must be there with its type, an
/// optional one may be missing or `null`, and a value outside its enumeration is an error, not a
/// silent `nil`. Every document's decoder goes through it, so all of them refuse the same way.
struct DocumentReader {
    let document: String
    let value: JSONValue

    init(_ document: String, _ value: JSONValue) throws(ContractError) {
        guard case .object = value else { throw ContractError("\(document): not a JSON object") }
        self.document = document
        self.value = value
    }

    private func present(_ key: String) -> JSONValue? {
        guard let member = self.value[key], member != .null else { return nil }
        return member
    }

    private func wrong(_ key: String, _ expected: String) -> ContractError {
        ContractError("\(self.document): '\(key)' must be \(expected)")
    }

    /// The member `key` as `extract` reads it; `nil` when it is missing or `null`, an error naming
    /// `expected` when it is there with another type.
    private func optional<T>(_ key: String, _ expected: String, _ extract: (JSONValue) -> T?) throws(ContractError)
        -> T?
    {
        guard let member = self.present(key) else { return nil }
        guard let value = extract(member) else { throw self.wrong(key, expected) }
        return value
    }

    func optionalString(_ key: String) throws(ContractError) -> String? {
        try self.optional(key, "a string") { if case .string(let text) = $0 { text } else { nil } }
    }

    func string(_ key: String) throws(ContractError) -> String {
        guard let text = try self.optionalString(key) else { throw self.wrong(key, "a string") }
        return text
    }

    func optionalNumber(_ key: String) throws(ContractError) -> Double? {
        try self.optional(key, "a number") { if case .number(let number) = $0 { number } else { nil } }
    }

    func number(_ key: String) throws(ContractError) -> Double {
        guard let number = try self.optionalNumber(key) else { throw self.wrong(key, "a number") }
        return number
    }

    /// A whole number that fits `T`. A document's counters and time stamps come off the network: a
    /// value like 1e300 or 1.5 is refused here rather than trapping in the integer conversion (found by
    /// the fleet-registry fuzz target: a hostile retained `state` with a huge `ts` crashed `rlt-fleet`).
    func integer<T: FixedWidthInteger>(_ key: String, as _: T.Type = T.self) throws(ContractError) -> T {
        guard let value = try self.optionalInteger(key, as: T.self) else { throw self.wrong(key, "a number") }
        return value
    }

    /// ``integer(_:as:)`` for a member that may be missing or `null`.
    func optionalInteger<T: FixedWidthInteger>(_ key: String, as _: T.Type = T.self) throws(ContractError) -> T? {
        guard let number = try self.optionalNumber(key) else { return nil }
        guard let value = T(exactly: number) else { throw self.wrong(key, "a whole number in range") }
        return value
    }

    func bool(_ key: String) throws(ContractError) -> Bool {
        guard case .bool(let flag)? = self.present(key) else { throw self.wrong(key, "true or false") }
        return flag
    }

    func optionalChoice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(ContractError) -> T?
    where T.RawValue == String {
        guard let text = try self.optionalString(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            throw self.wrong(key, "one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return choice
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(ContractError) -> T
    where T.RawValue == String {
        guard let choice = try self.optionalChoice(key, type) else { throw self.wrong(key, "a string") }
        return choice
    }

    func object(_ key: String) throws(ContractError) -> DocumentReader {
        guard let member = self.present(key) else { throw self.wrong(key, "an object") }
        return try DocumentReader("\(self.document).\(key)", member)
    }

    func optionalObject(_ key: String) throws(ContractError) -> DocumentReader? {
        guard let member = self.present(key) else { return nil }
        return try DocumentReader("\(self.document).\(key)", member)
    }

    func strings(_ key: String) throws(ContractError) -> [String] {
        guard case .array(let items)? = self.present(key) else { throw self.wrong(key, "an array of strings") }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw self.wrong(key, "an array of strings") }
            strings.append(text)
        }
        return strings
    }
}

/// `value` rounded to `digits` decimals, as every document publishes its measurements: a reader
/// sees 0.1 s and 0.001 J/cm² steps, not the float noise of the integration.
func rounded(_ value: Double, digits: Int) -> Double {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (value * scale).rounded() / scale
}

extension JSONValue {
    fileprivate static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
    fileprivate static func optional(_ number: Double?) -> JSONValue { number.map(JSONValue.number) ?? .null }
}

// MARK: - status

/// Retained `<base>/status`: online with the boot id and version, or offline and why (the will says
/// `connection_lost`, a clean stop `shutdown`).
public enum StatusDocument: Hashable, Sendable {
    case online(bootID: String, version: String)
    case offline(reason: String)

    public var json: JSONValue {
        switch self {
        case .online(let bootID, let version):
            .object([("state", "online"), ("boot_id", .string(bootID)), ("version", .string(version))])
        case .offline(let reason):
            .object([("state", "offline"), ("reason", .string(reason))])
        }
    }

    public init(json: JSONValue) throws(ContractError) {
        let reader = try DocumentReader("status", json)
        switch try reader.string("state") {
        case "online": self = .online(bootID: try reader.string("boot_id"), version: try reader.string("version"))
        case "offline": self = .offline(reason: try reader.string("reason"))
        default: throw ContractError("status: 'state' must be one of online, offline")
        }
    }

    public var isOnline: Bool {
        if case .online = self { return true }
        return false
    }

    /// Why the panel went offline (`connection_lost` from the will, `shutdown`); `nil` while online.
    public var offlineReason: String? {
        if case .offline(let reason) = self { return reason }
        return nil
    }
}

// MARK: - state and tele

/// Dose per channel and in total, in J/cm², as every document writes it.
public struct DoseDocument: Hashable, Sendable {
    public var total: Double
    public var red: Double
    public var nir: Double

    public init(total: Double, red: Double, nir: Double) {
        self.total = total
        self.red = red
        self.nir = nir
    }

    public init(_ dose: PerChannel<Dose>) {
        self.init(
            total: rounded(dose.total.joulesPerCm2, digits: 3), red: rounded(dose.red.joulesPerCm2, digits: 3),
            nir: rounded(dose.nir.joulesPerCm2, digits: 3))
    }

    public var json: JSONValue {
        .object([("total", .number(self.total)), ("red", .number(self.red)), ("nir", .number(self.nir))])
    }

    init(_ reader: DocumentReader) throws(ContractError) {
        self.init(total: try reader.number("total"), red: try reader.number("red"), nir: try reader.number("nir"))
    }
}

/// What `start` uses for arguments it does not give, as `state` reports them.
public struct PresetsDocument: Hashable, Sendable {
    public var channels: ChannelSelection
    public var intensityPercent: Double
    public var durationSeconds: Double
    public var doseTarget: Double?

    public init(_ presets: SafetySettings.Presets) {
        self.channels = presets.channels
        self.intensityPercent = presets.intensityPercent
        self.durationSeconds = presets.durationSeconds
        self.doseTarget = presets.doseTarget?.joulesPerCm2
    }

    public var json: JSONValue {
        .object([
            ("channels", .string(self.channels.rawValue)), ("intensity_pct", .number(self.intensityPercent)),
            ("duration_s", .number(self.durationSeconds)), ("dose_j_cm2", .optional(self.doseTarget)),
        ])
    }

    init(_ reader: DocumentReader) throws(ContractError) {
        self.channels = try reader.choice("channels", ChannelSelection.self)
        self.intensityPercent = try reader.number("intensity_pct")
        self.durationSeconds = try reader.number("duration_s")
        self.doseTarget = try reader.optionalNumber("dose_j_cm2")
    }
}

/// The ledger's lifetime totals as `state` writes them (added in 0.2): J/cm² of every dose slice
/// ever booked and seconds of emission, rounded like the session's own figures. They never decrease
/// (retention purges do not reduce them), so Home Assistant can sum them as `total_increasing`.
public struct LifetimeDocument: Hashable, Sendable {
    public var dose: Double
    public var emittingSeconds: Double

    public init(dose: Double, emittingSeconds: Double) {
        self.dose = dose
        self.emittingSeconds = emittingSeconds
    }

    /// Rounding is monotonic, so the published totals never decrease either.
    public init(_ totals: LifetimeTotals) {
        self.init(
            dose: rounded(totals.dose.joulesPerCm2, digits: 3),
            emittingSeconds: rounded(totals.emittingSeconds, digits: 1))
    }

    public var json: JSONValue {
        .object([("dose_j_cm2", .number(self.dose)), ("emitting_s", .number(self.emittingSeconds))])
    }

    init(_ reader: DocumentReader) throws(ContractError) {
        self.init(dose: try reader.number("dose_j_cm2"), emittingSeconds: try reader.number("emitting_s"))
    }
}

/// `<base>/state` (retained, on change) and `<base>/tele` (periodic): one schema, so a dashboard
/// reads either. `ts` is wall-clock unix ms, a label only; `seq` grows by one per publish.
public struct StateDocument: Hashable, Sendable {
    public var state: SessionState
    public var sessionID: String?
    public var channels: ChannelSelection?
    public var intensityPercent: Double?
    public var plannedSeconds: Double?
    public var elapsedSeconds: Double
    public var remainingSeconds: Double
    public var dose: DoseDocument
    public var doseTarget: Double?
    public var dose24h: Double
    public var sessions24h: Int
    public var temperatureC: Double?
    public var emitting: Bool
    public var interlock: InterlockState
    public var faults: [FaultCode]
    public var presets: PresetsDocument
    /// The ledger's totals as last written: they move when a record completes (checkpoints, a
    /// session's end), not with every tick. `nil` only when read from a gateway before 0.2, which did
    /// not write them.
    public var lifetime: LifetimeDocument?
    public var unixMs: Int64
    public var seq: UInt64

    public init(
        state: SessionState, sessionID: String? = nil, channels: ChannelSelection? = nil,
        intensityPercent: Double? = nil, plannedSeconds: Double? = nil, elapsedSeconds: Double = 0,
        remainingSeconds: Double = 0, dose: DoseDocument = DoseDocument(total: 0, red: 0, nir: 0),
        doseTarget: Double? = nil, dose24h: Double = 0, sessions24h: Int = 0, temperatureC: Double? = nil,
        emitting: Bool = false, interlock: InterlockState = .closed, faults: [FaultCode] = [],
        presets: PresetsDocument = PresetsDocument(SafetySettings.Presets()), lifetime: LifetimeDocument? = nil,
        unixMs: Int64, seq: UInt64
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
        self.temperatureC = temperatureC
        self.emitting = emitting
        self.interlock = interlock
        self.faults = faults
        self.presets = presets
        self.lifetime = lifetime
        self.unixMs = unixMs
        self.seq = seq
    }

    /// The document of `snapshot` and the ledger's `lifetime` totals, rounded as published (0.1 s,
    /// 0.001 J/cm², 0.01 °C).
    public init(_ s: SafetySnapshot, lifetime: LifetimeTotals?, unixMs: Int64, seq: UInt64) {
        self.state = s.state
        self.sessionID = s.sessionID
        self.channels = s.channels
        self.intensityPercent = s.intensityPercent
        self.plannedSeconds = s.plannedSeconds.map { rounded($0, digits: 1) }
        self.elapsedSeconds = rounded(s.elapsedSeconds, digits: 1)
        self.remainingSeconds = rounded(s.remainingSeconds, digits: 1)
        self.dose = DoseDocument(s.dose)
        self.doseTarget = s.doseTarget.map { rounded($0.joulesPerCm2, digits: 3) }
        self.dose24h = rounded(s.dose24h.joulesPerCm2, digits: 3)
        self.sessions24h = s.sessions24h
        self.temperatureC = s.temperature.map { rounded($0.value, digits: 2) }
        self.emitting = s.emitting
        self.interlock = s.interlock
        self.faults = s.faults
        self.presets = PresetsDocument(s.presets)
        self.lifetime = lifetime.map(LifetimeDocument.init)
        self.unixMs = unixMs
        self.seq = seq
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("state", .string(self.state.rawValue)),
            ("session_id", .optional(self.sessionID)),
            ("channels", .optional(self.channels?.rawValue)),
            ("intensity_pct", .optional(self.intensityPercent)),
            ("planned_s", .optional(self.plannedSeconds)),
            ("elapsed_s", .number(self.elapsedSeconds)),
            ("remaining_s", .number(self.remainingSeconds)),
            ("dose_j_cm2", self.dose.json),
            ("dose_target_j_cm2", .optional(self.doseTarget)),
            ("dose_24h_j_cm2", .number(self.dose24h)),
            ("sessions_24h", .number(Double(self.sessions24h))),
            ("temperature_c", .optional(self.temperatureC)),
            ("emitting", .bool(self.emitting)),
            ("interlock", .string(self.interlock.rawValue)),
            ("faults", .array(self.faults.map { .string($0.rawValue) })),
            ("presets", self.presets.json),
        ]
        if let lifetime = self.lifetime { members.append(("lifetime", lifetime.json)) }
        members += [("ts", .number(Double(self.unixMs))), ("seq", .number(Double(self.seq)))]
        return .object(members)
    }

    /// Reads a `state` or `tele` document (or the `data` of a `get` answer), refusing a missing
    /// member, a wrong type or a state, channel, interlock or fault this contract does not have.
    /// `lifetime` alone may be missing: a gateway before 0.2 did not write it, and a fleet runs
    /// mixed versions; when it is there, both its members must be.
    public init(json: JSONValue) throws(ContractError) {
        let reader = try DocumentReader("state", json)
        self.state = try reader.choice("state", SessionState.self)
        self.sessionID = try reader.optionalString("session_id")
        self.channels = try reader.optionalChoice("channels", ChannelSelection.self)
        self.intensityPercent = try reader.optionalNumber("intensity_pct")
        self.plannedSeconds = try reader.optionalNumber("planned_s")
        self.elapsedSeconds = try reader.number("elapsed_s")
        self.remainingSeconds = try reader.number("remaining_s")
        self.dose = try DoseDocument(try reader.object("dose_j_cm2"))
        self.doseTarget = try reader.optionalNumber("dose_target_j_cm2")
        self.dose24h = try reader.number("dose_24h_j_cm2")
        self.sessions24h = try reader.integer("sessions_24h")
        self.temperatureC = try reader.optionalNumber("temperature_c")
        self.emitting = try reader.bool("emitting")
        self.interlock = try reader.choice("interlock", InterlockState.self)
        var faults: [FaultCode] = []
        for text in try reader.strings("faults") {
            guard let fault = FaultCode(rawValue: text) else { throw ContractError("state: unknown fault '\(text)'") }
            faults.append(fault)
        }
        self.faults = faults
        self.presets = try PresetsDocument(try reader.object("presets"))
        self.lifetime = try reader.optionalObject("lifetime").map { reader throws(ContractError) in
            try LifetimeDocument(reader)
        }
        self.unixMs = try reader.integer("ts")
        self.seq = UInt64(max(0, try reader.integer("seq", as: Int64.self)))
    }
}

// MARK: - res

/// `<base>/res`: the one answer to every command, with a stable `code` when it was refused and the
/// state after it; a successful `get` or `ping` carries the state document as `data`.
public struct ResponseDocument: Hashable, Sendable {
    public var id: String?
    public var command: String?
    public var ok: Bool
    public var code: ResponseCode?
    public var message: String
    public var state: SessionState
    public var data: StateDocument?

    public init(_ response: CommandResponse, data: StateDocument? = nil) {
        self.id = response.id
        self.command = response.commandName
        self.ok = response.ok
        self.code = response.code
        self.message = response.message
        self.state = response.state
        self.data = data
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .optional(self.id)), ("cmd", .optional(self.command)), ("ok", .bool(self.ok)),
        ]
        if let code = self.code { members.append(("code", .string(code.rawValue))) }
        members.append(("message", .string(self.message)))
        members.append(("state", .string(self.state.rawValue)))
        if let data = self.data { members.append(("data", data.json)) }
        return .object(members)
    }

    public init(json: JSONValue) throws(ContractError) {
        let reader = try DocumentReader("res", json)
        self.id = try reader.optionalString("id")
        self.command = try reader.optionalString("cmd")
        self.ok = try reader.bool("ok")
        self.code = try reader.optionalChoice("code", ResponseCode.self)
        self.message = try reader.string("message")
        self.state = try reader.choice("state", SessionState.self)
        self.data = try reader.optionalObject("data").map { reader throws(ContractError) in
            try StateDocument(json: reader.value)
        }
    }
}

// MARK: - cmd

/// A command on `<base>/cmd` or a fleet topic, as a client writes it; the gateway reads it with
/// ``CommandDecoder``, which says exactly what is wrong with one it cannot take.
public struct CommandRequest: Hashable, Sendable {
    public var id: String
    public var command: String
    /// The command's `args` object, if it has any.
    public var arguments: JSONValue?
    /// When it was sent (wall-clock unix ms) and for how long it stays valid: a command older than
    /// that is refused `E_STALE` instead of acting late.
    public var sentAtUnixMs: Int64?
    public var ttlMs: Int64?

    public init(
        id: String, command: String, arguments: JSONValue? = nil, sentAtUnixMs: Int64? = nil,
        ttlMs: Int64? = nil
    ) {
        self.id = id
        self.command = command
        self.arguments = arguments
        self.sentAtUnixMs = sentAtUnixMs
        self.ttlMs = ttlMs
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("id", .string(self.id)), ("cmd", .string(self.command))]
        if let arguments = self.arguments { members.append(("args", arguments)) }
        if let sent = self.sentAtUnixMs { members.append(("ts", .number(Double(sent)))) }
        if let ttl = self.ttlMs { members.append(("ttl_ms", .number(Double(ttl)))) }
        return .object(members)
    }
}
