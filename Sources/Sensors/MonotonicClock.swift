#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The monotonic clock every sample is stamped with.
///
/// Safety timeouts (stale sensor, implausible heating) run on CLOCK_MONOTONIC, so samples carry the same clock;
/// a wall-clock jump can then neither age nor refresh a reading.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary origin, from `clock_gettime(CLOCK_MONOTONIC)`.
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
