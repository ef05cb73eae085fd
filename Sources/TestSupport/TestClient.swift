import Foundation
import GatewayProtocol
import Logging
import MQTT
import Synchronization
import TestKit

/// An ``MQTTClient`` for tests that records every event so a test can wait for a message or a
/// connection.
///
/// Waiting for a message consumes it, so a test can wait for the same topic twice and get the
/// second message the second time.
public final class TestClient: Sendable {
    public let client: MQTTClient
    public let configuration: MQTTClientConfiguration
    public let logs: LogRecorder
    private let inbox = Mutex<[MQTTMessage]>([])
    /// The payloads of this client's subscription probes. A probe repeated under load can come back
    /// after the wait already matched its first copy; such a late copy must never be taken for the
    /// message a test waits for next on that topic, so probes are kept out of the inbox once proven.
    private let probeMarkers = Mutex<Set<String>>([])
    private let connections = Mutex<Int>(0)
    private let disconnections = Mutex<[String]>([])
    private let consumer: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Creates a client and, unless `start` is false, starts it.
    public init(configuration: MQTTClientConfiguration, start: Bool = true, echoLogs: Bool = false) throws {
        self.configuration = configuration
        self.logs = LogRecorder(echo: echoLogs)
        self.client = try MQTTClient(
            configuration: configuration, logger: self.logs.logger(label: "test.\(configuration.clientID)"))
        let task = Task { [client = self.client, weak self] in
            for await event in client.events {
                guard let self else { return }
                switch event {
                case .connected: self.connections.withLock { $0 += 1 }
                case .disconnected(let reason): self.disconnections.withLock { $0.append(reason) }
                case .message(let message):
                    let isStaleProbe = self.probeMarkers.withLock { $0.contains(message.payloadText) }
                    if !isStaleProbe { self.inbox.withLock { $0.append(message) } }
                }
            }
        }
        self.consumer.withLock { $0 = task }
        if start {
            self.client.start()
        }
    }

    /// A client of a broker on 127.0.0.1:`port` with quick reconnects (0.1 s … 0.5 s) for tests.
    public convenience init(
        port: Int,
        clientID: String = "test-\(UUID().uuidString.prefix(8).lowercased())",
        subscriptions: [String] = [],
        protocolVersion: MQTTProtocolVersion = .v5,
        start: Bool = true,
        configure: (inout MQTTClientConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = Self.configuration(port: port, clientID: clientID, protocolVersion: protocolVersion)
        configuration.subscriptions = subscriptions.map { MQTTSubscription(filter: $0, qos: .atLeastOnce) }
        configure(&configuration)
        try self.init(configuration: configuration, start: start)
    }

    /// Test defaults: loopback, short reconnect delays, the given protocol.
    public static func configuration(
        port: Int,
        clientID: String = "test-\(UUID().uuidString.prefix(8).lowercased())",
        protocolVersion: MQTTProtocolVersion = .v5
    ) -> MQTTClientConfiguration {
        MQTTClientConfiguration(
            host: "127.0.0.1", port: port, clientID: clientID, protocolVersion: protocolVersion,
            keepaliveSeconds: 5, reconnectMinSeconds: 0.1, reconnectMaxSeconds: 0.5)
    }

    deinit {
        self.consumer.withLock { $0?.cancel() }
    }

    /// How many times the broker accepted this client so far.
    public var connectionCount: Int { self.connections.withLock { $0 } }

    /// Waits until the client has connected at least `count` times.
    public func waitForConnection(count: Int = 1, timeout: Duration = .seconds(30)) async -> Bool {
        await Self.poll(timeout: timeout) { self.connectionCount >= count }
    }

    /// Waits for, removes and returns the oldest received message on `topic` matching `predicate`;
    /// `nil` when none arrives within `timeout`.
    ///
    /// - Parameter consumingEarlier: also drops the messages on `topic` received before the match, for
    ///   documents where only the newest matters (a retained state): a later wait then never matches a
    ///   document older than this one.
    public func waitForMessage(
        topic: String,
        timeout: Duration = .seconds(30),
        consumingEarlier: Bool = false,
        where predicate: @Sendable (MQTTMessage) -> Bool = { _ in true }
    ) async -> MQTTMessage? {
        var found: MQTTMessage?
        _ = await Self.poll(timeout: timeout) {
            found = self.inbox.withLock { inbox in
                guard let index = inbox.firstIndex(where: { $0.topic == topic && predicate($0) }) else { return nil }
                let match = inbox.remove(at: index)
                if consumingEarlier {
                    var position = 0
                    inbox.removeAll { message in
                        defer { position += 1 }
                        return position < index && message.topic == topic
                    }
                }
                return match
            }
            return found != nil
        }
        return found
    }

    /// Proves the broker has processed this client's subscription to `topic`'s filter: publishes a
    /// unique probe on `topic` from this client and waits for it to come back. A broker handles one
    /// connection's packets in order, so the SUBSCRIBE sent on connect is active once the probe
    /// arrives.
    public func waitForSubscription(probeTopic topic: String, timeout: Duration = .seconds(10)) async -> Bool {
        let marker = "probe-\(UUID().uuidString)"
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            self.client.publish(MQTTMessage(topic: topic, text: marker, qos: .atLeastOnce))
            let probe = await self.waitForMessage(topic: topic, timeout: .seconds(1)) { $0.payloadText == marker }
            if probe != nil {
                // Copies still in flight (earlier tries) are dropped on arrival, those already here now.
                self.probeMarkers.withLock { _ = $0.insert(marker) }
                self.inbox.withLock { $0.removeAll { $0.topic == topic && $0.payloadText == marker } }
                return true
            }
        }
        return false
    }

    /// Waits for a retained or live `<base>/status` saying online (consumes it); gives up early
    /// once `alive` says the daemon that should publish it is gone.
    public func waitForOnline(base: String, timeout: Duration, alive: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while alive(), ContinuousClock.now < deadline {
            let online = await self.waitForMessage(topic: "\(base)/status", timeout: .milliseconds(200)) {
                (try? StatusDocument($0))?.isOnline == true
            }
            if online != nil { return true }
        }
        return false
    }

    /// Forgets every received message not yet consumed.
    public func clearMessages() {
        self.inbox.withLock { $0.removeAll() }
    }

    /// Every message received and not consumed yet, on any topic, in arrival order.
    public var messagesReceived: [MQTTMessage] {
        self.inbox.withLock { $0 }
    }

    /// Every message received on `topic` and not yet consumed, oldest first.
    public func messages(topic: String) -> [MQTTMessage] {
        self.inbox.withLock { $0.filter { $0.topic == topic } }
    }

    public func publish(_ message: MQTTMessage, queueing: MQTTQueueing = .bounded) {
        self.client.publish(message, queueing: queueing)
    }

    /// Publishes `text` on `topic` at QoS 1.
    public func publish(topic: String, text: String, retain: Bool = false) {
        self.client.publish(MQTTMessage(topic: topic, text: text, qos: .atLeastOnce, retain: retain))
    }

    /// Stops the client cleanly (no will) after sending `finalMessages`.
    public func stop(finalMessages: [MQTTMessage] = []) async {
        await self.client.stop(finalMessages: finalMessages)
        self.consumer.withLock { $0?.cancel() }
    }

    /// Checks `condition` every 10 ms until it holds or `timeout` passes (``TestKit/eventually``).
    public static func poll(timeout: Duration, _ condition: () -> Bool) async -> Bool {
        await eventually(timeout: timeout) { condition() }
    }
}
