import GatewayProtocol
import MQTT
import Synchronization

/// A message of the daemon's that its document's decoder refuses: the daemon wrote something outside
/// the contract. Never "no match": a test that meets one fails with the decoder's words.
public struct ContractViolation: Error, CustomStringConvertible {
    public let description: String
}

extension ContractDocument {
    /// Reads `message` strictly: JSON, then this document as the contract defines it.
    ///
    /// - Throws: ``ContractViolation`` naming the topic, the ``ContractError`` and the payload.
    public init(_ message: MQTTMessage) throws(ContractViolation) {
        do {
            try self.init(payload: message.payload)
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
    public func waitForDocument<Document: ContractDocument>(
        _ type: Document.Type, topic: String, timeout: Duration = .seconds(30), consumingEarlier: Bool = false,
        where predicate: @Sendable (Document) -> Bool = { _ in true }
    ) async throws(ContractViolation) -> Document? {
        try await self.waitForDocumentMessage(
            type, topic: topic, timeout: timeout, consumingEarlier: consumingEarlier, where: predicate)?.document
    }

    /// ``waitForDocument(_:topic:timeout:consumingEarlier:where:)`` with the message it was read from,
    /// for the checks where the bytes themselves are the point (flags, members written as `null`).
    public func waitForDocumentMessage<Document: ContractDocument>(
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

