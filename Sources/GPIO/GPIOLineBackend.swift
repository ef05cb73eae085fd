#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One chip's requested lines, in PHYSICAL levels: the seam between ``GPIOController`` and an implementation.
///
/// Two implementations exist, ``LibgpiodChip`` (the kernel, through libgpiod v1 or v2, whichever the build found) and ``SimulatedChip`` (files laid
/// out like gpio-sim's sysfs). Both are opened with every line already requested, outputs first at their OFF level,
/// and both deal in physical levels only: the controller alone applies `active_low`, so the inversion cannot
/// differ between backends. Indices refer to the order of the specs the backend was opened with.
///
/// Implementations serialise their own calls; ``waitForInputActivity(timeoutMilliseconds:)`` runs on the
/// controller's edge thread while ``setOutput(_:physical:)`` may run on any other, and ``release()`` is called only
/// after the edge thread has stopped.
protocol GPIOLineBackend: AnyObject, Sendable {
    /// The chip as messages name it (`gpiochip0`, `simulated chip /tmp/sim`).
    var chipName: String { get }
    func setOutput(_ index: Int, physical: Bool) throws(GPIOError)
    func readOutput(_ index: Int) throws(GPIOError) -> Bool
    func readInput(_ index: Int) throws(GPIOError) -> Bool
    /// Blocks up to `timeoutMilliseconds` until an input may have changed; returns the indices of inputs that saw
    /// a raw edge (possibly none, on timeout). It reports activity, not levels: the debouncer reads the level once
    /// the line has settled.
    func waitForInputActivity(timeoutMilliseconds: Int32) throws(GPIOError) -> [Int]
    /// Releases every line and the chip. Called once, after the edge thread has stopped.
    func release()
}

/// How messages name a line: `gpiochip0 line 17 (red)`, or `gpiochip0 line "GPIO17" (red)` when looked up by name.
func describeLine(chip: String, line: Int, lineName: String?, name: String) -> String {
    if let lineName {
        return "\(chip) line \"\(lineName)\" (\(name))"
    }
    return "\(chip) line \(line) (\(name))"
}

/// The text of an errno value.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
