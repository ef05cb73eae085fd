internal import CMosquitto
import DedicatedThread
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `mosquitto_lib_init` exactly once per process, on first use.
enum MosquittoLibrary {
    static let initialised: Bool = mosquitto_lib_init() == MOSQ_ERR_SUCCESS.rawValue
}

/// Where incoming events go: the client's own bounded stream, or straight to the owner's handler.
enum MQTTEventSink: Sendable {
    case stream(AsyncStream<MQTTEvent>.Continuation)
    case handler(@Sendable (MQTTEvent) -> Void)

    /// Ends the stream; a handler's owner ends its own input when it stops the client.
    func finish() {
        if case .stream(let continuation) = self { continuation.finish() }
    }
}

/// Owns one libmosquitto client handle, the network thread that drives it, and the state shared with
/// the callbacks.
///
/// The use of `@unchecked Sendable` is safe for this type because its only non-Sendable member is the
/// `struct mosquitto *` handle, and every use of it follows libmosquitto's threading rules: the handle
/// is put in threaded mode (`mosquitto_threaded_set`), so `mosquitto_publish`, `mosquitto_subscribe`
/// and `mosquitto_disconnect` may be called from any thread (they lock internally and only queue a
/// packet); `mosquitto_connect_async`, `mosquitto_will_set` and `mosquitto_loop` are called only from
/// the one network thread this object starts; and `mosquitto_destroy` runs in `deinit`, which cannot
/// happen while that thread runs because the thread holds a strong reference until it returns.
/// Everything else is immutable or behind the `Mutex`.
final class MosquittoSession: @unchecked Sendable {
    /// Where the client is in its life; it only moves forward.
    enum Phase: Sendable {
        /// Created, `start` not yet called: publishes are queued.
        case idle
        /// The network thread is connecting or connected.
        case running
        /// `stop` is sending final messages and disconnecting; no reconnects any more.
        case stopping
        case stopped
    }

    struct State: Sendable {
        var phase: Phase = .idle
        var connected = false
        var queue: OutgoingQueue
        var statistics = MQTTStatistics()
        /// Message ids handed to libmosquitto by `stop` and not yet acknowledged.
        var pendingFinal: Set<Int32> = []
        /// Tells the network thread to return at once, even mid-connection.
        var abandonLoop = false
        var loopFinished = false
        /// Whether the broker accepted the current connection attempt.
        var attemptAccepted = false
        /// When the broker accepted the current connection.
        var acceptedAt: ContinuousClock.Instant?
        /// Why the broker refused the current attempt (CONNACK reason), if it did.
        var refusal: String?
        /// The latest error or warning libmosquitto logged (OpenSSL details live only there).
        var libraryDetail: String?
        /// Whether the "offline queue full" warning was logged during this offline period.
        var warnedQueueFull = false
        /// Whether the "backing up while connected" warning was logged since libmosquitto's backlog
        /// was last empty: one warning per flood, not one per shed message.
        var warnedCongested = false
    }

    let configuration: MQTTClientConfiguration
    let logger: Logger
    let sink: MQTTEventSink
    let state: Mutex<State>
    /// Messages handed to libmosquitto and not yet written (QoS 0) or acknowledged (QoS 1/2).
    private let inFlight = Atomic<Int>(0)
    private let handle: OpaquePointer

    init(
        configuration: MQTTClientConfiguration,
        logger: Logger,
        sink: MQTTEventSink
    ) throws(MQTTError) {
        guard MosquittoLibrary.initialised else {
            throw .library("mosquitto_lib_init failed; the TLS or socket libraries could not be initialised")
        }
        self.configuration = configuration
        self.logger = logger
        self.sink = sink
        self.state = Mutex(State(queue: OutgoingQueue(limit: configuration.outgoingQueueLimit)))
        // Clean start: a reconnect must never receive commands queued for an earlier session.
        guard let handle = mosquitto_new(configuration.clientID, true, nil) else {
            throw .library("mosquitto_new failed for client id '\(configuration.clientID)': \(Self.errnoText())")
        }
        self.handle = handle
        do {
            try self.configureHandle()
        } catch {
            mosquitto_destroy(handle)
            throw error
        }
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        self.installCallbacks()
    }

    deinit {
        mosquitto_destroy(self.handle)
    }

    // MARK: Set-up

