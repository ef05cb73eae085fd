import Foundation
import GatewayProtocol
import Logging
import MQTT

/// The client side of the contract, for people at a terminal and for fleet tools: sends commands
/// to one panel over MQTT and follows its `state`, `tele` and `event` topics.
public final class GatewayClient: Sendable {
    public let topics: Topics
    private let mqtt: MQTTClient

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Something the panel published, decoded.
    public enum Update: Sendable {
        case response(JSONValue)
        case state(JSONValue)
        case telemetry(JSONValue)
        case event(JSONValue)
        case status(JSONValue)
        case connected
        case disconnected(String)
    }

    /// Signs every command sent (`commands.signing`); `nil` sends them unsigned.
    let commandKey: CommandSignature?

    /// How long a signed command may still act after it was sent: long enough for a slow broker, well
    /// inside any replay window (5…300 s).
    public static let signedTTLMs: Int64 = 10_000

    public init(
        connection: MQTTClientConfiguration, topics: Topics, logger: Logger, commandKey: CommandSignature? = nil
    ) throws {
        self.commandKey = commandKey
        var connection = connection
        connection.subscriptions = [
            MQTTSubscription(filter: topics.response, qos: .atLeastOnce),
            MQTTSubscription(filter: topics.state, qos: .atLeastOnce),
            MQTTSubscription(filter: topics.telemetry, qos: .atMostOnce),
            MQTTSubscription(filter: topics.event, qos: .atLeastOnce),
            MQTTSubscription(filter: topics.status, qos: .atLeastOnce),
        ]
        self.topics = topics
        self.mqtt = try MQTTClient(configuration: connection, logger: logger)
    }

    /// Decoded updates, in arrival order.
    public var updates: AsyncStream<Update> {
        let topics = self.topics
        let events = self.mqtt.events
        return AsyncStream { continuation in
            let task = Task {
                for await event in events {
                    switch event {
                    case .connected: continuation.yield(.connected)
                    case .disconnected(let reason): continuation.yield(.disconnected(reason))
                    case .message(let message):
                        guard let value = try? JSONValue.parse(message.payload) else { continue }
                        switch message.topic {
                        case topics.response: continuation.yield(.response(value))
                        case topics.state: continuation.yield(.state(value))
                        case topics.telemetry: continuation.yield(.telemetry(value))
                        case topics.event: continuation.yield(.event(value))
                        case topics.status: continuation.yield(.status(value))
                        default: break
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func start() { self.mqtt.start() }

    /// Publishes one command (never retained) with a fresh id and returns that id.
    @discardableResult
    public func send(_ command: String, arguments: JSONValue? = nil, id: String? = nil) -> String {
        let id = id ?? "cli-\(UInt32.random(in: 0...UInt32.max))"
        let payload: [UInt8]
        if let key = self.commandKey {
            payload = key.signedPayload(
                topic: self.topics.command, id: id, command: command, args: arguments,
                ts: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)), ttlMs: Self.signedTTLMs)
        } else {
            payload = CommandRequest(id: id, command: command, arguments: arguments).json.bytes
        }
        self.mqtt.publish(
            MQTTMessage(topic: self.topics.command, payload: payload, qos: .atLeastOnce, retain: false),
            queueing: .bounded)
        return id
    }

    public func stop() async { await self.mqtt.stop(finalMessages: []) }
}
