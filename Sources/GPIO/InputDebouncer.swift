/// Software debouncing of input lines: a level counts once it has stayed unchanged for the line's debounce time.
///
/// Raw activity (a libgpiod edge event or a simulator sample that differs) restarts the line's quiet window; when
/// the window closes, the caller reads the line's level and ``settle(_:level:)`` reports an edge only if the level
/// differs from the last reported one. A bounce shorter than the window therefore reports nothing, and a burst
/// of bounces reports the final level once. Time is a parameter, so this is tested without threads or sleeps.
struct InputDebouncer {
    private struct Line {
        var name: String
        var debounceNanoseconds: Int64
        var reported: Bool
        var lastActivity: Int64
        var pending: Bool
    }

    private var lines: [Line]

    /// - Parameter inputs: Each input's name, debounce time and the logical level it starts at.
    init(inputs: [(name: String, debounceMs: Int, level: Bool)]) {
        self.lines = inputs.map {
            Line(
                name: $0.name, debounceNanoseconds: Int64(max(0, $0.debounceMs)) * 1_000_000, reported: $0.level,
                lastActivity: 0, pending: false)
        }
    }

    /// Records raw activity on input `index` at monotonic time `now`, restarting its quiet window.
    mutating func activity(on index: Int, at now: Int64) {
        self.lines[index].lastActivity = now
        self.lines[index].pending = true
    }

    /// The earliest time a pending line's window closes, or `nil` when nothing is pending.
    var nextDeadline: Int64? {
        self.lines.filter(\.pending).map { $0.lastActivity &+ $0.debounceNanoseconds }.min()
    }

    /// The lines whose quiet window has closed at `now`; they stop being pending and must be read and settled.
    mutating func dueLines(at now: Int64) -> [Int] {
        var due: [Int] = []
        for index in self.lines.indices where self.lines[index].pending {
            if self.lines[index].lastActivity &+ self.lines[index].debounceNanoseconds <= now {
                self.lines[index].pending = false
                due.append(index)
            }
        }
        return due
    }

    /// Records the settled logical `level` of input `index`; returns the edge to report, or `nil` when the level is
    /// the one last reported (the activity was a bounce).
    mutating func settle(_ index: Int, level: Bool) -> GPIOInputEdge? {
        guard level != self.lines[index].reported else { return nil }
        self.lines[index].reported = level
        return GPIOInputEdge(
            name: self.lines[index].name, active: level, monotonicNanoseconds: self.lines[index].lastActivity)
    }
}
