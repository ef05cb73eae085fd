#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `CLOCK_MONOTONIC`: the one clock every safety timeout, dose integral, debounce window and
/// benchmark runs on, read the same way by every module (docs/DESIGN.md, "Time").
///
/// A wall-clock step can neither age nor refresh anything measured on it.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary origin (the kernel's boot, on Linux).
    public static func nanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

/// `CLOCK_REALTIME`, for labels (payload `ts`, ledger rows) only; never for a duration.
public enum WallClock {
    public static func unixMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
