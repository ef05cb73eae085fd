/// The MQTT protocol revision spoken to the broker.
///
/// v5 is the default because it carries response topic and correlation data, which let a requester
/// receive its answer on a topic of its own choosing.
public enum MQTTProtocolVersion: Sendable, Hashable {
    case v5
    case v311
}

/// The delivery guarantee of one message.
public enum MQTTQoS: Int, Sendable, Hashable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2
}

/// One application message, outgoing or incoming.
///
/// The response topic and correlation data are MQTT v5 properties; with 3.1.1 they are neither sent
/// nor received.
public struct MQTTMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: MQTTQoS
    public var retain: Bool
    /// Where the requester wants its answer (MQTT v5 only).
    public var responseTopic: String?
    /// Opaque bytes the requester wants echoed in its answer (MQTT v5 only).
    public var correlationData: [UInt8]?

    public init(
        topic: String,
        payload: [UInt8],
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }

    /// A message whose payload is the UTF-8 bytes of `text`.
    public init(topic: String, text: String, qos: MQTTQoS = .atMostOnce, retain: Bool = false) {
        self.init(topic: topic, payload: Array(text.utf8), qos: qos, retain: retain)
    }

    /// The payload decoded as UTF-8, with invalid sequences repaired.
    public var payloadText: String {
        String(decoding: self.payload, as: UTF8.self)
    }
}

/// What the client reports, in order, on its one event stream.
public enum MQTTEvent: Sendable, Hashable {
    /// The broker accepted the connection; subscriptions and birth messages have been sent.
    case connected
    /// A previously accepted connection ended (never emitted for attempts that did not connect).
    case disconnected(reason: String)
    case message(MQTTMessage)
}

/// What `publish` does with a message while the client is not connected.
public enum MQTTQueueing: Sendable, Hashable {
    /// Keep only the newest message per key (retained state: only the latest matters).
    case latestWins(key: String)
    /// Keep messages in order up to the queue limit; beyond it they are dropped and counted.
    case bounded
    /// Drop the message and count it (telemetry: a stale sample has no value).
    case dropWhenOffline
}

/// Counters describing the client's life so far.
public struct MQTTStatistics: Sendable, Hashable {
    /// Connections the broker accepted.
    public var connects: Int = 0
    /// Accepted connections after the first one.
    public var reconnects: Int = 0
    /// Outgoing messages that were never handed to the broker (queue full, offline telemetry, errors).
    public var dropped: Int = 0
    /// Outgoing messages waiting right now: for a connection, or (latest-wins ones, one per key) for
    /// libmosquitto's backlog to shrink.
    public var queued: Int = 0
    /// Outgoing latest-wins messages replaced by a newer one with the same key before they were sent.
    public var coalesced: Int = 0
    /// Messages handed to libmosquitto and not yet written (QoS 0) or acknowledged (QoS 1/2).
    public var inFlight: Int = 0
    /// The latest connection or publish problem, in words; `nil` until the first one.
    public var lastError: String?
    /// Connection attempts started, successful or not.
    public var connectAttempts: Int = 0
    /// Connection attempts that failed before the broker accepted them.
    public var failedConnects: Int = 0
    /// Incoming messages dropped because the event stream's buffer was full.
    public var droppedIncoming: Int = 0
    /// Whether the client is connected right now.
    public var isConnected: Bool = false

    public init() {}
}
