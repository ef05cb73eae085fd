import Synchronization

/// How often the clock tick runs: every 50 ms while anything is (or is commanded) on, every 500 ms
/// while the panel is dark.
///
/// The tick drives the time-based rules. While emitting, session end, dose limits and output
/// plausibility (S1, S2, S9) want fine resolution: a session overruns its planned end or a dose
/// limit by at most one fast interval of light. While dark, it only serves slow timers (stale
/// sensor after 3 s, cooldown, telemetry, the watchdog), and each tick costs a timer wake-up, a
/// stream hop and a loop turn: about three quarters of the idle CPU (BENCHMARKS.md). The loop sets
/// the pace after every input; the tick task reads it before each sleep, so the first fast tick
/// after a start comes at most one slow interval later, well inside S9's 1 s.
final class TickPace: Sendable {
    static let fast = Duration.milliseconds(50)
    static let slow = Duration.milliseconds(500)

    private let isFast = Atomic<Bool>(true)

    var interval: Duration { self.isFast.load(ordering: .relaxed) ? Self.fast : Self.slow }

    func set(fast: Bool) {
        self.isFast.store(fast, ordering: .relaxed)
    }
}
