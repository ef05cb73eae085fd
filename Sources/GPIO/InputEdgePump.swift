/// One turn of the input edge thread without the thread: raw activity in, debounced edges and input
/// failures out. ``GPIOController`` runs it on its edge thread; the whole-gateway simulator runs the
/// same code in virtual time.
///
/// A failing wait or read is never only logged: every input is reported failed once (an edge with
/// ``GPIOInputEdge/failure`` set and `active == false`), because a frozen last level would keep an
/// interlock "closed" that nobody can read. When reads work again, each line's level is reported afresh.
package struct InputEdgePump {
    private var debouncer: InputDebouncer
    private let activeLow: [Bool]
    /// The failure reported last, while reads keep failing.
    private var failing: String?

    /// - Parameters:
    ///   - inputs: the input specs, in the backend's index order.
    ///   - levels: each input's logical level at start.
    package init(inputs: [GPIOInputSpec], levels: [Bool]) {
        self.debouncer = InputDebouncer(
            inputs: zip(inputs, levels).map { (name: $0.name, debounceMs: $0.debounceMs, level: $1) })
        self.activeLow = inputs.map(\.activeLow)
    }

    /// Whether the last wait or read failed.
    package var isFailing: Bool { self.failing != nil }

    /// When the pump must run again even without activity (a window closes), in monotonic nanoseconds.
    package var nextDeadline: Int64? { self.debouncer.nextDeadline }

    /// Raw activity seen on lines `indices` at `now`.
    package mutating func activity(on indices: [Int], at now: Int64) {
        for index in indices { self.debouncer.activity(on: index, at: now) }
    }

    /// Reads the lines whose window closed and returns the edges to deliver (settled changes, lines
    /// reported unstable, or failures when a read fails).
    package mutating func settle(at now: Int64, read: (Int) throws(GPIOError) -> Bool) -> [GPIOInputEdge] {
        var edges = self.debouncer.unstableLines(at: now)
        for index in self.debouncer.dueLines(at: now) {
            let physical: Bool
            do throws(GPIOError) {
                physical = try read(index)
            } catch {
                return edges + self.failed(error.message, at: now)
            }
            if let edge = self.debouncer.settle(index, level: physical != self.activeLow[index]) { edges.append(edge) }
        }
        self.failing = nil
        return edges
    }

    /// The wait (or a read) failed at `now`: every input is reported failed, once per failure.
    package mutating func failed(_ message: String, at now: Int64) -> [GPIOInputEdge] {
        self.debouncer.lost(at: now)
        guard self.failing != message else { return [] }
        self.failing = message
        return self.debouncer.names.map {
            GPIOInputEdge(name: $0, active: false, failure: message)
        }
    }
}
