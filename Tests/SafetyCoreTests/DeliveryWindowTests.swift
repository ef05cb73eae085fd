import SafetyCore
import Testing

/// The rolling 24 h window (S3) counts light by when it was delivered, never by when its session
/// started, and counts light the hardware gave against an OFF command (S9).
@Suite("24 h window by delivery time")
struct DeliveryWindowTests {
    /// Plays `seconds` with a fresh sample every 2 s, so a long pause stays fault-free and quick.
    static func wait(_ rig: inout Rig, _ seconds: Double) {
        rig.run(for: seconds, step: 2)
    }

    @Test func startRequested_afterASessionPausedForMoreThan24h_countsItsLightByDeliveryTime() throws {
        var rig = Rig.ready()
        // Session A: 10 s of light (0.9 J/cm²), a 25 h pause, then the remaining 590 s (53.1 J/cm²).
        #expect(rig.command(.start(.init())).response?.ok == true)
        rig.run(for: 10)
        #expect(rig.command(.pause).response?.ok == true)
        Self.wait(&rig, 25 * 3600)
        #expect(rig.command(.resume).response?.ok == true)
        let endA = rig.run(for: 590.25)
        #expect(endA.notices.contains("completed(duration)"))
        #expect(abs(rig.snapshot.dose24h.joulesPerCm2 - 53.1) < 0.1, "the 0.9 J/cm² before the pause left the window")
        Self.wait(&rig, 130)
        // Session B fits: 53.1 + 54 ≤ 120.
        #expect(rig.command(.start(.init())).response?.ok == true)
        let endB = rig.run(for: 600.25)
        #expect(endB.notices.contains("completed(duration)"))
        #expect(abs(rig.snapshot.dose24h.joulesPerCm2 - 107.1) < 0.1)
        Self.wait(&rig, 130)
        // Session C would bring the last hour to about 161 J/cm²: refused.
        let refused = rig.command(.start(.init()))
        #expect(refused.response?.code == .doseLimit)
        #expect(refused.response?.message.contains("remaining 24 h allowance") == true)
        #expect(!rig.outputs.emitting)
    }

    @Test func snapshot_whileRunning_countsHistoryAndTheSessionsLightOnce() throws {
        var settings = SafetySettings()
        settings.limits.maxDailyDose = Dose(joulesPerCm2: 60)
        var rig = Rig.ready(settings, history: [DoseHistoryEntry(ageSeconds: 60, dose: Dose(joulesPerCm2: 30))])
        // 30 J/cm² delivered a minute ago: a 300 s plan (27 J/cm²) fits the remaining 30.
        #expect(rig.command(.start(StartArguments(durationSeconds: 300))).response?.ok == true)
        rig.run(for: 200)
        #expect(rig.state == .running)
        #expect(abs(rig.snapshot.dose24h.joulesPerCm2 - 48) < 0.1)
    }

    @Test func bootHistory_sliceEntries_countDoseButNoSession() {
        let history = [
            DoseHistoryEntry(ageSeconds: 3600, dose: Dose(joulesPerCm2: 20), sessions: 0),
            DoseHistoryEntry(ageSeconds: 60, dose: Dose(joulesPerCm2: 30), sessions: 0),
            DoseHistoryEntry(ageSeconds: 60, dose: .zero, sessions: 1),
        ]
        var rig = Rig.ready(history: history)
        #expect(rig.snapshot.sessions24h == 1)
        #expect(rig.snapshot.dose24h == Dose(joulesPerCm2: 50))
        // The older slice leaves first, 23 h from now; the newer one a minute before 24 h.
        Self.wait(&rig, 23 * 3600 + 2)
        #expect(rig.snapshot.dose24h == Dose(joulesPerCm2: 30))
        #expect(rig.snapshot.sessions24h == 1)
    }

    @Test func bootHistory_withNegativeAge_countsAsNow() {
        var rig = Rig.ready(history: [DoseHistoryEntry(ageSeconds: -5_000, dose: Dose(joulesPerCm2: 100))])
        Self.wait(&rig, 23 * 3600)
        #expect(rig.snapshot.dose24h == Dose(joulesPerCm2: 100))
    }
}

extension DeliveryWindowTests {
    @Test func bootHistory_withAbsurdAgesOrDoses_neitherTrapsNorCountsLess() {
        let history = [
            DoseHistoryEntry(ageSeconds: 1e300, dose: Dose(joulesPerCm2: 5)),
            DoseHistoryEntry(ageSeconds: -.infinity, dose: Dose(joulesPerCm2: 1)),
            DoseHistoryEntry(ageSeconds: .nan, dose: Dose(joulesPerCm2: .nan), sessions: 0),
        ]
        var rig = Rig.ready(history: history)
        #expect(rig.snapshot.sessions24h == 1)
        #expect(rig.command(.start(.init())).response?.code == .doseLimit)
    }
}
