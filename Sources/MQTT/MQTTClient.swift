import Logging

/// An MQTT client on libmosquitto that keeps one broker connection alive for the life of a daemon.
///
/// It connects in the background, retries forever with exponential backoff and jitter, rebuilds its
/// session (will, subscriptions, birth messages) on every connect, queues outgoing messages while
/// offline by a per-message policy, and reports everything on one ordered ``events`` stream.
/// It knows nothing about what the messages mean.
///
/// ```swift
/// let client = try MQTTClient(configuration: configuration, logger: logger)
/// client.start()
/// client.publish(stateMessage, queueing: .latestWins(key: "state"))
/// for await event in client.events {
///     switch event {
///     case .connected: ...                 // subscriptions and birth are already sent
///     case .disconnected(let reason): ...  // the client is already retrying
///     case .message(let message): ...
///     }
/// }
/// // on shutdown, from another task:
/// await client.stop(finalMessages: [offlineStatus])
/// ```
///
/// Releasing the client without ``stop(finalMessages:)`` drops the link without a DISCONNECT, so
/// the broker publishes the will, as after a crash.
public final class MQTTClient: Sendable {
    /// Connection changes and incoming messages, in the order libmosquitto saw them. Consume it from
    /// one task; it finishes after ``stop(finalMessages:)``.
    public let events: AsyncStream<MQTTEvent>
    private let session: MosquittoSession

    /// Validates the configuration and prepares the libmosquitto handle; does not connect yet.
    ///
    /// - Throws: ``MQTTError`` naming every invalid setting, or the libmosquitto step that failed
    ///   (for example an unreadable TLS file). ``events`` holds up to 4096 events not yet consumed;
    ///   a message arriving beyond that is dropped and counted (``MQTTStatistics/droppedIncoming``).
    ///   An owner that must never lose a message in a flood uses ``init(configuration:logger:deliver:)``
    ///   and decides itself what to shed.
    public init(configuration: MQTTClientConfiguration, logger: Logger) throws {
        try Self.validate(configuration)
        let (events, continuation) = AsyncStream.makeStream(
            of: MQTTEvent.self, bufferingPolicy: .bufferingOldest(4096))
        self.events = events
        self.session = try MosquittoSession(
            configuration: configuration, logger: logger, sink: .stream(continuation))
    }

    /// Like ``init(configuration:logger:)``, but hands every event to `deliver`
    /// on libmosquitto's network thread, in order, instead of ``events`` (which then stays empty).
    ///
    /// For an owner with an input stream of its own: the event goes straight into it, with no
    /// forwarding task and no second buffer between the network thread and the owner (one hop
    /// fewer per command). `deliver` must copy what it needs and return at once; it decides
    /// itself what to shed in a flood.
    public init(
        configuration: MQTTClientConfiguration, logger: Logger, deliver: @escaping @Sendable (MQTTEvent) -> Void
    ) throws {
        try Self.validate(configuration)
        let (events, continuation) = AsyncStream.makeStream(of: MQTTEvent.self)
        continuation.finish()
        self.events = events
        self.session = try MosquittoSession(configuration: configuration, logger: logger, sink: .handler(deliver))
    }

    deinit {
        self.session.abandon()
    }

    private static func validate(_ configuration: MQTTClientConfiguration) throws {
        let problems = configuration.problems()
        guard problems.isEmpty else {
            throw MQTTError.invalidConfiguration("invalid MQTT configuration: " + problems.joined(separator: "; "))
        }
    }

    /// Starts connecting in the background; a broker that is down is retried until ``stop(finalMessages:)``.
    public func start() {
        self.session.start()
    }

    /// Sends `message` now if connected, otherwise keeps or drops it according to `queueing`.
    /// Never blocks on the network.
    public func publish(_ message: MQTTMessage, queueing: MQTTQueueing = .bounded) {
        self.session.publish(message, queueing: queueing)
    }

    /// Publishes `finalMessages` (e.g. a retained "offline, shutdown" status), waits a bounded time for
    /// them to be sent, disconnects cleanly so the broker does not publish the will, stops the network
    /// thread and finishes ``events``.
    public func stop(finalMessages: [MQTTMessage] = []) async {
        await self.session.stop(finalMessages: finalMessages)
    }

    public var statistics: MQTTStatistics {
        self.session.statistics
    }

    /// Cuts the TCP connection without an MQTT DISCONNECT, as a failing network would, so tests can
    /// watch the broker publish the will and the client reconnect.
    func dropConnectionForTesting() {
        self.session.dropConnectionForTesting()
    }
}
