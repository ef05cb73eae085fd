import Foundation
import Ledger
import SafetyCore
import TestKit
import Testing

/// The lifetime totals (issue 15): every dose slice ever booked and every second of emission, kept
/// by the ledger itself so retention, restarts and schema upgrades never reduce them.
@Suite("Ledger: lifetime totals")
struct LifetimeTotalsTests {
    static func expectTotals(
        _ totals: LifetimeTotals, dose: Double, seconds: Double, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(abs(totals.dose.joulesPerCm2 - dose) < 1e-9, "dose \(totals)", sourceLocation: sourceLocation)
        #expect(abs(totals.emittingSeconds - seconds) < 1e-9, "emitting \(totals)", sourceLocation: sourceLocation)
    }

    @Test func totals_growWithEverySlice_andWithEmittingTime_countingCheckpointsOnce() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            #expect(try ledger.lifetime() == .zero)
            try ledger.perform(.sessionOpened(plan("a")), unixMs: t0)
            // Each checkpoint and the close carry the session's running totals: only the increase is new.
            Self.expectTotals(
                try ledger.perform(.sessionCheckpoint(progress("a", seconds: 20, red: 1, nir: 0.8)), unixMs: t0 + 20_000),
                dose: 1.8, seconds: 20)
            Self.expectTotals(
                try ledger.perform(.sessionCheckpoint(progress("a", seconds: 40, red: 2, nir: 1.6)), unixMs: t0 + 40_000),
                dose: 3.6, seconds: 40)
            let closed = try ledger.perform(
                .sessionClosed(progress("a", seconds: 60, red: 3, nir: 2.4), reason: .duration), unixMs: t0 + 60_000)
            Self.expectTotals(closed, dose: 5.4, seconds: 60)
            #expect(try ledger.lifetime() == closed)
            // Light outside any session (S9) is dose too, but no session's emitting time.
            Self.expectTotals(
                try ledger.perform(.lightOutsideSession(Dose(joulesPerCm2: 0.25)), unixMs: t0 + 70_000),
                dose: 5.65, seconds: 60)
            // Records that book no light leave the totals as they are.
            try ledger.perform(.faultRaised(.overTemperature, detail: "hot"), unixMs: t0 + 80_000)
            try ledger.perform(.faultCleared(.overTemperature), unixMs: t0 + 90_000)
            try recordSession(ledger, "b", startMs: t0 + hourMs, seconds: 30, red: 1, nir: 1)
            Self.expectTotals(try ledger.lifetime(), dose: 7.65, seconds: 90)
        }
    }

    @Test func totals_surviveRetentionPurges_andAReopen() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path, retentionDays: 30)
                try recordSession(ledger, "old", startMs: t0 - 40 * dayMs)
                try ledger.perform(.lightOutsideSession(Dose(joulesPerCm2: 0.5)), unixMs: t0 - 40 * dayMs + hourMs)
                try recordSession(ledger, "middle", startMs: t0 - 10 * dayMs)
                try recordSession(ledger, "recent", startMs: t0)
                Self.expectTotals(try ledger.lifetime(), dose: 16.7, seconds: 180)
                // Retention deletes the old session, its slices and the old stray light…
                #expect(try ledger.purge(olderThanUnixMs: t0 - 30 * dayMs, nowUnixMs: t0 + hourMs) == 2)
                #expect(try ledger.sessions(limit: 10).map(\.id) == ["recent", "middle"])
                // …and the totals still hold them.
                Self.expectTotals(try ledger.lifetime(), dose: 16.7, seconds: 180)
                ledger.close()
            }
            // Reopened (and read-only, as `rlt-gateway history` does): the same totals.
            Self.expectTotals(try SessionLedger(readingOnly: path).lifetime(), dose: 16.7, seconds: 180)
            // Boot recovery purges past a shorter retention and reports the totals unchanged.
            let ledger = try SessionLedger(path: path, retentionDays: 5)
            let boot = try ledger.recover(nowUnixMs: t0 + hourMs)
            #expect(try ledger.sessions(limit: 10).map(\.id) == ["recent"], "boot recovery purged past the retention")
            Self.expectTotals(boot.lifetime, dose: 16.7, seconds: 180)
            Self.expectTotals(try ledger.lifetime(), dose: 16.7, seconds: 180)
            // And they go on growing from there.
            try recordSession(ledger, "next", startMs: t0 + 2 * hourMs)
            Self.expectTotals(try ledger.lifetime(), dose: 22.1, seconds: 240)
        }
    }

    @Test func bootRecovery_booksACrashedSessionsCeilingOnce_andReportsTheTotals() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try ledger.perform(.sessionOpened(plan("crashed", ceiling: 30)), unixMs: t0)
                try ledger.perform(
                    .sessionCheckpoint(progress("crashed", seconds: 15, red: 0.9, nir: 0.6)), unixMs: t0 + 15_000)
                ledger.close()
            }
            let ledger = try SessionLedger(path: path)
            let boot = try ledger.recover(nowUnixMs: t0 + hourMs)
            // The ceiling is what the window books for it; the emitting time is what was recorded.
            Self.expectTotals(boot.lifetime, dose: 30, seconds: 15)
            #expect(try ledger.lifetime() == boot.lifetime)
            let again = try SessionLedger(path: path).recover(nowUnixMs: t0 + 2 * hourMs)
            #expect(again.lifetime == boot.lifetime, "a second boot books nothing twice")
        }
    }

    @Test func totals_neverDecrease_evenWhenARecordReportsLessThanBefore() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let ledger = try SessionLedger(path: path)
            try ledger.perform(.sessionOpened(plan("a")), unixMs: t0)
            try ledger.perform(.sessionCheckpoint(progress("a", seconds: 30, red: 2, nir: 1)), unixMs: t0 + 30_000)
            // A close below the checkpoint (never sent by the core) takes nothing back.
            let closed = try ledger.perform(
                .sessionClosed(progress("a", seconds: 25, red: 1, nir: 1), reason: .stopCommand), unixMs: t0 + 31_000)
            Self.expectTotals(closed, dose: 3, seconds: 30)
            ledger.close()
            // Nor can anything else: the schema refuses to lower or delete the totals.
            for statement in [
                "UPDATE lifetime SET dose_j_cm2 = 0", "UPDATE lifetime SET emitting_s = 1", "DELETE FROM lifetime",
            ] {
                let result = run("/usr/bin/sqlite3", [path, statement])
                #expect(result.status != 0, "\(statement) was allowed")
                #expect(result.output.contains("lifetime totals"), "\(statement): \(result.output)")
            }
            Self.expectTotals(try SessionLedger(path: path).lifetime(), dose: 3, seconds: 30)
        }
    }

    @Test func migration_fromAV2Ledger_initialisesTheTotalsFromItsRows() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try recordSession(ledger, "a", startMs: t0)
                try recordSession(ledger, "b", startMs: t0 + hourMs, seconds: 30, red: 1, nir: 1)
                try ledger.perform(.lightOutsideSession(Dose(joulesPerCm2: 0.5)), unixMs: t0 + 2 * hourMs)
                ledger.close()
            }
            // Turn the file into what version 2 of the schema left: slices, no clock trust, no totals.
            let downgrade = run(
                "/usr/bin/sqlite3",
                [
                    path,
                    """
                    DROP TRIGGER lifetime_never_deleted; DROP TABLE lifetime;
                    DROP TRIGGER lifetime_dose; DROP TRIGGER lifetime_emitting; DROP TRIGGER lifetime_emitting_inserted;
                    DROP INDEX session_provisional; DROP INDEX dose_slice_provisional;
                    ALTER TABLE session DROP COLUMN last_trusted; ALTER TABLE session DROP COLUMN last_boot_id;
                    ALTER TABLE session DROP COLUMN last_mono_ms;
                    ALTER TABLE dose_slice DROP COLUMN trusted; ALTER TABLE dose_slice DROP COLUMN boot_id;
                    ALTER TABLE dose_slice DROP COLUMN mono_ms;
                    DELETE FROM grdb_migrations WHERE identifier IN ('v3 clock trust', 'v4 lifetime totals');
                    SELECT count(*) FROM sqlite_master WHERE name LIKE 'lifetime%';
                    """,
                ])
            guard downgrade.status == 0 else {
                print("skipped: sqlite3 could not downgrade the ledger: \(downgrade.output)")
                return
            }
            #expect(downgrade.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(downgrade.output)")
            let ledger = try SessionLedger(path: path)
            Self.expectTotals(try ledger.lifetime(), dose: 7.9, seconds: 90)
            // From then on the triggers keep them.
            try recordSession(ledger, "c", startMs: t0 + 3 * hourMs)
            Self.expectTotals(try ledger.lifetime(), dose: 13.3, seconds: 150)
        }
    }
}
