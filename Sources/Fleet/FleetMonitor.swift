import Foundation
import Logging
import MQTT
import Synchronization

/// Follows every panel under one topic prefix and keeps the fleet's picture up to date.
///
/// One task (``run()``) consumes the MQTT client's event stream in order and folds each panel
/// message into a ``FleetRegistry`` behind a `Mutex`; readers (the table, the HTTP handler) take a
/// copy with ``snapshot()`` and render it outside the lock, so a slow scrape never stalls the
/// MQTT consumer.
public final class FleetMonitor: Sendable {
    public let topics: FleetTopics
    private let client: MQTTClient
    private let registry = Mutex(FleetRegistry())
    private let link = Mutex(Link())

    private struct Link {
        var connected = false
        var connects = 0
    }

    /// - Parameters:
    ///   - connection: how to reach the broker; its subscriptions are replaced by the fleet's.
    ///   - topics: the prefix to watch.
    /// - Throws: ``MQTTError`` when the connection settings are invalid.
    public init(connection: MQTTClientConfiguration, topics: FleetTopics, logger: Logger) throws {
        var connection = connection
        connection.subscriptions = topics.monitorSubscriptions
        connection.will = nil
        connection.birth = []
        self.topics = topics
        self.client = try MQTTClient(configuration: connection, logger: logger)
    }

    /// Connects and follows the fleet until ``stop()``; returns when the event stream ends.
    public func run() async {
        self.client.start()
        for await event in self.client.events {
            switch event {
            case .connected:
                self.link.withLock {
                    $0.connected = true
                    $0.connects += 1
                }
            case .disconnected:
                self.link.withLock { $0.connected = false }
            case .message(let message):
                guard let (device, kind) = self.topics.classify(message.topic) else { continue }
                let now = Date().timeIntervalSince1970
                self.registry.withLock {
                    _ = $0.apply(
                        device: device, kind: kind, payload: message.payload, retained: message.retain, now: now)
                }
            }
        }
        self.link.withLock { $0.connected = false }
    }

    /// Disconnects cleanly; ``run()`` returns afterwards.
    public func stop() async {
        await self.client.stop()
    }

    /// A copy of the fleet's picture right now.
    public func snapshot() -> FleetRegistry {
        self.registry.withLock { $0 }
    }

    public var isConnected: Bool { self.link.withLock { $0.connected } }

    /// Accepted connections after the first one.
    public var reconnects: Int { self.link.withLock { max(0, $0.connects - 1) } }
}
