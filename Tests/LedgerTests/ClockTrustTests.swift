import Foundation
import Ledger
import SafetyCore
import TestKit
import Testing

/// Stamps written while the kernel does not trust the wall clock are provisional: they never age
/// the 24 h history, never become the floor and never decide a purge (issue 12, defect 4).
@Suite("Ledger: stamps under an untrusted wall clock")
struct ClockTrustTests {
    static func untrusted(unixMs: Int64, boot: String, monotonicMs: Int64 = 5_000) -> LedgerTime {
        LedgerTime(unixMs: unixMs, trusted: false, bootID: boot, monotonicMs: monotonicMs)
    }

    @Test func aBoardBootingAYearAheadTwice_neitherAgesNorPurgesTheSessionsBefore() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let yearAhead = t0 + 365 * dayMs
            do {
                let ledger = try SessionLedger(path: path, retentionDays: 30)
                try recordSession(ledger, "before", at: .trusted(unixMs: t0))
                // Power cut; the board boots a year ahead and NTP has not reached it: a session runs.
                let boot = Self.untrusted(unixMs: yearAhead, boot: "b2")
                _ = try ledger.recover(at: boot)
                try recordSession(ledger, "ahead", at: boot.later(by: 60_000))
            }
            // Power cut again; the same wrong clock, still not synchronised, two hours on.
            let ledger = try SessionLedger(path: path, retentionDays: 30)
            let history = try ledger.recover(at: Self.untrusted(unixMs: yearAhead + 2 * hourMs, boot: "b3"))
            #expect(abs(windowDose(history) - 10.8) < 1e-9)
            #expect(windowSessions(history) == 2)
            #expect(Set(try ledger.sessions(limit: 10).map(\.id)) == ["before", "ahead"])
        }
    }

    @Test func recordsOfTheSameBoot_settleExactlyFromTheMonotonicClock_whenNTPSyncs() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                // Booted in 1970; a session ends at monotonic 61 s; NTP syncs ten minutes later.
                let boot = Self.untrusted(unixMs: 1_000, boot: "b1", monotonicMs: 1_000)
                try recordSession(ledger, "rtcless", at: boot)
                let synced = LedgerTime(unixMs: t0, trusted: true, bootID: "b1", monotonicMs: 661_000)
                try ledger.perform(.lightOutsideSession(Dose(joulesPerCm2: 0.1)), at: synced)
            }
            let ledger = try SessionLedger(path: path)
            let history = try ledger.recover(nowUnixMs: t0 + hourMs)
            // Ages count from the newest record (the sync): the session ended exactly 10 min before it (its
            // checkpoint 30 s earlier), not "just now" and not 56 years before.
            #expect(history.history.map(\.ageSeconds) == [630, 600, 600, 0])
            #expect(abs(windowDose(history) - 5.5) < 1e-9)
            #expect(try ledger.sessions(limit: 1).first?.endedAtUnixMs == t0 - 600_000)
        }
    }

    @Test func aDaemonRestartInTheSameBoot_agesItsRecordsByTheMonotonicClock() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try recordSession(ledger, "s", at: Self.untrusted(unixMs: t0, boot: "b1", monotonicMs: 1_000))
            }
            // systemd restarts the daemon two hours later; the wall clock now reads a year ahead.
            let ledger = try SessionLedger(path: path)
            let restart = Self.untrusted(unixMs: t0 + 365 * dayMs, boot: "b1", monotonicMs: 61_000 + 2 * hourMs)
            let history = try ledger.recover(at: restart)
            #expect(history.lastSessionEndedAgeSeconds == 7_200)
            #expect(abs(windowDose(history) - 5.4) < 1e-9)
        }
    }

    @Test func provisionalRecordsOfAnEarlierBoot_countAsJustNow_untilATrustedBootSettlesThem() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path, retentionDays: 1)
                try recordSession(ledger, "unsynced", at: Self.untrusted(unixMs: 50_000, boot: "b1"))
            }
            do {
                // Another boot, still unsynchronised: nothing tells how long ago the session was.
                let ledger = try SessionLedger(path: path, retentionDays: 1)
                let history = try ledger.recover(at: Self.untrusted(unixMs: 90_000, boot: "b2"))
                #expect(history.lastSessionEndedAgeSeconds == 0)
                #expect(abs(windowDose(history) - 5.4) < 1e-9)
            }
            do {
                // A trusted boot: the session was before it, so it is settled at it (the latest it can be).
                let ledger = try SessionLedger(path: path, retentionDays: 1)
                let trustedBoot = LedgerTime(unixMs: t0, trusted: true, bootID: "b3", monotonicMs: 9)
                let history = try ledger.recover(at: trustedBoot)
                #expect(abs(windowDose(history) - 5.4) < 1e-9)
                #expect(try ledger.sessions(limit: 1).first?.endedAtUnixMs == t0)
            }
            // From then on it ages with the trusted clock and is purged like any other.
            let ledger = try SessionLedger(path: path, retentionDays: 1)
            try ledger.perform(.lightOutsideSession(Dose(joulesPerCm2: 0.1)), unixMs: t0 + 3 * dayMs)
            let history = try ledger.recover(nowUnixMs: t0 + 3 * dayMs)
            #expect(abs(windowDose(history) - 0.1) < 1e-9)
            #expect(try ledger.sessions(limit: 10).isEmpty)
        }
    }

    @Test func anUntrustedClock_purgesNothing() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path, retentionDays: 1)
                try recordSession(ledger, "old", at: .trusted(unixMs: t0 - 40 * dayMs))
                try recordSession(ledger, "recent", at: .trusted(unixMs: t0))
            }
            let ledger = try SessionLedger(path: path, retentionDays: 1)
            _ = try ledger.recover(at: Self.untrusted(unixMs: t0 + 400 * dayMs, boot: "b9"))
            #expect(try ledger.sessions(limit: 10).count == 2)
        }
    }
}
