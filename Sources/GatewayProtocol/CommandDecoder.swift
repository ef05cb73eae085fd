import SafetyCore

/// Turns an untrusted `cmd` payload into a ``CommandEnvelope`` for the core.
///
/// Decoding never throws: a payload that is not a valid command becomes an envelope whose body is
/// `.invalid(code, message)`, so that admission (duplicate ids, rate limit) and the response still
/// happen in one place, the core. Unknown fields are refused (`E_SCHEMA`) rather than ignored: a
/// typo such as `"duraton_s"` must not silently start a session with the preset duration.
public enum CommandDecoder {
    /// Longest accepted command id; ids are echoed in responses and kept for duplicate detection.
    public static let maximumIDLength = 64
    /// Shortest accepted session or preset duration. Without a floor, `"duration_s":1e-320` passes
    /// "greater than 0", switches the LEDs on for one control tick and uses up one of the day's
    /// sessions (S3): a hostile client could burn the daily quota with invisible sessions.
    public static let minimumDurationSeconds = 1.0

    /// The envelope for one payload; a payload that is not a command comes back `.invalid` (see above).
    ///
    /// - Parameters:
    ///   - topic: the topic the payload arrived on; part of what a signature covers.
    ///   - key: this panel's signing key, when one is configured; `sig` is then checked and the verdict
    ///     put in ``CommandEnvelope/signature`` for the core to judge. Without one a `sig` is `.unchecked`.
    public static func decode(
        _ payload: [UInt8], source: CommandSource, retained: Bool, receivedAtUnixMs: Int64, maximumBytes: Int,
        topic: String = "", key: CommandSignature? = nil
    ) -> CommandEnvelope {
        var envelope = CommandEnvelope(
            id: nil, commandName: nil, body: .invalid(.json, ""), source: source, retained: retained,
            payloadBytes: payload.count, receivedAtUnixMs: receivedAtUnixMs)
        guard payload.count <= maximumBytes else {
            envelope.body = .invalid(.tooLarge, "command is \(payload.count) bytes; the limit is \(maximumBytes)")
            return envelope
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(payload)
        } catch {
            envelope.body = .invalid(.json, "payload is not valid JSON: \(error)")
            return envelope
        }
        guard case .object(let members) = document else {
            envelope.body = .invalid(.schema, "a command is a JSON object like {\"id\":\"c1\",\"cmd\":\"get\"}")
            return envelope
        }
        // Pick up id and cmd first, so even a rejected command is answered with them.
        if case .string(let id)? = document["id"], !id.isEmpty, id.utf8.count <= Self.maximumIDLength {
            envelope.id = id
        }
        if case .string(let name)? = document["cmd"] { envelope.commandName = String(name.prefix(32)) }
        envelope.body = Self.decodeBody(document, members: members, into: &envelope)
        if case .decoded = envelope.body, case .string(let sig)? = document["sig"] {
            envelope.signature = Self.verdict(sig, document: document, envelope: envelope, topic: topic, key: key)
        }
        return envelope
    }

    /// What `sig` says about a decoded command; the canonical form is rebuilt from the decoded members.
    private static func verdict(
        _ sig: String, document: JSONValue, envelope: CommandEnvelope, topic: String, key: CommandSignature?
    ) -> SignatureVerdict {
        guard let key else { return .unchecked }
        guard let ts = envelope.sentAtUnixMs, let ttl = envelope.ttlMs, let command = envelope.commandName else {
            return .incomplete
        }
        let canonical = CommandSignature.canonicalForm(
            topic: topic, id: envelope.id, command: command, ts: ts, ttlMs: ttl, args: document["args"])
        guard key.verify(sig, over: canonical) else { return .mismatch }
        return .verified(tag: sig.lowercased())
    }