    private func configureHandle() throws(MQTTError) {
        let configuration = self.configuration
        let version = configuration.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(self.handle, MOSQ_OPT_PROTOCOL_VERSION, version), "setting the protocol version")
        try check(mosquitto_int_option(self.handle, MOSQ_OPT_TCP_NODELAY, 1), "setting TCP_NODELAY")
        try check(mosquitto_threaded_set(self.handle, true), "enabling threaded mode")
        if let username = configuration.username {
            try check(
                mosquitto_username_pw_set(self.handle, username, configuration.password),
                "setting username and password"
            )
        }
        if let tls = configuration.tls {
            var caPath: String?
            if tls.caFile == nil {
                try check(mosquitto_int_option(self.handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "using the system CAs")
                caPath = "/etc/ssl/certs"
            }
            try check(
                mosquitto_tls_set(self.handle, tls.caFile, caPath, tls.certFile, tls.keyFile, nil),
                "loading TLS files (CA \(tls.caFile ?? "system"), certificate \(tls.certFile ?? "none"))"
            )
            try check(mosquitto_tls_insecure_set(self.handle, false), "enabling server name verification")
        }
    }

    private func installCallbacks() {
        mosquitto_connect_v5_callback_set(self.handle) { _, userData, reasonCode, _, _ in
            MosquittoSession.from(userData)?.connectAnswered(reasonCode: reasonCode)
        }
        mosquitto_disconnect_v5_callback_set(self.handle) { _, userData, reasonCode, _ in
            MosquittoSession.from(userData)?.disconnected(reasonCode: reasonCode)
        }
        mosquitto_publish_v5_callback_set(self.handle) { _, userData, mid, _, _ in
            MosquittoSession.from(userData)?.published(mid: mid)
        }
        mosquitto_message_v5_callback_set(self.handle) { _, userData, message, properties in
            guard let session = MosquittoSession.from(userData), let message else { return }
            session.received(MosquittoSession.copy(message.pointee, properties: properties))
        }
        mosquitto_log_callback_set(self.handle) { _, userData, level, text in
            guard let session = MosquittoSession.from(userData), let text else { return }
            session.libraryLogged(level: level, text: String(cString: text))
        }
    }

    private static func from(_ userData: UnsafeMutableRawPointer?) -> MosquittoSession? {
        guard let userData else { return nil }
        return Unmanaged<MosquittoSession>.fromOpaque(userData).takeUnretainedValue()
    }

