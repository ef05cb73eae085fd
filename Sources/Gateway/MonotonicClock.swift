#if canImport(Glibc)
import Glibc
#endif
import SafetyCore
import Sensors

/// Reads `CLOCK_MONOTONIC`, the clock every safety timeout and dose integral runs on.
///
/// The same clock stamps GPIO edge events (libgpiod) and sensor samples, so their times compare
/// directly; the wall clock only labels payloads and ledger rows.
public enum MonotonicClock {
    public static func now() -> Instant {
        // The sensors' clock, so sample stamps and the loop's `now` are read the same way.
        Instant(nanoseconds: Sensors.MonotonicClock.now())
    }
}

/// Reads the wall clock, for labels only.
public enum WallClock {
    public static func unixMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