    /// Whether a payload is a well-formed `stop` command: the one command that must get through a
    /// flood (S15). Cheap enough to run on every message the gateway would otherwise shed.
    ///
    /// It runs on libmosquitto's network thread for every message past the inbound backlog, tens of
    /// thousands a second in a flood, and that thread must read them as fast as they come: every byte
    /// it leaves in the socket is a byte a later `stop` waits behind. So a payload that cannot be a
    /// stop is told apart by one scan without allocating: `"stop"` appears as those four bytes unless
    /// the document uses a JSON escape, and then it is decoded in full.
    public static func isStop(_ payload: [UInt8]) -> Bool {
        guard Self.mayBeStop(payload) else { return false }
        let envelope = Self.decode(
            payload, source: .device, retained: false, receivedAtUnixMs: 0, maximumBytes: 4096)
        return envelope.body == .decoded(.stop)
    }

    /// Whether `payload` contains the bytes `stop` or a backslash (a JSON escape could spell it).
    static func mayBeStop(_ payload: [UInt8]) -> Bool {
        payload.withUnsafeBufferPointer { bytes in
            guard bytes.count >= 4 else { return false }
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") { return true }
                if byte == UInt8(ascii: "s"), index + 3 < bytes.count, bytes[index + 1] == UInt8(ascii: "t"),
                    bytes[index + 2] == UInt8(ascii: "o"), bytes[index + 3] == UInt8(ascii: "p")
                {
                    return true
                }
            }
            return false
        }
    }

    private static func decodeBody(
        _ document: JSONValue, members: [(String, JSONValue)], into envelope: inout CommandEnvelope
    ) -> CommandEnvelope.Body {
        let allowed: Set<String> = ["id", "cmd", "args", "ts", "ttl_ms", "sig"]
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            return .invalid(.schema, "unknown field \"\(unknown.0)\"; allowed: args, cmd, id, sig, ts, ttl_ms")
        }
        switch document["sig"] {
        case nil, .string?: break
        default: return .invalid(.schema, "sig must be a string: the lowercase hex HMAC-SHA256 of the signed form")
        }
        switch document["id"] {
        case nil, .null?: break
        case .string(let id)? where !id.isEmpty && id.utf8.count <= Self.maximumIDLength: break
        default: return .invalid(.schema, "id must be a string of 1…\(Self.maximumIDLength) bytes")
        }
        switch document["ts"] {
        case nil, .null?: break
        case .number(let ts)? where ts >= 0 && ts < 1e16 && ts == ts.rounded(): envelope.sentAtUnixMs = Int64(ts)
        default: return .invalid(.schema, "ts must be unix milliseconds (a non-negative integer)")
        }
        switch document["ttl_ms"] {
        case nil, .null?: break
        case .number(let ttl)? where ttl >= 0 && ttl < 1e12 && ttl == ttl.rounded(): envelope.ttlMs = Int64(ttl)
        default: return .invalid(.schema, "ttl_ms must be a non-negative integer number of milliseconds")
        }
        guard case .string(let name)? = document["cmd"] else {
            return .invalid(.schema, "cmd is required and must be a string")
        }
        guard let commandName = CommandName(rawValue: name) else {
            let known = CommandName.allCases.map(\.rawValue).joined(separator: ", ")
            return .invalid(.unknownCommand, "unknown command \"\(name.prefix(32))\"; known: \(known)")
        }
        let arguments: [(String, JSONValue)]
        switch document["args"] {
        case nil, .null?: arguments = []
        case .object(let members)?: arguments = members
        default: return .invalid(.schema, "args must be an object")
        }
        do {
            return .decoded(try Self.command(commandName, arguments: ArgumentReader(arguments, command: name)))
        } catch {
            return .invalid(error.code, error.message)
        }
    }

    private static func command(_ name: CommandName, arguments: ArgumentReader) throws(DecodingProblem) -> Command {
        switch name {
        case .start:
            try arguments.allowOnly(["channels", "intensity_pct", "duration_s", "dose_j_cm2"])
            return .start(
                StartArguments(
                    channels: try arguments.channels(),
                    intensityPercent: try arguments.number("intensity_pct", in: 1...100),
                    durationSeconds: try arguments.duration(),
                    doseTarget: try arguments.number("dose_j_cm2", positive: true).map { Dose(joulesPerCm2: $0) }))
        case .set:
            try arguments.allowOnly(["channels", "intensity_pct", "duration_s", "dose_j_cm2"])
            var changes = PresetChanges(
                channels: try arguments.channels(),
                intensityPercent: try arguments.number("intensity_pct", in: 1...100),
                durationSeconds: try arguments.duration())
            if arguments.isNull("dose_j_cm2") {
                changes.doseTarget = .some(nil)
            } else if let dose = try arguments.number("dose_j_cm2", positive: true) {
                changes.doseTarget = .some(Dose(joulesPerCm2: dose))
            }
            guard !changes.isEmpty else {
                throw DecodingProblem(.schema, "set needs at least one of channels, intensity_pct, duration_s, dose_j_cm2")
            }
            return .set(changes)
        case .ack:
            try arguments.allowOnly(["fault"])
            guard let fault = try arguments.string("fault") else {
                throw DecodingProblem(.schema, "ack needs args.fault: a fault code such as F_OVERTEMP, or \"all\"")
            }
            if fault == "all" { return .ack(.all) }
            guard let code = FaultCode(rawValue: fault) else {
                let known = FaultCode.allCases.map(\.rawValue).joined(separator: ", ")
                throw DecodingProblem(.range, "unknown fault \"\(fault.prefix(32))\"; known: \(known), all")
            }
            return .ack(.one(code))
        case .pause, .resume, .stop, .get, .identify, .ping:
            try arguments.allowOnly([])
            switch name {
            case .pause: return .pause
            case .resume: return .resume
            case .stop: return .stop
            case .get: return .get
            case .identify: return .identify
            default: return .ping
            }
        }
    }
}

