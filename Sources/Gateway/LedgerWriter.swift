import DedicatedThread
import Foundation
import Ledger
import SafetyCore

/// Identifies one submitted record; a writer completes tickets in the order it issued them.
package struct LedgerTicket: Hashable, Comparable, Sendable {
    package var value: UInt64

    package init(_ value: UInt64) { self.value = value }

    package static func < (lhs: LedgerTicket, rhs: LedgerTicket) -> Bool { lhs.value < rhs.value }
}

/// What became of one record: durable, or failed with a reason.
package struct LedgerCompletion: Hashable, Sendable {
    package var ticket: LedgerTicket
    /// `nil` when the record is durable.
    package var failure: String?
    /// The ledger's lifetime totals right after this record; `nil` when it failed. Tickets complete
    /// in order, so the totals of a later ticket are never smaller.
    package var lifetime: LifetimeTotals?

    package init(ticket: LedgerTicket, failure: String?, lifetime: LifetimeTotals? = nil) {
        self.ticket = ticket
        self.failure = failure
        self.lifetime = lifetime
    }
}

/// The ledger's lifetime totals as the loop last learnt them: at boot recovery, then from every
/// completed record.
///
/// Completions reach the loop in ticket order as events, but a bounded wait hands over a later
/// ticket's completion first, and its older tickets' events still follow: taking those would put
/// the totals back for a moment, and Home Assistant reads any decrease of a `total_increasing`
/// sensor as a meter reset. So only a later ticket's totals replace the ones held.
package struct LedgerLifetime: Sendable {
    package private(set) var totals: LifetimeTotals
    private var ticket: LedgerTicket?

    package init(boot totals: LifetimeTotals) {
        self.totals = totals
    }

    /// Takes `completion`'s totals unless it failed or an equal or later ticket's are held.
    package mutating func learn(from completion: LedgerCompletion) {
        guard let totals = completion.lifetime else { return }
        if let ticket = self.ticket, completion.ticket <= ticket { return }
        self.totals = totals
        self.ticket = completion.ticket
    }
}

/// Performs ledger records off the safety loop, in submission order.
///
/// The loop must never hold a tick, an interlock edge or a temperature sample behind an `fsync`
/// (`synchronous = FULL` stays: every record is durable when it completes). So records are queued
/// and written elsewhere; every completion comes back to the loop as a ``GatewayInput/ledger(_:)``
/// event. The loop waits for a record only while every output is off (`sessionOpened` before the
/// turn-on, the records of a list that already turned the panel off), at most
/// ``GatewayLoop/ledgerWriteBound``.
package protocol LedgerWriting: AnyObject {
    /// Queues `record`; `nil` when the queue is full (the record is refused at once, never waited for).
    func submit(_ record: LedgerRecord, at time: LedgerTime) -> LedgerTicket?
    /// Blocks until `ticket` has completed or `seconds` have passed; `nil` when it has not completed.
    func wait(for ticket: LedgerTicket, seconds: Double) -> LedgerCompletion?
}

/// The daemon's ``LedgerWriting``: one thread performing records on a ``LedgerStore``, with a bounded
/// queue (``capacity``) so a stuck disk cannot grow memory without bound.
///
/// The use of `@unchecked Sendable` is safe for this type because every stored property that
/// changes is read and written only with `condition` locked; `store` and `delivered` are immutable
/// and `Sendable`.
package final class LedgerWriter: LedgerWriting, @unchecked Sendable {
    /// Records waiting or in flight beyond which `submit` refuses: about a minute of a session's
    /// records, far more than a healthy disk ever holds back.
    package static let capacity = 64

    private let store: any LedgerStore
    private let delivered: @Sendable (LedgerCompletion) -> Void
    private let condition = NSCondition()
    private var queue: [(ticket: LedgerTicket, record: LedgerRecord, time: LedgerTime)] = []
    private var lastIssued: UInt64 = 0
    private var completedThrough: UInt64 = 0
    /// Outcomes of recent records (failure or lifetime totals), so a `wait` that starts after its
    /// record completed still sees it.
    private var outcomes: [UInt64: LedgerCompletion] = [:]
    private var stopping = false

    /// Starts the writer thread.
    ///
    /// - Parameters:
    ///   - store: where records are written (the SQLite ledger).
    ///   - delivered: called on the writer thread after each record, with its outcome; the daemon
    ///     yields it into the loop's event stream.
    package init(store: any LedgerStore, delivered: @escaping @Sendable (LedgerCompletion) -> Void) {
        self.store = store
        self.delivered = delivered
        // Without the thread no record completes: the loop's overdue bound then raises F_STORAGE and
        // the panel stays dark, the same as a disk that stopped answering.
        DedicatedThread.start(name: "rlt-ledger") { [self] in self.run() }?.detach()
    }

    package func submit(_ record: LedgerRecord, at time: LedgerTime) -> LedgerTicket? {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard !self.stopping, self.lastIssued - self.completedThrough < UInt64(Self.capacity) else { return nil }
        self.lastIssued += 1
        let ticket = LedgerTicket(self.lastIssued)
        self.queue.append((ticket, record, time))
        self.condition.broadcast()
        return ticket
    }

    package func wait(for ticket: LedgerTicket, seconds: Double) -> LedgerCompletion? {
        let deadline = Date(timeIntervalSinceNow: max(0, seconds))
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.completedThrough < ticket.value {
            if !self.condition.wait(until: deadline) { break }
        }
        guard self.completedThrough >= ticket.value else { return nil }
        // Only the last 256 outcomes are kept; a wait is for a record just submitted.
        return self.outcomes[ticket.value] ?? LedgerCompletion(ticket: ticket, failure: nil)
    }

    /// Lets the queued records finish (at most `seconds`), then stops the thread. Called at shutdown,
    /// so the session closed by SIGTERM is on disk and the next boot does not take it for a crash.
    ///
    /// - Returns: `true` when every record completed in time.
    @discardableResult
    package func finish(within seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: max(0, seconds))
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.completedThrough < self.lastIssued {
            if !self.condition.wait(until: deadline) { break }
        }
        self.stopping = true
        self.condition.broadcast()
        return self.completedThrough >= self.lastIssued
    }

    private func run() {
        while true {
            self.condition.lock()
            while self.queue.isEmpty, !self.stopping { self.condition.wait() }
            guard !self.queue.isEmpty else {
                self.condition.unlock()
                return
            }
            let item = self.queue.removeFirst()
            self.condition.unlock()

            let completion: LedgerCompletion
            do {
                let lifetime = try self.store.perform(item.record, at: item.time)
                completion = LedgerCompletion(ticket: item.ticket, failure: nil, lifetime: lifetime)
            } catch {
                completion = LedgerCompletion(ticket: item.ticket, failure: "\(error)")
            }

            self.condition.lock()
            self.completedThrough = item.ticket.value
            self.outcomes[item.ticket.value] = completion
            if item.ticket.value >= 256 { self.outcomes[item.ticket.value - 256] = nil }
            self.condition.broadcast()
            self.condition.unlock()
            self.delivered(completion)
        }
    }
}
