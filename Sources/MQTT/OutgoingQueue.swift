/// Messages waiting for a connection, kept according to each message's ``MQTTQueueing``.
///
/// A pure value: the client owns one inside its lock and drains it on connect. It never grows beyond
/// its limit, and everything it refuses is counted, so a drop is never silent.
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

    let limit: Int
    private var entries: [Entry] = []
    private(set) var droppedCount = 0

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
                return .replaced
            }
            return self.append(Entry(key: key, message: message))
        case .bounded:
            return self.append(Entry(key: nil, message: message))
        }
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
            return .dropped(reason: "offline queue is full (\(self.limit) messages)")
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
