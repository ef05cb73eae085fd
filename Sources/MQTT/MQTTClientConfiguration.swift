internal import CMosquitto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// TLS settings. The broker's certificate and host name are always verified: there is no switch
/// to turn that off, because an unverified TLS link only looks safe.
public struct MQTTTLS: Sendable, Hashable {
    /// PEM file of the CA(s) that signed the broker's certificate; `nil` uses the system's CAs.
    public var caFile: String?
    /// PEM client certificate, for brokers with `require_certificate true`.
    public var certFile: String?
    /// PEM private key of `certFile` (unencrypted).
    public var keyFile: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

/// One topic filter the client (re)subscribes to on every connect.
public struct MQTTSubscription: Sendable, Hashable {
    public var filter: String
    public var qos: MQTTQoS
    /// MQTT v5 "retain as published": deliver the publisher's retain flag on live messages too.
    ///
    /// Without it a broker clears the flag on messages forwarded to existing subscribers, so a
    /// command published *retained* while the gateway is connected would look like a normal one and
    /// act. With it, the gateway sees every retained command as retained and refuses it (S14). MQTT
    /// 3.1.1 has no such option: there only retained messages replayed at subscribe time are marked.
    public var retainAsPublished: Bool

    public init(filter: String, qos: MQTTQoS = .atLeastOnce, retainAsPublished: Bool = false) {
        self.filter = filter
        self.qos = qos
        self.retainAsPublished = retainAsPublished
    }
}

/// Everything the client needs to reach one broker and to rebuild its session after every reconnect.
public struct MQTTClientConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var tls: MQTTTLS?
    public var username: String?
    public var password: String?
    public var clientID: String
    public var protocolVersion: MQTTProtocolVersion
    /// Seconds between keepalive pings; a link silent for 1.5× this long is treated as lost, and a
    /// connect attempt that has not completed after this long is abandoned and retried.
    public var keepaliveSeconds: Int
    /// Last will, published by the broker if the connection dies without a clean disconnect.
    public var will: MQTTMessage?
    /// Published on every (re)connect, after subscribing, e.g. a retained `online` status.
    public var birth: [MQTTMessage]
    /// Subscribed on every (re)connect, because the session is started clean each time.
    public var subscriptions: [MQTTSubscription]
    /// First delay before retrying a failed or lost connection.
    public var reconnectMinSeconds: Double
    /// Longest delay between retries; the delay doubles up to this, with random jitter.
    public var reconnectMaxSeconds: Double
    /// Most messages kept while offline.
    public var outgoingQueueLimit: Int
    /// While connected, `.dropWhenOffline` messages (responses, telemetry) are shed and counted, and
    /// `.latestWins` ones held and coalesced per key, once this many messages are still unsent in
    /// libmosquitto, whose own queue has no bound.
    public var inFlightDropLimit: Int = 2048
    /// While connected, `.bounded` messages (events) are shed and counted once this many messages are
    /// still unsent in libmosquitto: above ``inFlightDropLimit``, as events are worth more than answers.
    public var inFlightBoundedLimit: Int = 4096
    /// The socket's receive buffer (`SO_RCVBUF`, which the kernel doubles for its bookkeeping); `nil`
    /// leaves the kernel's autotuning, which grows it to megabytes under load. Every incoming message
    /// waits behind what that buffer holds: a small one keeps a flood's backlog at the broker, which
    /// sheds QoS 0 messages past its per-client queue, instead of in front of the next `stop`.
    public var receiveBufferBytes: Int?
    /// Longest time `stop` waits for its final messages to be acknowledged and the link to close.
    public var stopTimeoutSeconds: Double

    public init(
        host: String,
        port: Int,
        tls: MQTTTLS? = nil,
        username: String? = nil,
        password: String? = nil,
        clientID: String,
        protocolVersion: MQTTProtocolVersion = .v5,
        keepaliveSeconds: Int = 10,
        will: MQTTMessage? = nil,
        birth: [MQTTMessage] = [],
        subscriptions: [MQTTSubscription] = [],
        reconnectMinSeconds: Double = 1,
        reconnectMaxSeconds: Double = 60,
        outgoingQueueLimit: Int = 256,
        stopTimeoutSeconds: Double = 5
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
        self.clientID = clientID
        self.protocolVersion = protocolVersion
        self.keepaliveSeconds = keepaliveSeconds
        self.will = will
        self.birth = birth
        self.subscriptions = subscriptions
        self.reconnectMinSeconds = reconnectMinSeconds
        self.reconnectMaxSeconds = reconnectMaxSeconds
        self.outgoingQueueLimit = outgoingQueueLimit
        self.stopTimeoutSeconds = stopTimeoutSeconds
    }

    /// Every problem with this configuration, in words; empty when it can be used.
    public func problems() -> [String] {
        var problems: [String] = []
        if self.host.isEmpty {
            problems.append("host is empty; give a broker host name or address")
        }
        if !(1...65535).contains(self.port) {
            problems.append("port \(self.port) is outside 1…65535")
        }
        if self.clientID.isEmpty || self.clientID.utf8.count > 65535 {
            problems.append("client id must be 1…65535 bytes, got \(self.clientID.utf8.count)")
        }
        // No "0 = off": the keepalive is what detects a dead link and bounds a silent connect attempt.
        if !(5...65535).contains(self.keepaliveSeconds) {
            problems.append("keepalive \(self.keepaliveSeconds) s must be 5…65535 s")
        }
        if !(self.reconnectMinSeconds > 0) {
            problems.append("reconnect minimum \(self.reconnectMinSeconds) s must be above 0")
        }
        if !(self.reconnectMaxSeconds >= self.reconnectMinSeconds) {
            problems.append(
                "reconnect maximum \(self.reconnectMaxSeconds) s must be at least the minimum "
                    + "\(self.reconnectMinSeconds) s"
            )
        }
        if self.outgoingQueueLimit < 1 {
            problems.append("outgoing queue limit \(self.outgoingQueueLimit) must be at least 1")
        }
        if !(self.stopTimeoutSeconds >= 0) {
            problems.append("stop timeout \(self.stopTimeoutSeconds) s must not be negative")
        }
        if self.password != nil && self.username == nil {
            problems.append("a password is set without a username; set both or neither")
        }
        if let tls = self.tls {
            if (tls.certFile == nil) != (tls.keyFile == nil) {
                problems.append("TLS client certificate and key must be given together")
            }
            for (name, path) in [("CA", tls.caFile), ("certificate", tls.certFile), ("key", tls.keyFile)] {
                if let path, access(path, R_OK) != 0 {
                    problems.append("TLS \(name) file \(path) is not readable")
                }
            }
        }
        var published = self.birth
        if let will = self.will { published.append(will) }
        for message in published where mosquitto_pub_topic_check(message.topic) != MOSQ_ERR_SUCCESS.rawValue {
            problems.append("'\(message.topic)' is not a valid topic to publish to (no wildcards, not empty)")
        }
        for subscription in self.subscriptions
        where mosquitto_sub_topic_check(subscription.filter) != MOSQ_ERR_SUCCESS.rawValue {
            problems.append("'\(subscription.filter)' is not a valid topic filter")
        }
        return problems
    }
}
