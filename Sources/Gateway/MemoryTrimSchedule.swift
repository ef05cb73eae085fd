/// When to hand freed heap back to the system after an MQTT flood (``GatewayService``, once a second).
///
/// A flood grows the heap — messages shed at the inbound backlog, answers and events waiting in
/// libmosquitto — and glibc keeps freed pages mapped, so without a trim the daemon's RSS stays
/// megabytes above its level before, for good. Trimming while messages are still being shed would
/// only be undone by the next second's messages, and trimming once right after the flood misses
/// what the outgoing queue frees as it drains. So: once a flood was seen, trim every quiet second
/// (nothing shed since the last check) until the outgoing queue has drained, and a few seconds more
/// for what is freed last; then stop until the next flood. A pure value owned by the run loop.
package struct MemoryTrimSchedule {
    /// Quiet seconds trimmed after the outgoing queue has drained.
    package static let trimsAfterDrain = 3

    private var lastShedTotal = 0
    private var flooded = false
    private var remainingAfterDrain = 0

    package init() {}

    /// Called once a second with the inbound backlog's total shed count and whether libmosquitto and
    /// the outgoing queue hold nothing any more; whether to trim now.
    package mutating func check(shedTotal: Int, outgoingDrained: Bool) -> Bool {
        let shedSinceLast = shedTotal != self.lastShedTotal
        self.lastShedTotal = shedTotal
        if shedSinceLast {
            self.flooded = true
            self.remainingAfterDrain = Self.trimsAfterDrain
            return false
        }
        guard self.flooded else { return false }
        if outgoingDrained {
            self.remainingAfterDrain -= 1
            if self.remainingAfterDrain <= 0 { self.flooded = false }
        }
        return true
    }
}
