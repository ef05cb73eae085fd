import GatewayProtocol
import MQTT
import SafetyCore
import Synchronization
import TestSupport

/// A document of the MQTT contract as the daemon publishes it, read with its one strict decoder.
protocol ContractDocument: Sendable {
    init(json: JSONValue) throws(ContractError)
}

extension StatusDocument: ContractDocument {}
extension StateDocument: ContractDocument {}
extension EventDocument: ContractDocument {}
extension ResponseDocument: ContractDocument {}
extension InfoDocument: ContractDocument {}

/// A message of the daemon's that its document's decoder refuses: the daemon wrote something outside
/// the contract. Never "no match": a test that meets one fails with the decoder's words.
struct ContractViolation: Error, CustomStringConvertible {
    let description: String
}

extension ContractDocument {
    /// Reads `message` strictly: JSON, then this document as the contract defines it.
    ///
    /// - Throws: ``ContractViolation`` naming the topic, the ``ContractError`` and the payload.
    init(_ message: MQTTMessage) throws(ContractViolation) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(message.payload)
        } catch {
            throw ContractViolation(description: "\(message.topic): not JSON (\(error)): \(message.payloadText)")
        }
        do {
            try self.init(json: json)
        } catch {
            throw ContractViolation(description: "\(message.topic): \(error) in \(message.payloadText)")
        }
    }
}

extension TestClient {
    /// Waits for, consumes and returns the oldest document on `topic` that `predicate` accepts;
    /// `nil` when none arrives within `timeout` ("not yet").
    ///
    /// Every message on `topic` the wait looks at goes through the strict decoder. One it refuses
    /// ends the wait at once with a ``ContractViolation`` ("undecodable"), so a daemon writing
    /// outside the contract fails the test with the ``ContractError`` text instead of timing out.
    ///
    /// - Parameter consumingEarlier: also drops the earlier messages on `topic`
    ///   (``TestClient/waitForMessage(topic:timeout:consumingEarlier:where:)``).
    func waitForDocument<Document: ContractDocument>(
        _ type: Document.Type, topic: String, timeout: Duration = .seconds(30), consumingEarlier: Bool = false,
        where predicate: @Sendable (Document) -> Bool = { _ in true }
    ) async throws(ContractViolation) -> Document? {
        try await self.waitForDocumentMessage(
            type, topic: topic, timeout: timeout, consumingEarlier: consumingEarlier, where: predicate)?.document
    }

    /// ``waitForDocument(_:topic:timeout:consumingEarlier:where:)`` with the message it was read from,
    /// for the checks where the bytes themselves are the point (flags, members written as `null`).
    func waitForDocumentMessage<Document: ContractDocument>(
        _: Document.Type, topic: String, timeout: Duration = .seconds(30), consumingEarlier: Bool = false,
        where predicate: @Sendable (Document) -> Bool = { _ in true }
    ) async throws(ContractViolation) -> (document: Document, message: MQTTMessage)? {
        let outcome = Outcome<(document: Document, message: MQTTMessage)>()
        _ = await self.waitForMessage(topic: topic, timeout: timeout, consumingEarlier: consumingEarlier) { message in
            do throws(ContractViolation) {
                let document = try Document(message)
                guard predicate(document) else { return false }
                outcome.settle(.success((document, message)))
            } catch {
                outcome.settle(.failure(error))
            }
            return true
        }
        return try outcome.result?.get()
    }
}

/// What a wait found: the document, or the refusal that ended it.
private final class Outcome<Document: Sendable>: Sendable {
    private let value = Mutex<Result<Document, ContractViolation>?>(nil)

    func settle(_ result: Result<Document, ContractViolation>) { self.value.withLock { $0 = result } }
    var result: Result<Document, ContractViolation>? { self.value.withLock { $0 } }
}

extension EventDocument {
    /// The fault a `fault_raised` or `fault_cleared` is about.
    var faultCode: FaultCode? {
        switch self.event {
        case .faultRaised(let fault): fault.code
        case .faultCleared(let code): code
        default: nil
        }
    }

    /// Why a `paused` paused.
    var pauseReason: PauseReason? {
        if case .paused(_, let reason) = self.event { return reason }
        return nil
    }

    /// The code of a `command_rejected`.
    var rejectionCode: ResponseCode? {
        if case .commandRejected(_, let code, _) = self.event { return code }
        return nil
    }
}

extension StatusDocument {
    /// Why the panel went offline (`connection_lost` from the will, `shutdown`); `nil` while online.
    var offlineReason: String? {
        if case .offline(let reason) = self { return reason }
        return nil
    }
}

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
