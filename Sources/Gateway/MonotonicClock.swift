import Clocks
import SafetyCore

extension Instant {
    /// Now on ``Clocks/MonotonicClock``, the clock every safety timeout and dose integral runs on.
    static var monotonicNow: Instant { Instant(nanoseconds: MonotonicClock.nanoseconds()) }
}