    /// Copies everything out of a message whose memory libmosquitto frees when the callback returns.
    private static func copy(_ message: mosquitto_message, properties: OpaquePointer?) -> MQTTMessage {
        let topic = message.topic.map { String(cString: $0) } ?? ""
        var payload: [UInt8] = []
        if let bytes = message.payload, message.payloadlen > 0 {
            payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)))
        }
        var result = MQTTMessage(
            topic: topic,
            payload: payload,
            qos: MQTTQoS(rawValue: Int(message.qos)) ?? .atMostOnce,
            retain: message.retain
        )
        result.readProperties(properties)
        return result
    }

    // MARK: Network thread

    /// Starts the network thread; later calls do nothing.
    func start() {
        let shouldStart = self.state.withLock { state in
            guard state.phase == .idle else { return false }
            state.phase = .running
            return true
        }
        guard shouldStart else { return }
        // The thread holds the session until its loop returns, whoever else lets go of it.
        guard let thread = DedicatedThread.start(name: "rlt-mqtt", { self.runNetworkLoop() }) else {
            let text = "could not start the MQTT network thread (the system is out of threads or memory)"
            self.logger.critical("\(text)")
            self.state.withLock { state in
                state.statistics.lastError = text
                state.loopFinished = true
            }
            return
        }
        thread.detach()
    }

    /// Connects, drives the connection, and on any failure waits a backoff delay and connects again,
    /// until `stop` is called. The library's own reconnect is not used: it gives up after TLS errors
    /// and never recovers from a refused first connect.
    private func runNetworkLoop() {
        let configuration = self.configuration
        var backoff = ReconnectBackoff(
            minimum: configuration.reconnectMinSeconds, maximum: configuration.reconnectMaxSeconds)
        var random = SystemRandomNumberGenerator()
        let broker = "\(configuration.host):\(configuration.port)"
        while self.shouldKeepConnecting {
            self.state.withLock { state in
                state.statistics.connectAttempts += 1
                state.attemptAccepted = false
                state.acceptedAt = nil
                state.refusal = nil
                state.libraryDetail = nil
            }
            var failure: String?
            if let problem = self.applyWill() {
                failure = problem
            } else {
                var rc = mosquitto_connect_async(
                    self.handle, configuration.host, Int32(configuration.port), Int32(configuration.keepaliveSeconds))
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    failure = "rc=\(rc) (\(Self.text(rc)))"
                } else {
                    self.limitReceiveBuffer()
                    while rc == MOSQ_ERR_SUCCESS.rawValue && !self.state.withLock({ $0.abandonLoop }) {
                        rc = mosquitto_loop(self.handle, 1000, 1)
                    }
                    if rc != MOSQ_ERR_SUCCESS.rawValue {
                        failure = "rc=\(rc) (\(Self.text(rc)))"
                    }
                }
            }
            // libmosquitto reports a lost link through the disconnect callback; this covers any path
            // where it did not, so `publish` never hands messages to a dead connection.
            self.disconnected(reasonCode: MOSQ_ERR_CONN_LOST.rawValue)
            guard self.shouldKeepConnecting else { break }
            let (accepted, acceptedAt, refusal, detail) = self.state.withLock {
                ($0.attemptAccepted, $0.acceptedAt, $0.refusal, $0.libraryDetail)
            }
            // Only a connection that lasted resets the backoff: one dropped right after CONNACK (an ACL
            // kick, a second client with the same id) must not turn into a reconnect storm.
            if accepted, let acceptedAt, ContinuousClock.now - acceptedAt >= Self.stableConnection {
                backoff.reset()
            }
            let delay = backoff.nextDelay(using: &random)
            var reason = refusal.map { "broker refused the connection: \($0)" } ?? (failure ?? "unknown error")
            if let detail, refusal == nil { reason += "; libmosquitto: \(detail)" }
            let retry = (delay * 10).rounded() / 10
            if accepted {
                self.logger.warning(
                    "MQTT connection to \(broker) lost: \(reason); reconnecting in \(retry) s",
                    metadata: ["mqtt.broker": "\(broker)"])
                self.state.withLock { $0.statistics.lastError = "connection lost: \(reason)" }
            } else {
                self.logger.error(
                    "MQTT connect to \(broker) failed: \(reason); retrying in \(retry) s",
                    metadata: ["mqtt.broker": "\(broker)"])
                self.state.withLock { state in
                    state.statistics.failedConnects += 1
                    state.statistics.lastError = "connect to \(broker) failed: \(reason)"
                }
            }
            self.sleep(seconds: delay)
        }
        self.state.withLock { $0.loopFinished = true }
    }

    /// Applies ``MQTTClientConfiguration/receiveBufferBytes`` to the socket `mosquitto_connect_async`
    /// just opened (libmosquitto has no option for it); a failure only costs the bound, so it is logged.
    private func limitReceiveBuffer() {
        guard let bytes = self.configuration.receiveBufferBytes else { return }
        let socket = mosquitto_socket(self.handle)
        guard socket >= 0 else { return }
        var value = Int32(clamping: bytes)
        if setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            self.logger.warning("MQTT: could not limit the socket's receive buffer: \(Self.errnoText())")
        }
    }

    /// How long a connection must have lasted for the next reconnect to start again at the minimum delay.
    private static let stableConnection = Duration.seconds(10)

    private var shouldKeepConnecting: Bool {
        self.state.withLock { $0.phase == .running && !$0.abandonLoop }
    }

    /// Sets the last will for the next CONNECT (libmosquitto applies it only then), or says why not.
    private func applyWill() -> String? {
        guard let will = self.configuration.will else { return nil }
        guard let length = Int32(exactly: will.payload.count) else { return "will payload is too large" }
        let rc = will.payload.withUnsafeBytes { bytes in
            mosquitto_will_set(
                self.handle, will.topic, length, bytes.baseAddress, Int32(will.qos.rawValue), will.retain)
        }
        return rc == MOSQ_ERR_SUCCESS.rawValue ? nil : "setting the will failed: rc=\(rc) (\(Self.text(rc)))"
    }

    /// Sleeps in short slices so `stop` never waits for a whole backoff delay.
    private func sleep(seconds: Double) {
        var remaining = seconds
        while remaining > 0 && self.shouldKeepConnecting {
            let slice = min(remaining, 0.05)
            usleep(UInt32(slice * 1_000_000))
            remaining -= slice
        }
    }

    // MARK: Callbacks (network thread): copy out, update state, yield

    private func connectAnswered(reasonCode: Int32) {
        // A fresh connection: whatever the last one had in flight is gone or will be resent.
        self.inFlight.store(0, ordering: .relaxed)
        guard reasonCode == 0 else {
            let text =
                self.configuration.protocolVersion == .v5
                ? String(cString: mosquitto_reason_string(reasonCode))
                : String(cString: mosquitto_connack_string(reasonCode))
            self.state.withLock { $0.refusal = "reason \(reasonCode) (\(text))" }
            return
        }
        let (firstConnect, problems) = self.state.withLock { state -> (Bool, [String]) in
            state.attemptAccepted = true
            state.acceptedAt = ContinuousClock.now
            state.connected = true
            state.warnedQueueFull = false
            state.statistics.connects += 1
            if state.statistics.connects > 1 { state.statistics.reconnects += 1 }
            var problems: [String] = []
            guard state.phase == .running else { return (false, problems) }
            for subscription in self.configuration.subscriptions {
                let rc: Int32
                if self.configuration.protocolVersion == .v5 {
                    let options = subscription.retainAsPublished ? Int32(MQTT_SUB_OPT_RETAIN_AS_PUBLISHED.rawValue) : 0
                    rc = mosquitto_subscribe_v5(
                        self.handle, nil, subscription.filter, Int32(subscription.qos.rawValue), options, nil)
                } else {
                    rc = mosquitto_subscribe(
                        self.handle, nil, subscription.filter, Int32(subscription.qos.rawValue))
                }
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    problems.append("subscribing to '\(subscription.filter)' failed: \(Self.text(rc))")
                }
            }
            for message in self.configuration.birth + state.queue.drain() {
                if let failure = self.send(message, mid: nil) {
                    state.queue.countDropped(1)
                    problems.append(failure.description)
                }
            }
            if let last = problems.last { state.statistics.lastError = last }
            return (state.statistics.connects == 1, problems)
        }
        for problem in problems {
            self.logger.error("MQTT: \(problem)")
        }
        let broker = "\(self.configuration.host):\(self.configuration.port)"
        self.logger.info("MQTT \(firstConnect ? "connected" : "reconnected") to \(broker)")
        self.deliver(.connected)
    }

    private func disconnected(reasonCode: Int32) {
        let wasConnected = self.state.withLock { state in
            defer { state.connected = false }
            return state.connected
        }
        guard wasConnected else { return }
        let reason = reasonCode == 0 ? "disconnected by request" : "rc=\(reasonCode) (\(Self.text(reasonCode)))"
        self.deliver(.disconnected(reason: reason))
    }

    private func published(mid: Int32) {
        // Approximate by design: a callback for a message of an earlier connection may arrive
        // after the count was reset, so never let it go below zero.
        var inFlight = self.inFlight.subtract(1, ordering: .relaxed).newValue
        if inFlight < 0 {
            self.inFlight.store(0, ordering: .relaxed)
            inFlight = 0
        }
        self.state.withLock { state in
            _ = state.pendingFinal.remove(mid)
            if inFlight == 0 { state.warnedCongested = false }
            // What was held while libmosquitto was backed up goes out as soon as it is not, even
            // when nothing else is published after the flood.
            if state.connected, state.phase == .running { self.release(&state, inFlight: inFlight) }
        }
    }

    private func received(_ message: MQTTMessage) {
        self.deliver(.message(message))
    }

    /// Hands one event to the owner's handler, or yields it into ``MQTTClient/events``; a message
    /// that finds that buffer full is dropped and counted, never silently.
    func deliver(_ event: MQTTEvent) {
        switch self.sink {
        case .handler(let handle):
            handle(event)
        case .stream(let continuation):
            guard case .dropped = continuation.yield(event), case .message(let message) = event else { return }
            self.state.withLock { $0.statistics.droppedIncoming += 1 }
            self.logger.warning("MQTT: event buffer full, dropped an incoming message on \(message.topic)")
        }
    }

    private func libraryLogged(level: Int32, text: String) {
        if level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 {
            self.state.withLock { $0.libraryDetail = text }
            self.logger.debug("libmosquitto: \(text)")
        } else {
            self.logger.trace("libmosquitto: \(text)")
        }
    }

    // MARK: Publishing (any thread)

    /// Hands `message` to libmosquitto or keeps it per `queueing`. Never blocks on the network.
    func publish(_ message: MQTTMessage, queueing: MQTTQueueing) {
        let warning: String? = self.state.withLock { state in
            switch state.phase {
            case .stopping, .stopped:
                state.queue.countDropped(1)
                return nil
            case .idle, .running:
                break
            }
            if state.connected {
                // libmosquitto's own queue is unbounded while connected: under a flood of commands
                // the answers, events and republished documents would pile up without limit. The
                // queue decides (a pure value, unit-tested): shed droppable ones, hold latest-wins
                // ones one per key, shed events past a higher limit; all of it counted.
                let inFlight = self.inFlight.load(ordering: .relaxed)
                self.release(&state, inFlight: inFlight)
                let route = state.queue.routeWhileConnected(
                    message, queueing: queueing, inFlight: inFlight, limits: self.limits)
                switch route {
                case .send:
                    break
                case .held, .dropped:
                    return self.congestionWarning(&state, inFlight: inFlight)
                }
                switch self.send(message, mid: nil) {
                case nil:
                    return nil
                case .offline:
                    break  // The link went down under us: keep it per `queueing`, as offline.
                case .failed(let problem):
                    state.queue.countDropped(1)
                    state.statistics.lastError = problem
                    return problem
                }
            }
            let outcome = state.queue.offer(message, queueing: queueing)
            if case .dropped(let reason) = outcome, case .bounded = queueing, !state.warnedQueueFull {
                state.warnedQueueFull = true
                return "dropping messages while offline: \(reason)"
            }
            return nil
        }
        if let warning {
            self.logger.warning("MQTT: \(warning)", metadata: ["mqtt.topic": "\(message.topic)"])
        }
    }

    private var limits: OutgoingQueue.InFlightLimits {
        OutgoingQueue.InFlightLimits(
            congested: self.configuration.inFlightDropLimit,
            bounded: max(self.configuration.inFlightDropLimit, self.configuration.inFlightBoundedLimit))
    }

    /// Sends the latest-wins messages held while libmosquitto was backed up, once it no longer is.
    /// Call with the state lock held, while connected.
    private func release(_ state: inout State, inFlight: Int) {
        for message in state.queue.release(inFlight: inFlight, limits: self.limits) {
            if let failure = self.send(message, mid: nil) {
                state.queue.countDropped(1)
                state.statistics.lastError = failure.description
            }
        }
    }

    /// The one warning per flood that outgoing messages are being shed or coalesced while connected.
    private func congestionWarning(_ state: inout State, inFlight: Int) -> String? {
        guard !state.warnedCongested else { return nil }
        state.warnedCongested = true
        return "\(inFlight) outgoing messages not yet sent: shedding responses and telemetry, coalescing "
            + "retained documents, shedding events past \(self.limits.bounded) (counted in dropped_messages)"
    }

    /// Why a publish did not reach libmosquitto.
    enum SendFailure: Error, CustomStringConvertible {
        /// The link is down (`MOSQ_ERR_NO_CONN`): the message may wait for the next connection.
        case offline
        /// Anything else: the message cannot be sent as it is.
        case failed(String)

        var description: String {
            switch self {
            case .offline: "offline"
            case .failed(let problem): problem
            }
        }
    }

    /// Calls `mosquitto_publish(_v5)`; returns `nil` on success, else why not. Call with the state
    /// lock held so a publish callback cannot overtake the caller's bookkeeping of `mid`.
    private func send(_ message: MQTTMessage, mid: UnsafeMutablePointer<Int32>?) -> SendFailure? {
        guard let length = Int32(exactly: message.payload.count) else {
            return .failed("payload of \(message.payload.count) bytes on \(message.topic) is too large")
        }
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        if self.configuration.protocolVersion == .v5 {
            if let responseTopic = message.responseTopic {
                mosquitto_property_add_string(&properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), responseTopic)
            }
            if let correlation = message.correlationData {
                guard let correlationLength = UInt16(exactly: correlation.count) else {
                    return .failed("correlation data of \(correlation.count) bytes is longer than 65535")
                }
                correlation.withUnsafeBytes { bytes in
                    _ = mosquitto_property_add_binary(
                        &properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), bytes.baseAddress, correlationLength)
                }
            }
        }
        let rc = message.payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(
                self.handle, mid, message.topic, length, bytes.baseAddress, Int32(message.qos.rawValue),
                message.retain, properties)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            self.inFlight.add(1, ordering: .relaxed)
            return nil
        }
        if rc == MOSQ_ERR_NO_CONN.rawValue { return .offline }
        return .failed("publishing to \(message.topic) failed: rc=\(rc) (\(Self.text(rc)))")
    }

    // MARK: Stopping

    /// Publishes `finalMessages`, waits for them, disconnects cleanly (so the broker discards the will),
    /// and ends the network thread; every wait is bounded by the configured stop timeout.
    func stop(finalMessages: [MQTTMessage]) async {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(self.configuration.stopTimeoutSeconds * 1000))
        let (wasRunning, connected) = self.state.withLock { state -> (Bool, Bool) in
            let wasRunning = state.phase == .running
            state.phase = .stopping
            return (wasRunning, state.connected)
        }
        if connected {
            let problems = self.state.withLock { state -> [String] in
                var problems: [String] = []
                for message in finalMessages {
                    var mid: Int32 = 0
                    if let failure = self.send(message, mid: &mid) {
                        state.queue.countDropped(1)
                        problems.append(failure.description)
                    } else {
                        state.pendingFinal.insert(mid)
                    }
                }
                return problems
            }
            for problem in problems { self.logger.error("MQTT: final message not sent: \(problem)") }
            let sent = await self.wait(until: deadline) { $0.pendingFinal.isEmpty }
            if !sent {
                self.logger.warning("MQTT: final messages were not all acknowledged before the stop timeout")
            }
            let rc = mosquitto_disconnect_v5(self.handle, 0, nil)
            if rc == MOSQ_ERR_SUCCESS.rawValue {
                _ = await self.wait(until: deadline) { !$0.connected }
            }
        } else if !finalMessages.isEmpty {
            self.state.withLock { $0.queue.countDropped(finalMessages.count) }
            self.logger.warning("MQTT: not connected at stop; \(finalMessages.count) final message(s) not sent")
        }
        self.state.withLock { $0.abandonLoop = true }
        if wasRunning {
            let finished = await self.wait(until: deadline + .seconds(2)) { $0.loopFinished }
            if !finished { self.logger.warning("MQTT: network thread did not end in time; leaving it behind") }
        }
        self.state.withLock { $0.phase = .stopped }
        self.sink.finish()
    }

    /// Shuts the socket down under libmosquitto (tests only): the broker sees an unexpected close.
    func dropConnectionForTesting() {
        let socket = mosquitto_socket(self.handle)
        if socket >= 0 {
            shutdown(socket, Int32(SHUT_RDWR))
        }
    }

    /// Abandons the connection without a clean disconnect (the client was released without `stop`).
    func abandon() {
        self.state.withLock { state in
            if state.phase != .stopped { state.phase = .stopping }
            state.abandonLoop = true
        }
        self.sink.finish()
    }

    private func wait(until deadline: ContinuousClock.Instant, _ condition: (State) -> Bool) async -> Bool {
        while ContinuousClock().now < deadline {
            if self.state.withLock({ condition($0) }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return self.state.withLock { condition($0) }
    }

    var statistics: MQTTStatistics {
        self.state.withLock { state in
            var statistics = state.statistics
            statistics.queued = state.queue.count
            statistics.dropped = state.queue.droppedCount
            statistics.coalesced = state.queue.coalescedCount
            statistics.inFlight = self.inFlight.load(ordering: .relaxed)
            statistics.isConnected = state.connected
            return statistics
        }
    }

    // MARK: Errors

    static func text(_ rc: Int32) -> String {
        String(cString: mosquitto_strerror(rc))
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// Turns a libmosquitto return code into an ``MQTTError`` naming the step that failed.
private func check(_ rc: Int32, _ step: String) throws(MQTTError) {
    guard rc == MOSQ_ERR_SUCCESS.rawValue else {
        throw .library("\(step) failed: rc=\(rc) (\(MosquittoSession.text(rc)))")
    }
}

extension MQTTMessage {
    /// Reads the v5 properties the gateway uses off an incoming message, the response topic and the
    /// correlation data (the first of each); every other property, user properties included, is
    /// ignored. `package` so that Fuzz/MQTTProperties runs this very code over property lists
    /// libmosquitto built.
    package mutating func readProperties(_ properties: OpaquePointer?) {
        guard let properties else { return }
        var responseTopic: UnsafeMutablePointer<CChar>?
        if mosquitto_property_read_string(
            properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), &responseTopic, false) != nil,
            let responseTopic
        {
            self.responseTopic = String(cString: responseTopic)
            free(responseTopic)
        }
        var correlation: UnsafeMutableRawPointer?
        var correlationLength: UInt16 = 0
        if mosquitto_property_read_binary(
            properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &correlation, &correlationLength, false) != nil
        {
            if let correlation {
                self.correlationData = Array(
                    UnsafeRawBufferPointer(start: correlation, count: Int(correlationLength)))
                free(correlation)
            } else {
                self.correlationData = []
            }
        }
    }
}
