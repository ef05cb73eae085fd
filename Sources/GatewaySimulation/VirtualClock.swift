import Gateway
import SafetyCore

/// Virtual time: a monotonic clock that only moves when the simulator moves it, and a wall clock
/// that is the monotonic clock plus an offset the simulator steps (NTP jumps, a board booting at
/// 1970 or a year ahead).
package final class VirtualClock: GatewayClock {
    /// Monotonic nanoseconds since the simulated world began.
    package private(set) var nanoseconds: Int64 = 1_000_000_000
    /// The truth: unix milliseconds at monotonic 0 (2026-11-01).
    package static let trueEpochUnixMs: Int64 = 1_793_491_200_000
    /// Wall minus truth, in milliseconds; 0 when the wall clock is right.
    package var wallErrorMs: Int64 = 0

    package init() {}

    package var now: Instant { Instant(nanoseconds: self.nanoseconds) }
    package var seconds: Double { Double(self.nanoseconds) / 1e9 }
    package var unixMilliseconds: Int64 { Self.trueEpochUnixMs + self.nanoseconds / 1_000_000 + self.wallErrorMs }

    /// Moves time forward to `nanoseconds` (never back).
    package func advance(to nanoseconds: Int64) {
        self.nanoseconds = max(self.nanoseconds, nanoseconds)
    }
}
