import Foundation
import Gateway
import Ledger
import SafetyCore
import Synchronization
import Testing

/// How the ledger's lifetime totals reach the loop: with every completed record, in ticket order, and
/// never taken back by a completion that arrives after a later one.
@Suite struct LedgerLifetimeTests {
    struct DiskFull: Error {}

    /// A disk that books 1 J/cm² and 1 s with every record, and fails the records it is told to.
    final class CountingStore: LedgerStore, @unchecked Sendable {
        private let count = Mutex(0)
        let failing: Set<Int>

        init(failing: Set<Int> = []) { self.failing = failing }

        func perform(_ record: LedgerRecord, at time: LedgerTime) throws -> LifetimeTotals {
            let index = self.count.withLock { count in
                count += 1
                return count
            }
            if self.failing.contains(index) { throw DiskFull() }
            return Self.totals(index)
        }

        static func totals(_ index: Int) -> LifetimeTotals {
            LifetimeTotals(dose: Dose(joulesPerCm2: Double(index)), emittingSeconds: Double(index))
        }
    }

    @Test func writer_reportsTheTotalsOfEachRecord_inOrder_andNoneForAFailure() async {
        let store = CountingStore(failing: [2])
        let (completions, continuation) = AsyncStream.makeStream(of: LedgerCompletion.self)
        let writer = LedgerWriter(store: store) { continuation.yield($0) }
        let record = LedgerRecord.faultCleared(.storage)
        let tickets = (0..<3).compactMap { _ in writer.submit(record, at: .trusted(unixMs: 0)) }
        #expect(tickets.count == 3)
        // A wait sees the totals of its own record, however long after it completed.
        let third = writer.wait(for: tickets[2], seconds: 10)
        #expect(third?.lifetime == CountingStore.totals(3))
        #expect(writer.wait(for: tickets[0], seconds: 10)?.lifetime == CountingStore.totals(1))
        var delivered: [LedgerCompletion] = []
        for await completion in completions {
            delivered.append(completion)
            if delivered.count == 3 { break }
        }
        #expect(delivered.map(\.ticket) == tickets)
        #expect(delivered.map(\.lifetime) == [CountingStore.totals(1), nil, CountingStore.totals(3)])
        #expect(delivered[1].failure != nil)
        #expect(writer.finish(within: 10))
    }

    @Test func lifetime_takesOnlyLaterTickets_andIgnoresFailures() {
        func completion(_ ticket: UInt64, _ totals: Int?) -> LedgerCompletion {
            LedgerCompletion(
                ticket: LedgerTicket(ticket), failure: totals == nil ? "EIO" : nil,
                lifetime: totals.map(CountingStore.totals))
        }
        var lifetime = LedgerLifetime(boot: CountingStore.totals(10))
        #expect(lifetime.totals == CountingStore.totals(10))
        // A wait reported ticket 3 first; the events of tickets 2 and 3 follow and change nothing
        // (a state published between them must not show ticket 2's smaller totals).
        lifetime.learn(from: completion(3, 13))
        lifetime.learn(from: completion(2, 12))
        #expect(lifetime.totals == CountingStore.totals(13))
        lifetime.learn(from: completion(3, 13))
        #expect(lifetime.totals == CountingStore.totals(13))
        lifetime.learn(from: completion(4, nil))
        #expect(lifetime.totals == CountingStore.totals(13))
        lifetime.learn(from: completion(5, 15))
        #expect(lifetime.totals == CountingStore.totals(15))
    }
}
