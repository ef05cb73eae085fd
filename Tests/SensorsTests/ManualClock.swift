import Synchronization

/// A monotonic clock the test advances by hand.
final class ManualClock: Sendable {
    private let nanoseconds: Mutex<Int64>

    init(start: Int64 = 1_000_000_000) { self.nanoseconds = Mutex(start) }

    var now: Int64 { self.nanoseconds.withLock { $0 } }

    func advance(seconds: Double) {
        self.nanoseconds.withLock { $0 += Int64(seconds * 1e9) }
    }
}
