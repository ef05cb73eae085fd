/// Software debouncing of input lines: a level counts once it has stayed unchanged for the line's debounce time.
///
/// Raw activity (a libgpiod edge event or a simulator sample that differs) restarts the line's quiet window; when
/// the window closes, the caller reads the line's level and ``settle(_:level:)`` reports an edge only if the level
/// differs from the last reported one. A bounce shorter than the window therefore reports nothing, and a burst
/// of bounces reports the final level once. Time is a parameter, so this is tested without threads or sleeps.
///
/// A contact that keeps bouncing never settles, so a quiet window alone would leave the last reported level
/// standing for as long as it chatters: an interlock chattering open would stay "closed". A line that has been
/// unsettled for ``unstableFactor`` debounce windows is therefore reported inactive (``unstableLines(at:)``):
/// for the normally-closed interlock (active = closed) that is open, the fail-safe reading; a stop button
/// reads "not pressed", as it did while chattering before. The settled level is reported once it calms.
package struct InputDebouncer {
    /// How many debounce windows a line may stay unsettled before it is reported inactive.
    package static let unstableFactor: Int64 = 4

    private struct Line {
        var name: String
        var debounceNanoseconds: Int64
        var reported: Bool
        var lastActivity: Int64
        var pending: Bool
        /// When the current unsettled stretch began (or was last reported unstable).
        var pendingSince: Int64 = 0

        var unstableDeadline: Int64 { self.pendingSince &+ self.debounceNanoseconds * InputDebouncer.unstableFactor }
    }

    private var lines: [Line]

    /// - Parameter inputs: Each input's name, debounce time and the logical level it starts at.
    package init(inputs: [(name: String, debounceMs: Int, level: Bool)]) {
        self.lines = inputs.map {
            Line(
                name: $0.name, debounceNanoseconds: Int64(max(0, $0.debounceMs)) * 1_000_000, reported: $0.level,
                lastActivity: 0, pending: false)
        }
    }

    /// Records raw activity on input `index` at monotonic time `now`, restarting its quiet window.
    package mutating func activity(on index: Int, at now: Int64) {
        if !self.lines[index].pending { self.lines[index].pendingSince = now }
        self.lines[index].lastActivity = now
        self.lines[index].pending = true
    }

    /// The earliest time a pending line's window closes (or it becomes unstable), or `nil` when nothing is pending.
    package var nextDeadline: Int64? {
        self.lines.filter(\.pending).map { line in
            let settles = line.lastActivity &+ line.debounceNanoseconds
            return line.debounceNanoseconds > 0 ? min(settles, line.unstableDeadline) : settles
        }.min()
    }

    /// Lines that have stayed unsettled for ``unstableFactor`` windows at `now`, reported inactive (once per
    /// stretch; they stay pending, so their settled level is reported when they calm).
    package mutating func unstableLines(at now: Int64) -> [GPIOInputEdge] {
        var edges: [GPIOInputEdge] = []
        for index in self.lines.indices where self.lines[index].pending && self.lines[index].debounceNanoseconds > 0 {
            // Still bouncing (its window not closed yet) past the limit; a line whose window has closed
            // settles normally, however late the edge thread got to it.
            guard self.lines[index].unstableDeadline <= now,
                self.lines[index].lastActivity &+ self.lines[index].debounceNanoseconds > now
            else { continue }
            self.lines[index].pendingSince = now
            guard self.lines[index].reported else { continue }
            self.lines[index].reported = false
            edges.append(GPIOInputEdge(name: self.lines[index].name, active: false))
        }
        return edges
    }

    /// Forgets the reported level of every line (it could not be read): each counts as inactive, and each is
    /// read again after a window, so the next successful read reports an active line afresh.
    package mutating func lost(at now: Int64) {
        for index in self.lines.indices {
            self.lines[index].reported = false
            self.activity(on: index, at: now)
        }
    }

    /// The line names, in index order.
    package var names: [String] { self.lines.map(\.name) }

    /// The lines whose quiet window has closed at `now`; they stop being pending and must be read and settled.
    package mutating func dueLines(at now: Int64) -> [Int] {
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
    package mutating func settle(_ index: Int, level: Bool) -> GPIOInputEdge? {
        guard level != self.lines[index].reported else { return nil }
        self.lines[index].reported = level
        return GPIOInputEdge(
            name: self.lines[index].name, active: level)
    }
}
