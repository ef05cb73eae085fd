/// Checks `condition` every `interval` until it holds or `timeout` passes; returns whether it held
/// (checked once more at the deadline).
///
/// For a state that announces no event to wait on: a file the gateway writes, a process that
/// exits, a line level. Where an event exists, tests wait for the event instead; this never stands
/// in for one.
public func eventually(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
