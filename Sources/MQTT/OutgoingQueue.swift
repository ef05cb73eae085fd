/// Messages waiting for a connection, or for libmosquitto's backlog to shrink while connected, kept
/// according to each message's ``MQTTQueueing``.
///
/// A pure value: the client owns one inside its lock, drains it on connect and, while connected,
/// decides through ``routeWhileConnected(_:queueing:inFlight:limits:)`` what goes to libmosquitto,
/// whose own queue has no bound. It never grows beyond its limit, and everything it refuses is
/// counted, so a drop is never silent.
struct OutgoingQueue: Sendable {
    private struct Entry: Sendable {
        var key: String?
        var message: MQTTMessage
    }

    /// What happened to one offered message.
    enum Outcome: Sendable, Equatable {
        case queued
        /// An older message with the same key was replaced.
        case replaced
        case dropped(reason: String)
    }

    /// How many messages libmosquitto may hold unsent (or unacknowledged) before the queue steps in.
    struct InFlightLimits: Sendable, Equatable {
        /// From here on droppable messages are shed and latest-wins ones are held, coalesced per key.
        var congested: Int
        /// From here on `.bounded` messages (events) are shed too: a flood of them must not grow
        /// memory either, but they are worth more than answers, so they have the higher limit.
        var bounded: Int
    }

    /// What `publish` does with one message while connected.
    enum ConnectedRoute: Sendable, Equatable {
        /// Hand it to libmosquitto now.
        case send
        /// Kept here, one per key (``Outcome/queued`` or ``Outcome/replaced``), until libmosquitto's
        /// backlog is below ``InFlightLimits/congested`` again (``release(inFlight:limits:)``).
        case held(Outcome)
        case dropped(reason: String)
    }

    let limit: Int
    private var entries: [Entry] = []
    private(set) var droppedCount = 0
    /// Latest-wins messages replaced by a newer one with the same key before they were sent.
    private(set) var coalescedCount = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var count: Int { self.entries.count }

    /// Keeps or drops `message` according to `queueing`.
    mutating func offer(_ message: MQTTMessage, queueing: MQTTQueueing) -> Outcome {
        switch queueing {
        case .dropWhenOffline:
            self.droppedCount += 1
            return .dropped(reason: "offline and the message is marked drop-when-offline")
        case .latestWins(let key):
            if let index = self.entries.firstIndex(where: { $0.key == key }) {
                self.entries.remove(at: index)
                self.entries.append(Entry(key: key, message: message))
                self.coalescedCount += 1
                return .replaced
            }
            return self.append(Entry(key: key, message: message))
        case .bounded:
            return self.append(Entry(key: nil, message: message))
        }
    }

    /// Decides what happens to `message` while connected, with `inFlight` messages in libmosquitto.
    ///
    /// Below ``InFlightLimits/congested`` everything is sent. From there on, droppable messages
    /// (responses, telemetry) are shed and counted, and latest-wins ones (retained state, discovery,
    /// `diag`) are held here, one per key, so a flood of Home Assistant births or state changes costs
    /// one slot per topic instead of one message each; ``release(inFlight:limits:)`` sends them once
    /// the backlog shrinks. While one is held, a newer message with its key is held too (replacing
    /// it), so a retained topic never goes back to an older value. `.bounded` messages (events) are
    /// sent up to ``InFlightLimits/bounded`` and shed and counted past it.
    mutating func routeWhileConnected(
        _ message: MQTTMessage, queueing: MQTTQueueing, inFlight: Int, limits: InFlightLimits
    ) -> ConnectedRoute {
        switch queueing {
        case .dropWhenOffline:
            guard inFlight >= limits.congested else { return .send }
            self.droppedCount += 1
            return .dropped(reason: "\(inFlight) messages not yet sent; droppable messages are shed")
        case .latestWins(let key):
            guard inFlight >= limits.congested || self.entries.contains(where: { $0.key == key }) else { return .send }
            let outcome = self.offer(message, queueing: queueing)
            if case .dropped(let reason) = outcome { return .dropped(reason: reason) }
            return .held(outcome)
        case .bounded:
            guard inFlight >= limits.bounded else { return .send }
            self.droppedCount += 1
            return .dropped(reason: "\(inFlight) messages not yet sent (limit \(limits.bounded))")
        }
    }

    /// The held messages to send now, oldest first: all of them once `inFlight` is below
    /// ``InFlightLimits/congested``, none before.
    mutating func release(inFlight: Int, limits: InFlightLimits) -> [MQTTMessage] {
        guard inFlight < limits.congested, !self.entries.isEmpty else { return [] }
        return self.drain()
    }

    /// Removes and returns every waiting message, oldest first.
    mutating func drain() -> [MQTTMessage] {
        defer { self.entries.removeAll() }
        return self.entries.map(\.message)
    }

    /// Counts messages that were taken out but could not be sent after all.
    mutating func countDropped(_ count: Int) {
        self.droppedCount += count
    }

    private mutating func append(_ entry: Entry) -> Outcome {
        guard self.entries.count < self.limit else {
            self.droppedCount += 1
            return .dropped(reason: "outgoing queue is full (\(self.limit) messages)")
        }
        self.entries.append(entry)
        return .queued
    }
}

/// Exponential reconnect delays with jitter, so a fleet of gateways does not reconnect in lockstep
/// after a broker restart.
struct ReconnectBackoff: Sendable {
    let minimum: Double
    let maximum: Double
    private(set) var failures = 0

    init(minimum: Double, maximum: Double) {
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
    }

    /// The delay before the next attempt: `minimum · 2^failures`, capped at `maximum`, then a random
    /// value between half of it and all of it.
    mutating func nextDelay<R: RandomNumberGenerator>(using generator: inout R) -> Double {
        let exponent = Double(min(self.failures, 32))
        let ceiling = min(self.maximum, self.minimum * pow2(exponent))
        self.failures += 1
        return ceiling / 2 + Double.random(in: 0...1, using: &generator) * ceiling / 2
    }

    mutating func reset() {
        self.failures = 0
    }
}

private func pow2(_ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= 2
        remaining -= 1
    }
    return result
}
