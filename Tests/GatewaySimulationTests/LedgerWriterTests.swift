import Foundation
import Gateway
import Ledger
import SafetyCore
import Synchronization
import Testing

/// The daemon's ledger writer: records are written on their own thread, a stuck disk never holds
/// the caller longer than the bound it asks for, and a full queue refuses at once.
@Suite struct LedgerWriterTests {
    /// A disk whose writes wait until released.
    final class StuckStore: LedgerStore, @unchecked Sendable {
        let gate = NSCondition()
        var released = false
        var written: [LedgerRecord] = []

        func perform(_ record: LedgerRecord, at time: LedgerTime) throws -> LifetimeTotals {
            self.gate.lock()
            while !self.released { self.gate.wait() }
            self.written.append(record)
            self.gate.unlock()
            return .zero
        }

        func release() {
            self.gate.lock()
            self.released = true
            self.gate.broadcast()
            self.gate.unlock()
        }
    }

    @Test func stuckDisk_submitDoesNotBlock_waitIsBounded_queueIsBounded() async {
        let store = StuckStore()
        let (completions, continuation) = AsyncStream.makeStream(of: LedgerCompletion.self)
        let writer = LedgerWriter(store: store) { continuation.yield($0) }
        let record = LedgerRecord.faultCleared(.storage)
        let first = writer.submit(record, at: .trusted(unixMs: 0))
        #expect(first != nil)
        // A bounded wait on a stuck disk returns nil after the bound, not when the disk recovers.
        #expect(writer.wait(for: first!, seconds: 0.05) == nil)
        var accepted = 1
        while writer.submit(record, at: .trusted(unixMs: 0)) != nil, accepted < 1000 { accepted += 1 }
        #expect(accepted == LedgerWriter.capacity)
        store.release()
        var seen = 0
        for await completion in completions {
            #expect(completion.failure == nil)
            seen += 1
            if seen == accepted { break }
        }
        #expect(writer.finish(within: 10))
        #expect(store.written.count == accepted)
    }
}
