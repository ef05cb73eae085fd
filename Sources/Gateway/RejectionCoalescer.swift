import SafetyCore

/// Decides which `command_rejected` events are published: at most one per response code per
/// ``window``, the rest folded into the next one as a `suppressed` count.
///
/// Every refused command still gets its own answer on `res`; the event exists for refusals nobody
/// is waiting on (a command without an id, a stale or retained one). One event per refusal made a
/// command flood cost the broker and every event subscriber one more message per flood message, and
/// they were never shed. A pure value owned by ``GatewayLoop``: the loop offers every rejection and
/// asks on every tick what has become due.
///
/// Accounting: every rejection is either the one an event describes or counted in exactly one
/// event's `suppressed` (the events of a code add up, `1 + suppressed` each, to its rejections).
package struct RejectionCoalescer {
    /// One `command_rejected` to publish: the newest rejection of its code, and how many earlier ones
    /// of that code were folded into it instead of being published.
    package struct Rejection: Equatable {
        package var command: String?
        package var code: ResponseCode
        package var message: String
        package var suppressed: Int
    }

    private struct Slot {
        var publishedAt: Instant
        /// Rejections not published since `publishedAt`, the newest one kept to describe them.
        var pending = 0
        var newest: Rejection?
    }

    /// At most one event per code per this many seconds.
    package let window: Double
    private var slots: [ResponseCode: Slot] = [:]

    package init(window: Double = 1) {
        self.window = window
    }

    /// Offers one rejection; returns it to publish now (with what was folded since the code's last
    /// event), or `nil` when it is folded into a later one.
    package mutating func offer(command: String?, code: ResponseCode, message: String, now: Instant) -> Rejection? {
        let rejection = Rejection(command: command, code: code, message: message, suppressed: 0)
        guard var slot = self.slots[code], now.seconds(since: slot.publishedAt) < self.window else {
            // The window is over (or this is the code's first): publish this one, carrying whatever
            // the last tick had not flushed yet.
            let folded = self.slots[code]?.pending ?? 0
            self.slots[code] = Slot(publishedAt: now)
            return Rejection(command: command, code: code, message: message, suppressed: folded)
        }
        slot.pending += 1
        slot.newest = rejection
        self.slots[code] = slot
        return nil
    }

    /// The summaries due at `now`: per code whose window is over with rejections folded, its newest
    /// rejection with `suppressed` the others. Codes quiet for a whole window are forgotten.
    package mutating func due(now: Instant) -> [Rejection] {
        var summaries: [Rejection] = []
        for (code, slot) in self.slots where now.seconds(since: slot.publishedAt) >= self.window {
            guard var newest = slot.newest, slot.pending > 0 else {
                self.slots[code] = nil
                continue
            }
            newest.suppressed = slot.pending - 1
            summaries.append(newest)
            self.slots[code] = Slot(publishedAt: now)
        }
        return summaries.sorted { $0.code.rawValue < $1.code.rawValue }
    }
}