/// A decoding failure with its response code.
struct DecodingProblem: Error {
    var code: ResponseCode
    var message: String
    init(_ code: ResponseCode, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Typed access to `args`, with messages that say what would be accepted.
struct ArgumentReader {
    let members: [(String, JSONValue)]
    let command: String

    init(_ members: [(String, JSONValue)], command: String) {
        self.members = members
        self.command = command
    }

    func value(_ key: String) -> JSONValue? { self.members.first { $0.0 == key }?.1 }

    func isNull(_ key: String) -> Bool { self.value(key) == .null }

    func allowOnly(_ keys: Set<String>) throws(DecodingProblem) {
        guard let unknown = self.members.first(where: { !keys.contains($0.0) }) else { return }
        let accepted = keys.isEmpty ? "none" : keys.sorted().joined(separator: ", ")
        throw DecodingProblem(.schema, "\(self.command) does not take args.\(unknown.0); accepted: \(accepted)")
    }

    func string(_ key: String) throws(DecodingProblem) -> String? {
        switch self.value(key) {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw DecodingProblem(.schema, "args.\(key) must be a string")
        }
    }

    func channels() throws(DecodingProblem) -> ChannelSelection? {
        guard let text = try self.string("channels") else { return nil }
        guard let selection = ChannelSelection(rawValue: text) else {
            throw DecodingProblem(.range, "args.channels \"\(text.prefix(16))\" is not one of red, nir, both")
        }
        return selection
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(DecodingProblem) -> Double? {
        guard let value = try self.number(key, positive: false) else { return nil }
        guard range.contains(value) else {
            throw DecodingProblem(
                .range, "args.\(key) \(value) is outside \(Int(range.lowerBound))…\(Int(range.upperBound))")
        }
        return value
    }

    /// `duration_s`: at least ``CommandDecoder/minimumDurationSeconds``.
    func duration() throws(DecodingProblem) -> Double? {
        guard let value = try self.number("duration_s", positive: true) else { return nil }
        guard value >= CommandDecoder.minimumDurationSeconds else {
            throw DecodingProblem(
                .range, "args.duration_s \(value) is below the shortest session, \(Int(CommandDecoder.minimumDurationSeconds)) s")
        }
        return value
    }

    func number(_ key: String, positive: Bool) throws(DecodingProblem) -> Double? {
        switch self.value(key) {
        case nil, .null?: return nil
        case .number(let n)?:
            if positive, !(n > 0) { throw DecodingProblem(.range, "args.\(key) must be greater than 0, got \(n)") }
            return n
        default: throw DecodingProblem(.schema, "args.\(key) must be a number")
        }
    }
}
