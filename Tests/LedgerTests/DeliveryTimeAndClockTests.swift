import Foundation
import Ledger
import SafetyCore
import TestKit
import Testing

/// The boot history counts light by when it was delivered (S3), and a wall clock that is wrong at boot
/// or stepped while running never shrinks the 24 h window or the history.
@Suite("Ledger: delivery time and wall-clock trust")
struct DeliveryTimeAndClockTests {
    /// Start, a first checkpoint, a pause of `pauseMs`, the rest of the session, closed at 54 J/cm².
    static func recordPausedSession(_ ledger: SessionLedger, startMs: Int64, pauseMs: Int64) throws -> Int64 {
        try ledger.perform(.sessionOpened(plan("paused", ceiling: 54)), unixMs: startMs)
        try ledger.perform(
            .sessionCheckpoint(progress("paused", seconds: 5, red: 0.25, nir: 0.2)), unixMs: startMs + 5000)
        let resumedAt = startMs + 10_000 + pauseMs
        try ledger.perform(
            .sessionCheckpoint(progress("paused", seconds: 300, red: 15, nir: 12)), unixMs: resumedAt + 295_000)
        let endMs = resumedAt + 590_000
        try ledger.perform(
            .sessionClosed(progress("paused", seconds: 600, red: 30, nir: 24), reason: .duration), unixMs: endMs)
        return endMs
    }

    @Test func recover_afterASessionPausedForMoreThan24h_countsItsLightByDeliveryTime() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            let endMs = try Self.recordPausedSession(ledger, startMs: t0, pauseMs: 25 * hourMs)
            let boot = try ledger.recover(nowUnixMs: endMs + 10 * 60_000)
            // Everything but the 0.45 J/cm² before the pause was delivered within the last 24 h.
            #expect(abs(windowDose(boot) - 53.55) < 1e-9)
            #expect(windowSessions(boot) == 1)
        }
    }

    @Test func migration_fromALedgerWithoutSlices_countsEachSessionsDoseAtItsEnd() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let endMs: Int64
            do {
                let ledger = try SessionLedger(path: path)
                endMs = try Self.recordPausedSession(ledger, startMs: t0, pauseMs: 25 * hourMs)
            }
            // Turn the file into what the version before slices left: no slices, no v2 or v3 migration.
            let downgrade = run(
                "/usr/bin/sqlite3",
                [
                    path,
                    """
                    DROP TABLE dose_slice; DROP INDEX session_provisional;
                    ALTER TABLE session DROP COLUMN last_trusted; ALTER TABLE session DROP COLUMN last_boot_id;
                    ALTER TABLE session DROP COLUMN last_mono_ms;
                    DELETE FROM grdb_migrations WHERE identifier IN ('v2 dose slices', 'v3 clock trust');
                    """,
                ])
            guard downgrade.status == 0 else {
                print("skipped: sqlite3 could not downgrade the ledger: \(downgrade.output)")
                return
            }
            let ledger = try SessionLedger(path: path)
            let boot = try ledger.recover(nowUnixMs: endMs + 10 * 60_000)
            #expect(
                boot.history == [
                    DoseHistoryEntry(ageSeconds: 0, dose: Dose(joulesPerCm2: 54), sessions: 0),
                    DoseHistoryEntry(ageSeconds: 0, dose: .zero, sessions: 1),
                ])
        }
    }

    @Test func recover_whenTheClockJumpedAYearAhead_countsThe24hBeforeTheNewestRecordAndPurgesNothing() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite", retentionDays: 30)
            try recordSession(ledger, "older", startMs: t0 - 20 * dayMs)
            try recordSession(ledger, "recent", startMs: t0)
            let boot = try ledger.recover(nowUnixMs: t0 + 365 * dayMs)
            #expect(abs(windowDose(boot) - 5.4) < 1e-9)
            #expect(windowSessions(boot) == 1)
            // Retention counts back from the newest record, not from the jumped clock: "older" stays.
            #expect(try ledger.sessions(limit: 10).map(\.id) == ["recent", "older"])
        }
    }

    @Test func purge_whenTheClockIsBehindTheNewestRecord_deletesNothing() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite", retentionDays: 1)
            try recordSession(ledger, "old", startMs: t0 - 40 * dayMs)
            try recordSession(ledger, "recent", startMs: t0)
            // A board that booted in 1970 asks to purge "everything older than a day".
            #expect(try ledger.purge(olderThanUnixMs: 0, nowUnixMs: dayMs) == 0)
            #expect(try ledger.purge(olderThanUnixMs: t0, nowUnixMs: t0 - hourMs) == 0)
            #expect(try ledger.sessions(limit: 10).count == 2)
        }
    }

    @Test func purge_whenTheClockJumpedForward_neverDeletesThe24hBeforeTheNewestRecord() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            try recordSession(ledger, "old", startMs: t0 - 40 * dayMs)
            try recordSession(ledger, "recent", startMs: t0)
            try ledger.perform(.faultRaised(.overTemperature, detail: "x"), unixMs: t0 + 1000)
            try ledger.perform(.faultCleared(.overTemperature), unixMs: t0 + 2000)
            let jumped = t0 + 400 * dayMs
            #expect(try ledger.purge(olderThanUnixMs: jumped, nowUnixMs: jumped) == 1)
            #expect(try ledger.sessions(limit: 10).map(\.id) == ["recent"])
            #expect(try ledger.faults(limit: 10).count == 1)
        }
    }

    @Test func slicesWrittenWhileTheClockIsBehind_moveForwardWhenNTPStepsIt_andStayInTheWindow() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try recordSession(ledger, "before", startMs: t0 - 3 * dayMs)
                // The board boots in 1970; a session runs; NTP steps the clock to t0 mid-session.
                let boot1970: Int64 = 20_000
                try ledger.perform(.sessionOpened(plan("rtcless", ceiling: 54)), unixMs: boot1970)
                try ledger.perform(
                    .sessionCheckpoint(progress("rtcless", seconds: 300, red: 15, nir: 12)), unixMs: boot1970 + 300_000)
                try ledger.perform(
                    .sessionClosed(progress("rtcless", seconds: 600, red: 30, nir: 24), reason: .duration),
                    unixMs: t0)
            }
            let ledger = try SessionLedger(path: path)
            let boot = try ledger.recover(nowUnixMs: t0 + 23 * hourMs)
            // All 54 J/cm² of the session count; without the step forward the first half would look as
            // old as "before" and fall out of the window.
            #expect(abs(windowDose(boot) - 54) < 1e-9)
            #expect(windowSessions(boot) == 1)
        }
    }

    @Test func lightOutsideSession_countsInTheBootHistory_andIsPurgedLikeSessions() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite", retentionDays: 30)
            try ledger.perform(.lightOutsideSession(Dose(joulesPerCm2: 0.9)), unixMs: t0 - 40 * dayMs)
            try ledger.perform(.lightOutsideSession(Dose(joulesPerCm2: 0.45)), unixMs: t0)
            let boot = try ledger.recover(nowUnixMs: t0 + hourMs)
            #expect(boot.history == [DoseHistoryEntry(ageSeconds: 0, dose: Dose(joulesPerCm2: 0.45), sessions: 0)])
            // The 40-day-old slice went with the boot-time retention purge; the recent one stays.
            let again = try ledger.recover(nowUnixMs: t0 + 2 * hourMs)
            #expect(again.history == boot.history)
            #expect(try ledger.purge(olderThanUnixMs: t0 - dayMs, nowUnixMs: t0 + hourMs) == 0)
        }
    }
}
