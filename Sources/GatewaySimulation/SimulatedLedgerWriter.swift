import Gateway
import Ledger
import SafetyCore
import TestKit

/// The ledger's disk in virtual time, in front of the real ``SessionLedger`` (SQLite on a RAM disk).
///
/// A record becomes durable — applied to the SQLite file — only when its simulated `fsync`
/// completes; a crash drops every record not completed yet, exactly what a power cut does to
/// writes still in flight. What SQLite then holds is what boot recovery (the real
/// ``SessionLedger/recover(at:)``) sees. Faults: `ENOSPC`/`EIO` (the record fails),
/// slow `fsync` (completes late), stuck `fsync` (does not complete until the fault ends).
package final class SimulatedLedgerWriter: LedgerWriting {
    package enum Mode: Equatable, Sendable {
        case healthy
        /// Every record fails with this reason.
        case failing(String)
        /// Every record takes this long.
        case slow(Double)
        /// No record completes.
        case stuck
    }

    private struct Pending {
        var ticket: LedgerTicket
        var record: LedgerRecord
        var time: LedgerTime
        var submittedAt: Int64
        /// `nil` while stuck.
        var completesAt: Int64?
        var failure: String?
    }

    private let clock: VirtualClock
    package var ledger: SessionLedger
    package var mode: Mode = .healthy {
        didSet { self.modeChanged() }
    }
    private var random: SplitMix64
    private var queue: [Pending] = []
    private var lastIssued: UInt64 = 0
    private var lastCompletesAt: Int64 = 0
    /// Completions that happened inside a `wait`, still to be delivered to the loop as events.
    private var completedInWait: [LedgerCompletion] = []
    private var results: [UInt64: LedgerCompletion] = [:]
    /// Sessions whose `sessionOpened` is durable.
    package private(set) var durableSessionIDs: Set<String> = []
    package private(set) var failedRecords = 0

    package init(ledger: SessionLedger, clock: VirtualClock, seed: UInt64) {
        self.ledger = ledger
        self.clock = clock
        self.random = SplitMix64(seed: seed)
    }

    /// When the oldest record not yet completed was submitted.
    package var oldestPendingSince: Int64? { self.queue.first?.submittedAt }
    /// When the next record completes, if one will.
    package var nextCompletionTime: Int64? { self.queue.first?.completesAt }

    package func submit(_ record: LedgerRecord, at time: LedgerTime) -> LedgerTicket? {
        guard self.queue.count < LedgerWriter.capacity else { return nil }
        self.lastIssued += 1
        let ticket = LedgerTicket(self.lastIssued)
        var pending = Pending(
            ticket: ticket, record: record, time: time, submittedAt: self.clock.nanoseconds, completesAt: nil)
        if case .failing(let reason) = self.mode { pending.failure = reason }
        pending.completesAt = self.completionTime()
        self.queue.append(pending)
        return ticket
    }

    package func wait(for ticket: LedgerTicket, seconds: Double) -> LedgerCompletion? {
        let deadline = self.clock.nanoseconds + Int64(seconds * 1e9)
        while let head = self.queue.first, head.ticket <= ticket, let at = head.completesAt, at <= deadline {
            self.clock.advance(to: at)
            self.completedInWait.append(self.completeHead())
        }
        if let result = self.results.removeValue(forKey: ticket.value) { return result }
        self.clock.advance(to: deadline)
        return nil
    }

    /// Completes the oldest record (its time has come): applies it to SQLite unless it fails.
    package func completeHead() -> LedgerCompletion {
        let head = self.queue.removeFirst()
        var failure = head.failure
        var lifetime: LifetimeTotals?
        if failure == nil {
            do {
                lifetime = try self.ledger.perform(head.record, at: head.time)
                if case .sessionOpened(let plan) = head.record { self.durableSessionIDs.insert(plan.sessionID) }
            } catch {
                failure = "\(error)"
            }
        }
        if failure != nil { self.failedRecords += 1 }
        let completion = LedgerCompletion(ticket: head.ticket, failure: failure, lifetime: lifetime)
        self.results[head.ticket.value] = completion
        if self.results.count > 64 { self.results = self.results.filter { $0.key + 64 > head.ticket.value } }
        return completion
    }

    /// Completions from inside a `wait`, for the loop's event stream.
    package func takeCompletedInWait() -> [LedgerCompletion] {
        defer { self.completedInWait.removeAll() }
        return self.completedInWait
    }

    /// A power cut: whatever was not durable is gone.
    package func crash() {
        self.queue.removeAll()
        self.completedInWait.removeAll()
        self.results.removeAll()
    }

    private func completionTime() -> Int64? {
        let start = max(self.clock.nanoseconds, self.lastCompletesAt)
        let duration: Double
        switch self.mode {
        case .healthy, .failing: duration = self.random.seconds(0.001...0.02)
        case .slow(let seconds): duration = seconds
        case .stuck: return nil
        }
        self.lastCompletesAt = start + Int64(duration * 1e9)
        return self.lastCompletesAt
    }

    private func modeChanged() {
        guard self.mode != .stuck else { return }
        self.lastCompletesAt = 0
        for index in self.queue.indices where self.queue[index].completesAt == nil {
            self.queue[index].completesAt = self.completionTime()
        }
    }
}
