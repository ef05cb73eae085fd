import Synchronization

/// Bounds how many MQTT messages wait in the owner task's stream.
///
/// Interlock edges, sensor samples and control ticks share that one ordered stream with MQTT
/// messages. Unbounded, a command flood (tens of thousands per second through a local broker) piles
/// up faster than the loop can answer, so the daemon's memory grows without bound and a safety
/// input waits behind minutes of queued commands. Past ``limit`` waiting messages, new messages are
/// dropped before they enter the stream (and counted, for a warning): the safety inputs keep their
/// reaction time, and the flooder's commands are shed, as the rate limit (S15) would refuse them
/// anyway. A `stop` is never shed: it is recognised cheaply and let in past the limit.
final class InboundBacklog: Sendable {
    /// About 50 ms of the loop's work at its measured pace.
    static let limit = 256

    private let pending = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let droppedSinceStart = Atomic<Int>(0)

    /// Whether one more message may enter the stream; counts it in when it may, or as dropped.
    ///
    /// - Parameter mustPass: asked only when the backlog is full: whether this message must reach
    ///   the loop all the same (a `stop`: S15, `stop` always passes). It then still waits behind at
    ///   most ``limit`` messages, about 50 ms.
    func admit(mustPass: () -> Bool) -> Bool {
        if self.pending.load(ordering: .relaxed) >= Self.limit, !mustPass() {
            self.dropped.add(1, ordering: .relaxed)
            self.droppedSinceStart.add(1, ordering: .relaxed)
            return false
        }
        self.pending.add(1, ordering: .relaxed)
        return true
    }

    /// The loop took one message out of the stream.
    func handled() {
        self.pending.subtract(1, ordering: .relaxed)
    }

    /// Messages dropped since the backlog was made (the count `diag` publishes).
    var totalDropped: Int {
        self.droppedSinceStart.load(ordering: .relaxed)
    }

    /// Messages dropped since the last call (the count the flood warning logs).
    func takeDropped() -> Int {
        self.dropped.exchange(0, ordering: .relaxed)
    }
}
