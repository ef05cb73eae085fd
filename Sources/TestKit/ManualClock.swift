import Synchronization

/// A monotonic clock in nanoseconds that moves only when a test moves it: for an adapter that takes
/// its clock as a closure (`clock: { clock.now }`), so time-dependent behaviour is tested without
/// waiting for it. Safe to read from the adapter's own thread.
public final class ManualClock: Sendable {
    private let nanoseconds: Mutex<Int64>

    public init(start: Int64 = 1_000_000_000) { self.nanoseconds = Mutex(start) }

    public var now: Int64 { self.nanoseconds.withLock { $0 } }

    public func advance(seconds: Double) {
        self.nanoseconds.withLock { $0 += Int64(seconds * 1e9) }
    }
}
