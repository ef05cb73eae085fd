import GatewayProtocol

extension JSONValue {
    /// The member names of an object, in order (empty for anything else): for the checks where the
    /// bytes are the point, such as which members a document writes, null or not.
    var memberNames: [String] {
        guard case .object(let members) = self else { return [] }
        return members.map(\.0)
    }
}

extension CommandRequest {
    /// A request whose `args` are written as a literal, in order: `args: ["duration_s": 8]`.
    init(
        id: String, command: String, args: KeyValuePairs<String, JSONValue>, sentAtUnixMs: Int64? = nil,
        ttlMs: Int64? = nil
    ) {
        self.init(
            id: id, command: command, arguments: .object(args.map { ($0.key, $0.value) }), sentAtUnixMs: sentAtUnixMs,
            ttlMs: ttlMs)
    }
}
