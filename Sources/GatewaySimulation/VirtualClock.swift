import Gateway
import SafetyCore

/// Virtual time: a monotonic clock that only moves when the simulator moves it, and a wall clock
/// that is the monotonic clock plus an offset the simulator steps (a clock set by hand, a board
/// booting at 1970 or a year ahead, NTP stepping it right).
///
/// The simulated kernel calls the wall clock synchronised only once NTP has stepped it right: any
/// error comes with `wallClockTrusted == false`, as setting the time by hand clears the kernel's
/// sync state. A power cut starts a new kernel boot (``newKernelBoot()``).
package final class VirtualClock: GatewayClock {
    /// Monotonic nanoseconds since the simulated world began.
    package private(set) var nanoseconds: Int64 = 1_000_000_000
    /// The truth: unix milliseconds at monotonic 0 (2026-11-01).
    package static let trueEpochUnixMs: Int64 = 1_793_491_200_000
    /// Wall minus truth, in milliseconds; 0 when the wall clock is right.
    package var wallErrorMs: Int64 = 0
    /// Whether the kernel calls the wall clock synchronised (see the type's documentation).
    package var wallClockTrusted = true
    package private(set) var bootID = "sim-boot-1"
    private var kernelBoots = 1

    package init() {}

    package var now: Instant { Instant(nanoseconds: self.nanoseconds) }
    package var seconds: Double { Double(self.nanoseconds) / 1e9 }
    package var unixMilliseconds: Int64 { Self.trueEpochUnixMs + self.nanoseconds / 1_000_000 + self.wallErrorMs }

    /// A power cut: the next boot's monotonic times no longer compare with this one's.
    package func newKernelBoot() {
        self.kernelBoots += 1
        self.bootID = "sim-boot-\(self.kernelBoots)"
    }

    /// Moves time forward to `nanoseconds` (never back).
    package func advance(to nanoseconds: Int64) {
        self.nanoseconds = max(self.nanoseconds, nanoseconds)
    }
}
