import Foundation
import Ledger
import SafetyCore
import TestKit
import Testing

@Suite("Session ledger on real SQLite files")
struct SessionLedgerTests {
    @Test func open_whenFileAndDirectoryMissing_createsAnEmptyLedgerInWALMode() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/var/lib/rlt-gateway/ledger.sqlite"
            let ledger = try SessionLedger(path: path)
            #expect(try ledger.sessions(limit: 10).isEmpty)
            #expect(try ledger.faults(limit: 10).isEmpty)
            let boot = try ledger.recover(nowUnixMs: t0)
            #expect(boot == BootContext())

            // The WAL file exists while the ledger is open, and the header's read/write format
            // versions (bytes 18 and 19) are 2, which is how SQLite marks a WAL database on disk.
            #expect(fileExists(path + "-wal"))
            let header = try #require(fileBytes(path)).prefix(20)
            #expect(header.prefix(16) == Data("SQLite format 3\0".utf8))
            #expect(Array(header.suffix(2)) == [2, 2])
        }
    }

    @Test func sessionClosed_thenReopened_historyHasItWithAgeAndDose() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try recordSession(ledger, "s1", startMs: t0, seconds: 600, red: 30, nir: 24)
            }
            let ledger = try SessionLedger(path: path)
            let now = t0 + 2 * hourMs
            let boot = try ledger.recover(nowUnixMs: now)
            #expect(boot.uncleanSessionID == nil)
            // Light by delivery time, aged from the newest record (the close at t0 + 600 s): the clock
            // may have jumped forward since, so the 2 h it reads cannot take light out of the window.
            #expect(
                boot.history == [
                    DoseHistoryEntry(ageSeconds: 300, dose: Dose(joulesPerCm2: 27), sessions: 0),
                    DoseHistoryEntry(ageSeconds: 0, dose: Dose(joulesPerCm2: 27), sessions: 0),
                    DoseHistoryEntry(ageSeconds: 0, dose: .zero, sessions: 1),
                ])

            let row = try #require(try ledger.sessions(limit: 1).first)
            #expect(row.id == "s1")
            #expect(row.startedAtUnixMs == t0)
            #expect(row.endedAtUnixMs == t0 + 600_000)
            #expect(row.checkpointAtUnixMs == t0 + 300_000)
            #expect(row.channels == .both)
            #expect(row.plannedSeconds == 600)
            #expect(row.doseCeiling == Dose(joulesPerCm2: 30))
            #expect(row.emittingSeconds == 600)
            #expect(row.doseRed == Dose(joulesPerCm2: 30))
            #expect(row.doseNIR == Dose(joulesPerCm2: 24))
            #expect(row.doseTotal == Dose(joulesPerCm2: 54))
            #expect(row.sessionEndReason == .duration)
            #expect(row.recoveredAtUnixMs == nil)
            #expect(!row.isOpen)
        }
    }

    @Test func recover_reportsHowLongAgoTheNewestSessionEnded_forTheCooldown() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let empty = try SessionLedger(path: path)
                #expect(try empty.recover(nowUnixMs: t0).lastSessionEndedAgeSeconds == nil)
                try recordSession(empty, "s1", startMs: t0, seconds: 600, red: 30, nir: 24)
            }
            let ledger = try SessionLedger(path: path)
            // Ended at t0 + 600 s, the newest record: however late the clock reads now, the rest period
            // is measured from there, so a forward jump cannot shorten it.
            #expect(try ledger.recover(nowUnixMs: t0 + 630_000).lastSessionEndedAgeSeconds == 0)
        }
    }

    @Test func recover_countsAnUncleanSessionAsEndingAtRecovery() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try ledger.perform(.sessionOpened(plan("crashed")), unixMs: t0)
            }
            let ledger = try SessionLedger(path: path)
            let boot = try ledger.recover(nowUnixMs: t0 + hourMs)
            #expect(boot.uncleanSessionID == "crashed")
            #expect(boot.lastSessionEndedAgeSeconds == 0)
        }
    }

    @Test func sessions_whenSeveralRecorded_listsNewestFirstUpToTheLimit() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            for index in 0..<4 {
                try recordSession(ledger, "s\(index)", startMs: t0 + Int64(index) * hourMs)
            }
            #expect(try ledger.sessions(limit: 3).map(\.id) == ["s3", "s2", "s1"])
            #expect(try ledger.sessions(limit: 0).isEmpty)
        }
    }

    /// A session left open by a crash: the ledger is dropped without the session being closed, exactly
    /// what the file holds after `kill -9` (every record was already committed when `perform` returned).
    @Test(arguments: [
        // (checkpoint total, ceiling, booked)
        (5.4, 30.0, 30.0),  // normal case: the ceiling is what the session could have reached
        (31.0, 30.0, 31.0),  // a checkpoint past the ceiling (one tick's overshoot) is booked as measured
    ])
    func recover_whenSessionLeftOpenByCrash_closesItAsUncleanWithConservativeDose(
        checkpoint: Double, ceiling: Double, booked: Double
    ) throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try recordSession(ledger, "earlier", startMs: t0 - hourMs)
                try ledger.perform(.sessionOpened(plan("crashed", ceiling: ceiling)), unixMs: t0)
                try ledger.perform(
                    .sessionCheckpoint(progress("crashed", seconds: 60, red: checkpoint / 2, nir: checkpoint / 2)),
                    unixMs: t0 + 60_000)
            }
            let ledger = try SessionLedger(path: path)
            let now = t0 + 10 * 60_000
            let boot = try ledger.recover(nowUnixMs: now)
            #expect(boot.uncleanSessionID == "crashed")
            // Aged from the newest record (the checkpoint at t0 + 60 s); the unrecorded rest of the crashed
            // session is booked at recovery, the latest it can have been delivered.
            let earlier = [
                DoseHistoryEntry(ageSeconds: 3630, dose: Dose(joulesPerCm2: 2.7), sessions: 0),
                DoseHistoryEntry(ageSeconds: 3600, dose: Dose(joulesPerCm2: 2.7), sessions: 0),
                DoseHistoryEntry(ageSeconds: 3600, dose: .zero, sessions: 1),
            ]
            let crashedLight =
                booked > checkpoint
                ? [Dose(joulesPerCm2: checkpoint), Dose(joulesPerCm2: booked - checkpoint)]
                : [Dose(joulesPerCm2: booked)]
            let crashed =
                crashedLight.map { DoseHistoryEntry(ageSeconds: 0, dose: $0, sessions: 0) }
                + [DoseHistoryEntry(ageSeconds: 0, dose: .zero, sessions: 1)]
            #expect(boot.history == earlier + crashed)

            let row = try #require(try ledger.sessions(limit: 1).first)
            #expect(row.id == "crashed")
            #expect(row.endReason == "unclean_shutdown")
            #expect(row.sessionEndReason == .uncleanShutdown)
            #expect(row.doseTotal == Dose(joulesPerCm2: booked))
            #expect(row.doseRed + row.doseNIR == Dose(joulesPerCm2: checkpoint))
            #expect(row.emittingSeconds == 60)
            #expect(row.endedAtUnixMs == t0 + 60_000)
            #expect(row.recoveredAtUnixMs == now)

            // Recovery is done once: the next boot finds nothing open and reports no unclean session.
            let again = try ledger.recover(nowUnixMs: now + 1000)
            #expect(again.uncleanSessionID == nil)
            #expect(again.history.map(\.dose) == boot.history.map(\.dose))
        }
    }

    /// The files a power cut leaves behind: copied (database and WAL) while the ledger is still open and
    /// has not checkpointed, so the committed session rows exist only in the WAL.
    @Test func recover_fromFilesCopiedWhileLedgerOpen_findsTheOpenSession() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let image = dir + "/image/ledger.sqlite"
            try FileManager.default.createDirectory(atPath: dir + "/image", withIntermediateDirectories: true)
            let ledger = try SessionLedger(path: path)
            try ledger.perform(.sessionOpened(plan("s1", ceiling: 45)), unixMs: t0)
            try ledger.perform(.sessionCheckpoint(progress("s1", seconds: 5, red: 0.25, nir: 0.2)), unixMs: t0 + 5000)
            try FileManager.default.copyItem(atPath: path, toPath: image)
            try FileManager.default.copyItem(atPath: path + "-wal", toPath: image + "-wal")

            let recovered = try SessionLedger(path: image)
            let boot = try recovered.recover(nowUnixMs: t0 + 60_000)
            #expect(boot.uncleanSessionID == "s1")
            #expect(abs(windowDose(boot) - 45) < 1e-9)
            #expect(windowSessions(boot) == 1)
            // The original, still running, is unaffected: its session stays open.
            #expect(try ledger.sessions(limit: 1).first?.isOpen == true)
        }
    }

    @Test func recover_whenSessionsOlderThan24hBeforeTheNewestRecord_excludesThemButKeepsTheirRows() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            let now = t0 + 30 * dayMs
            // The newest record is "recent"'s close at `newest`; the window reaches 24 h back from there.
            let newest = now - hourMs + 60_000
            try recordSession(ledger, "two-days", startMs: newest - 2 * dayMs)
            try recordSession(ledger, "just-over", startMs: newest - dayMs - 60_001)
            try recordSession(ledger, "just-inside", startMs: newest - dayMs - 30_000)
            try recordSession(ledger, "recent", startMs: now - hourMs)

            let boot = try ledger.recover(nowUnixMs: now)
            // just-inside: its checkpoint at 30 s is on the edge, its close 30 s inside; recent: both.
            #expect(boot.history.map(\.ageSeconds) == [86_400, 86_370, 86_370, 30, 0, 0])
            #expect(windowSessions(boot) == 2)
            #expect(try ledger.sessions(limit: 10).count == 4)
        }
    }

    @Test func recover_whenWallClockWentBackwards_keepsLaterSessionsWithAgeZero() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            try recordSession(ledger, "before", startMs: t0 - hourMs)
            try recordSession(ledger, "after-jump", startMs: t0 + 3 * dayMs)
            // The board booted without its RTC: the clock now reads earlier than both sessions.
            let boot = try ledger.recover(nowUnixMs: t0 - 2 * hourMs)
            #expect(boot.history.allSatisfy { $0.ageSeconds == 0 })
            #expect(windowSessions(boot) == 2)
            #expect(abs(windowDose(boot) - 10.8) < 1e-9)
        }
    }

    /// `rlt-gateway history` opens the same file while the daemon runs; WAL lets both work.
    @Test func secondLedgerOnTheSameFile_whileTheFirstWrites_seesEveryCommittedRecord() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let daemon = try SessionLedger(path: path)
            try daemon.perform(.sessionOpened(plan("s1")), unixMs: t0)
            let reader = try SessionLedger(path: path)
            #expect(try reader.sessions(limit: 5).map(\.isOpen) == [true])
            try daemon.perform(.sessionCheckpoint(progress("s1", seconds: 10, red: 0.5, nir: 0.4)), unixMs: t0 + 10_000)
            #expect(try reader.sessions(limit: 5).first?.doseTotal == Dose(joulesPerCm2: 0.9))
        }
    }

    @Test func checkpoint_withALowerDoseThanBefore_neverLowersTheBookedTotal() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            try ledger.perform(.sessionOpened(plan("s1")), unixMs: t0)
            try ledger.perform(.sessionCheckpoint(progress("s1", seconds: 20, red: 1, nir: 1)), unixMs: t0 + 20_000)
            try ledger.perform(.sessionCheckpoint(progress("s1", seconds: 10, red: 0.5, nir: 0.5)), unixMs: t0 + 30_000)
            let row = try #require(try ledger.sessions(limit: 1).first)
            #expect(row.doseTotal == Dose(joulesPerCm2: 2))
            #expect(row.doseRed == Dose(joulesPerCm2: 0.5))
            #expect(row.checkpointAtUnixMs == t0 + 30_000)
        }
    }

    @Test func presetsChanged_thenReopened_recoverReturnsTheLatest() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let first = SafetySettings.Presets(
                channels: .red, intensityPercent: 80, durationSeconds: 300, doseTarget: Dose(joulesPerCm2: 12))
            let second = SafetySettings.Presets(
                channels: .nir, intensityPercent: 100, durationSeconds: 900, doseTarget: nil)
            do {
                let ledger = try SessionLedger(path: path)
                #expect(try ledger.recover(nowUnixMs: t0).persistedPresets == nil)
                try ledger.perform(.presetsChanged(first), unixMs: t0)
            }
            do {
                let ledger = try SessionLedger(path: path)
                #expect(try ledger.recover(nowUnixMs: t0 + 1).persistedPresets == first)
                try ledger.perform(.presetsChanged(second), unixMs: t0 + 2)
            }
            let ledger = try SessionLedger(path: path)
            #expect(try ledger.recover(nowUnixMs: t0 + 3).persistedPresets == second)
        }
    }

    @Test func faultRaisedAndCleared_areLoggedNewestFirst() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            try ledger.perform(.faultRaised(.overTemperature, detail: "panel 66.1 °C ≥ cutoff 65.0 °C"), unixMs: t0)
            try ledger.perform(.faultRaised(.sensorStale, detail: "no sample for 3 s"), unixMs: t0 + 1000)
            try ledger.perform(.faultCleared(.overTemperature), unixMs: t0 + 5000)
            // Clearing a fault the log never saw raised writes nothing and is not an error.
            try ledger.perform(.faultCleared(.storage), unixMs: t0 + 6000)

            let faults = try ledger.faults(limit: 10)
            #expect(faults.map(\.code) == ["F_SENSOR_STALE", "F_OVERTEMP"])
            #expect(faults.map(\.faultCode) == [.sensorStale, .overTemperature])
            #expect(faults[0].clearedAtUnixMs == nil)
            #expect(faults[1].raisedAtUnixMs == t0)
            #expect(faults[1].clearedAtUnixMs == t0 + 5000)
            #expect(faults[1].detail == "panel 66.1 °C ≥ cutoff 65.0 °C")
            #expect(try ledger.faults(limit: 1).map(\.code) == ["F_SENSOR_STALE"])
        }
    }

    @Test func checkpointOrClose_whenSessionUnknown_throwsAndInventsNoRow() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            #expect(
                ledgerErrorKind {
                    try ledger.perform(.sessionCheckpoint(progress("ghost", seconds: 1, red: 0, nir: 0)), unixMs: t0)
                } == .unknownSession)
            #expect(
                ledgerErrorKind {
                    try ledger.perform(
                        .sessionClosed(progress("ghost", seconds: 1, red: 0, nir: 0), reason: .stopCommand), unixMs: t0)
                } == .unknownSession)
            #expect(try ledger.sessions(limit: 10).isEmpty)
        }
    }

    @Test func recordsForAClosedOrDuplicateSession_throwAndChangeNothing() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite")
            try recordSession(ledger, "s1", startMs: t0)
            let before = try ledger.sessions(limit: 10)

            #expect(
                ledgerErrorKind {
                    try ledger.perform(.sessionCheckpoint(progress("s1", seconds: 99, red: 9, nir: 9)), unixMs: t0 + 1)
                } == .sessionClosed)
            #expect(
                ledgerErrorKind {
                    try ledger.perform(
                        .sessionClosed(progress("s1", seconds: 99, red: 9, nir: 9), reason: .stopCommand),
                        unixMs: t0 + 1)
                } == .sessionClosed)
            #expect(
                ledgerErrorKind {
                    try ledger.perform(.sessionOpened(plan("s1")), unixMs: t0 + 1)
                } == .duplicateSession)
            #expect(try ledger.sessions(limit: 10) == before)
        }
    }

    @Test func purge_deletesOldClosedRowsButNeverTheLast24hOrAnOpenSession() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite", retentionDays: 30)
            let now = t0 + 100 * dayMs
            try recordSession(ledger, "old", startMs: now - 40 * dayMs)
            try ledger.perform(.sessionOpened(plan("old-open")), unixMs: now - 39 * dayMs)
            try ledger.perform(.faultRaised(.overTemperature, detail: "old"), unixMs: now - 40 * dayMs)
            try ledger.perform(.faultCleared(.overTemperature), unixMs: now - 40 * dayMs + 1)
            try ledger.perform(.faultRaised(.sensorStale, detail: "still latched"), unixMs: now - 40 * dayMs)
            try recordSession(ledger, "yesterday", startMs: now - 20 * hourMs)

            // Asked to purge everything up to now: the last 24 h stay, and so does the open session.
            let deleted = try ledger.purge(olderThanUnixMs: now, nowUnixMs: now)
            #expect(deleted == 2)
            #expect(try ledger.sessions(limit: 10).map(\.id) == ["yesterday", "old-open"])
            #expect(try ledger.faults(limit: 10).map(\.code) == ["F_SENSOR_STALE"])
        }
    }

    @Test func recover_appliesRetentionAfterClosingTheCrashedSession() throws {
        try withTemporaryDirectory { dir in
            let ledger = try SessionLedger(path: dir + "/ledger.sqlite", retentionDays: 30)
            let now = t0 + 100 * dayMs
            try recordSession(ledger, "old", startMs: now - 70 * dayMs)
            try ledger.perform(.sessionOpened(plan("crashed-long-ago")), unixMs: now - 80 * dayMs)
            try recordSession(ledger, "kept", startMs: now - 29 * dayMs)

            let boot = try ledger.recover(nowUnixMs: now)
            #expect(boot.uncleanSessionID == "crashed-long-ago")
            // Retention runs back from the newest record ("kept"), not from a clock that may have jumped.
            // The recovered session stays, as the explanation of F_UNCLEAN_SHUTDOWN, however old it is.
            #expect(try ledger.sessions(limit: 10).map(\.id) == ["kept", "crashed-long-ago"])
            // Its unrecorded light (the 30 J/cm² ceiling) counts as delivered at recovery.
            #expect(abs(windowDose(boot) - (5.4 + 30)) < 1e-9)
        }
    }
}
