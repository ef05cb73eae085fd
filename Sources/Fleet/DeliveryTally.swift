/// Light a panel delivered, as far as this process has seen: cumulative dose and emitting seconds,
/// derived from the panel's own session figures (`dose_j_cm2.total`, `elapsed_s`).
///
/// The panel publishes snapshots, not increments, and the exporter may miss, repeat or reorder them
/// (QoS 0 telemetry, retained replays on every reconnect, `state` and `tele` on separate topics).
/// So the tally keeps, per session id, the highest dose and elapsed time it has counted, and adds
/// only what a snapshot shows beyond that mark: a repeat adds nothing, a lower (older) value
/// subtracts nothing, and a session first seen mid-way counts from zero, because that light was
/// delivered too. The totals therefore only grow, as Prometheus counters must.
///
/// Only the newest ``rememberedSessions`` session ids are kept, so memory stays bounded on a panel
/// that runs for years; a snapshot of a session older than that would be counted again, which needs
/// it to arrive after that many newer sessions, far beyond any reordering MQTT produces.
public struct DeliveryTally: Hashable, Sendable {
    /// J/cm² counted over every session seen.
    public private(set) var doseJoulesPerCm2 = 0.0
    /// Seconds of emission counted over every session seen.
    public private(set) var emittingSeconds = 0.0
    /// The counted high-water marks, oldest first.
    private var marks: [Mark] = []

    public static let rememberedSessions = 16

    private struct Mark: Hashable, Sendable {
        let sessionID: String
        var dose: Double
        var elapsed: Double
    }

    public init() {}

    /// Counts what a snapshot (or a session's end event) shows beyond what was already counted for
    /// its session. A snapshot without a session id carries no session figures and is skipped.
    public mutating func observe(sessionID: String?, dose: Double, elapsedSeconds: Double) {
        guard let sessionID else { return }
        // A value that is not a finite, non-negative number says nothing about delivered light.
        let dose = dose.isFinite ? max(0, dose) : 0
        let elapsed = elapsedSeconds.isFinite ? max(0, elapsedSeconds) : 0
        if let index = self.marks.firstIndex(where: { $0.sessionID == sessionID }) {
            var mark = self.marks[index]
            self.doseJoulesPerCm2 += max(0, dose - mark.dose)
            self.emittingSeconds += max(0, elapsed - mark.elapsed)
            mark.dose = max(mark.dose, dose)
            mark.elapsed = max(mark.elapsed, elapsed)
            self.marks[index] = mark
        } else {
            self.doseJoulesPerCm2 += dose
            self.emittingSeconds += elapsed
            self.marks.append(Mark(sessionID: sessionID, dose: dose, elapsed: elapsed))
            if self.marks.count > Self.rememberedSessions { self.marks.removeFirst() }
        }
    }
}
