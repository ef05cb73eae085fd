/// One temperature reading.
///
/// Not stamped: the loop takes the time a sample reaches it on the monotonic clock, and a stamp it
/// would ignore is one more value that could disagree (docs/DESIGN.md, "Time").
///
/// Sensors never throw: a read error, a missing file or unparseable text becomes ``invalid(_:)``
/// with a reason a person can act on, so the safety core counts invalid samples (rule S6) instead of an adapter
/// deciding what an error means. Plausibility (range, NaN, stuck values) is the core's job too: a parsed value is
/// reported as it is.
public enum SensorSample: Sendable, Hashable {
    /// A reading in degrees Celsius.
    case celsius(Double)
    /// No reading; the string says why (e.g. `"/sys/…/temp: No such file or directory"`).
    case invalid(String)

    /// The temperature, or `nil` for an invalid sample.
    public var celsius: Double? {
        switch self {
        case .celsius(let value): return value
        case .invalid: return nil
        }
    }
}

/// A source of panel temperature readings.
///
/// - Important: ``read()`` may block for as long as the underlying file read takes (a 1-Wire conversion takes
///   about 750 ms), so call it from a task or thread that may block, never from the gateway's event loop.
public protocol TemperatureSensor: Sendable {
    /// Takes one reading now. Never throws: failures are ``SensorSample/invalid(_:)``.
    func read() -> SensorSample
}
