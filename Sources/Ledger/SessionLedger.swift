import Foundation
internal import GRDB
public import SafetyCore
import Synchronization

/// The crash-safe record of sessions, faults and presets that the safety rules depend on: the rolling
/// 24 h dose and session count (S3) and the recovery of a session a crash left open (S13).
///
/// One SQLite file in write-ahead-log mode, written through one serial GRDB connection. Every write is a
/// transaction that is on disk when the call returns, because the gateway records `sessionOpened`
/// BEFORE it switches emission on: a power cut after that must still find the open session at the next
/// boot, or the 24 h total would under-count.
///
/// Durability: `journal_mode = WAL` with `synchronous = FULL`. With WAL, `NORMAL` only syncs at
/// checkpoints, so the last commits before a power cut may be rolled back (consistent, but not
/// durable); that is exactly the session-opened row the rules need. `FULL` syncs the WAL on every
/// commit: one `fsync` per record, a few per minute while a session runs, which is nothing on any
/// storage this runs on. WAL also lets `rlt-gateway history` read while the daemon writes.
///
/// Wall-clock trust: a board without a real-time clock boots with a wrong time and NTP steps it later,
/// so the ledger never lets the wall clock shrink the 24 h window (S3) or the history. Every record
/// comes with a ``LedgerTime``: the wall clock, whether the kernel trusts it (synchronised, or set
/// from a real-time clock) and the monotonic clock of its kernel boot.
/// * Stamps written while the clock is **not trusted** are *provisional*: they never become the floor,
///   never decide a purge, and are settled later — exactly (from the monotonic clock) for records of
///   the same kernel boot, otherwise at the first trusted moment after them, the latest their light
///   can have been delivered. Until then a provisional record of an earlier boot counts as just now.
///   A board that boots a year ahead therefore cannot make earlier sessions look a year old.
/// * The **floor** is the newest *trusted* stamp of light or a session's end (never earlier than
///   ``earliestPlausibleUnixMs``); time cannot truly have gone back behind it.
/// * At boot, ages are measured from `min(now, floor)`, trusted clock or not: a clock ahead of the
///   floor may have jumped forward, so light within 24 h of the newest record still counts; a clock
///   behind it counts every record at or after `now - 24 h`, newer ones as delivered just now.
/// * A trusted dose slice is never stamped before the floor, and slices written while a trusted clock
///   was behind it are moved forward to the first later stamp once the clock has caught up.
/// * Nothing is purged while the clock is untrusted or behind the floor, and never anything within
///   24 h (or, at boot, within `retentionDays`) of the floor, whatever the clock says.
///
/// The ledger never "repairs" a damaged file by starting a new one: a file that is not SQLite, fails
/// `PRAGMA quick_check`, is empty, belongs to another application or was written by a newer schema
/// is refused with a ``LedgerError`` and left untouched.
public final class SessionLedger: Sendable {
    /// The SQLite file.
    public let path: String
    /// Sessions and cleared faults older than this are deleted at boot (never any of the last 24 h).
    public let retentionDays: Int
    /// `DatabaseQueue` is `Sendable`: it serialises every access on its own dispatch queue.
    private let queue: DatabaseQueue
    /// The id of the first dose slice this process stamped at the floor because the wall clock read
    /// earlier than it; `nil` while the clock is not behind. Only touched inside write transactions.
    private let stampedAtFloorSince = Mutex<Int64?>(nil)
    /// Whether the file may hold provisional stamps (written while the clock was not trusted) that the
    /// next trusted record settles. True at open: an earlier run may have left some.
    private let mayHoldProvisional = Mutex(true)

    /// No wall time before this (2025-01-01) is taken at face value: a board without a real-time clock
    /// boots in 1970, and light recorded then must not look 55 years old once NTP has stepped the clock.
    public static let earliestPlausibleUnixMs: Int64 = 1_735_689_600_000

    /// Opens (creating if missing) the ledger at `path`, checks it and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - path: the SQLite file (`storage.path`); its parent directory is created when missing.
    ///   - retentionDays: how long history is kept; at least 1.
    /// - Throws: ``LedgerError`` when the directory cannot be created, the file cannot be opened or
    ///   written, is not an intact rlt-gateway ledger, or was migrated by a newer version.
    public init(path: String, retentionDays: Int = 365) throws {
        self.path = path
        self.retentionDays = retentionDays
        guard retentionDays >= 1 else {
            throw LedgerError.invalidArgument(
                path: path, operation: "opening", detail: "retention of \(retentionDays) days; use 1 or more")
        }
        self.queue = try Self.open(path: path)
    }

    /// Opens an existing ledger for reading only (`rlt-gateway history`, beside a running daemon):
    /// never creates, migrates or writes it, so a look at the history cannot change what the daemon
    /// will find.
    ///
    /// - Throws: ``LedgerError`` when there is no file, it is not an intact rlt-gateway ledger, or its
    ///   schema is older (the daemon brings it up to date at its next start) or newer than this one.
    public init(readingOnly path: String) throws {
        self.path = path
        self.retentionDays = 365
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError.invalidArgument(
                path: path, operation: "opening", detail: "no ledger here (the daemon creates it when it first starts)")
        }
        var configuration = Configuration()
        configuration.label = "rlt-gateway.ledger.reader"
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            self.queue = try DatabaseQueue(path: path, configuration: configuration)
            try self.queue.read { db in
                try Self.checkIntegrity(db, path: path)
                try Self.checkOwnership(db, path: path)
                let migrator = LedgerSchema.migrator
                if try migrator.hasBeenSuperseded(db) {
                    let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
                    throw LedgerError.newerSchema(path: path, unknownMigrations: Array(unknown))
                }
                guard try migrator.hasCompletedMigrations(db) else {
                    throw LedgerError.invalidArgument(
                        path: path, operation: "opening",
                        detail: "an older ledger schema; the daemon brings it up to date when it next starts")
                }
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.wrapping(error, path: path, operation: "opening")
        }
    }

    // MARK: - Opening

    /// Closes the database now instead of when the last reference goes: a process that opens many
    /// ledgers (the simulator opens one per boot) must not keep their file descriptors.
    package func close() {
        try? self.queue.close()
    }

    private static func open(path: String) throws -> DatabaseQueue {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LedgerError.directory(path: path, underlying: error)
        }
        if Self.isEmptyFile(path) && !Self.isNonEmptyFile(path + "-wal") {
            throw LedgerError.emptyFile(path: path)
        }

        var configuration = Configuration()
        configuration.label = "rlt-gateway.ledger"
        // `rlt-gateway history` may read while the daemon writes; a short wait beats a spurious F_STORAGE.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // See the type's documentation: every commit must be durable.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }

        // A new ledger takes its name only once complete (docs/DESIGN.md, "Power loss").
        if !FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: path + "-wal") {
            try Self.createDurably(path: path, configuration: configuration)
        }

        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw LedgerError.wrapping(error, path: path, operation: "opening")
        }
        do {
            try queue.writeWithoutTransaction { db in
                // Checks come before anything that could write, so a refused file stays byte-for-byte as is.
                try Self.checkIntegrity(db, path: path)
                try Self.checkOwnership(db, path: path)
                let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard journalMode == "wal" else {
                    throw LedgerError.walUnavailable(path: path, journalMode: journalMode)
                }
                let migrator = LedgerSchema.migrator
                if try migrator.hasBeenSuperseded(db) {
                    let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
                    throw LedgerError.newerSchema(path: path, unknownMigrations: Array(unknown))
                }
            }
            try LedgerSchema.migrator.migrate(queue)
            // SQLite silently opens a file it may not write read-only, and in WAL mode even `BEGIN IMMEDIATE`
            // succeeds on it. A statement that opens a write transaction on the file but changes no row,
            // rolled back, writes nothing and fails with SQLITE_READONLY there: an unwritable ledger is
            // refused now, at start, rather than at the first record of a session.
            try queue.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try db.execute(sql: "DELETE FROM preset WHERE 0")
                    return .rollback
                }
            }
        } catch {
            throw LedgerError.wrapping(error, path: path, operation: "opening")
        }
        return queue
    }

    private static func checkIntegrity(_ db: Database, path: String) throws {
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
        guard problems == ["ok"] else {
            throw LedgerError.corrupt(
                path: path, operation: "opening",
                detail: "quick_check: " + problems.prefix(3).joined(separator: "; "))
        }
    }

    /// Refuses a valid SQLite file of another application; a brand-new file (no schema yet) is ours.
    private static func checkOwnership(_ db: Database, path: String) throws {
        let applicationID = try Int.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let objectCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
        let isNew = applicationID == 0 && objectCount == 0
        guard applicationID == LedgerSchema.applicationID || isNew else {
            throw LedgerError.foreignDatabase(path: path, applicationID: applicationID)
        }
    }

    private static func fileSize(_ path: String) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular
        else { return nil }
        return (attributes[.size] as? NSNumber)?.int64Value
    }

    private static func isEmptyFile(_ path: String) -> Bool { Self.fileSize(path) == 0 }

    private static func isNonEmptyFile(_ path: String) -> Bool { (Self.fileSize(path) ?? 0) > 0 }

    // MARK: - Boot recovery

    /// Closes any session a crash left open and returns what the safety core needs at boot.
    ///
    /// A session still open at boot was running when the previous run died. It is closed as
    /// `unclean_shutdown`, booking `max(last checkpoint dose, plan's doseCeiling)`: the ceiling is the most
    /// the machine could have let it deliver, so the 24 h total never under-counts however long the
    /// session ran after its last checkpoint. Its end time is the last sign of life (last checkpoint, or
    /// the start); `recoveredAtUnixMs` says when this recovery happened, and the light not yet recorded
    /// as slices is booked as delivered then, the latest it can have been. Then history older than
    /// ``retentionDays`` before the floor is purged (never anything of the last 24 h, nothing at all
    /// while the clock reads behind the floor).
    ///
    /// - Important: call it once at boot, before the first ``perform(_:at:)``: every session open at
    ///   that moment is taken for one a crash left behind.
    /// - Parameter now: the clocks now. With an untrusted wall clock nothing is purged and provisional
    ///   records of earlier boots count as delivered just now (see the type's documentation).
    /// - Returns: the light of the 24 h window by delivery time and the sessions that ended in it, oldest
    ///   first, with ages measured from `min(nowUnixMs, floor)` (see the type's documentation: a clock
    ///   that may have jumped forward never takes light out of the window, and an age below zero counts
    ///   as 0); the id of the last session closed as unclean; the persisted presets; how long ago the
    ///   newest session ended, measured the same way; the lifetime totals, the recovered session's
    ///   booking included (the purge after it never reduces them).
    /// - Throws: ``LedgerError``.
    public func recover(at now: LedgerTime) throws -> BootContext {
        let (context, reference) = try self.write("boot recovery") { db in
            let floor = try Self.floor(db)
            let reference = min(now.unixMs, floor)
            var uncleanSessionID: String?
            let open = try Row.fetchAll(
                db, sql: "SELECT * FROM session WHERE ended_at_ms IS NULL ORDER BY started_at_ms, rowid")
            for row in open {
                let session = try SessionRow(row: row, path: self.path, operation: "boot recovery")
                let booked = max(session.doseTotal, session.doseCeiling)
                try db.execute(
                    sql: """
                        UPDATE session SET ended_at_ms = ?, end_reason = ?, dose_total_j_cm2 = ?, recovered_at_ms = ?,
                            last_trusted = ?, last_boot_id = ?, last_mono_ms = ?
                        WHERE id = ?
                        """,
                    arguments: [
                        min(session.checkpointAtUnixMs ?? session.startedAtUnixMs, now.unixMs),
                        SessionEndReason.uncleanShutdown.rawValue, booked.joulesPerCm2, now.unixMs,
                        now.trusted, now.bootID, now.monotonicMs, session.id,
                    ])
                try self.bookUnrecordedDose(db, sessionID: session.id, total: booked, at: now)
                uncleanSessionID = session.id
            }
            try self.settleProvisional(db, at: now, reference: now.trusted ? now.unixMs : reference)
            let context = BootContext(
                history: try Self.history(db, referenceUnixMs: reference),
                uncleanSessionID: uncleanSessionID,
                persistedPresets: try self.presets(db),
                lastSessionEndedAgeSeconds: try Self.lastSessionEndedAge(db, referenceUnixMs: reference),
                lifetime: try self.lifetime(db))
            return (context, reference)
        }
        if now.trusted {
            _ = try self.purge(
                olderThanUnixMs: reference - Int64(self.retentionDays) * LedgerSchema.dayMs, nowUnixMs: now.unixMs)
        }
        return context
    }

    /// ``recover(at:)`` with a wall clock taken at face value (tools and tests).
    public func recover(nowUnixMs: Int64) throws -> BootContext {
        try self.recover(at: .trusted(unixMs: nowUnixMs))
    }

    /// Settles provisional stamps (written while the wall clock was not trusted) against `reference`,
    /// the time `now` stands for: a record of the current kernel boot lies exactly its monotonic age
    /// before it, a record of an earlier boot at it (the latest its light can have been delivered).
    /// With a trusted `now` the stamps become trusted, and any stamp still in the future is brought
    /// back to now; otherwise they stay provisional, to be settled again.
    private func settleProvisional(_ db: Database, at now: LedgerTime, reference: Int64) throws {
        func settled(boot: String, mono: String) -> String {
            "(CASE WHEN \(boot) = :boot AND \(mono) IS NOT NULL AND \(mono) <= :mono "
                + "THEN :reference - (:mono - \(mono)) ELSE :reference END)"
        }
        let arguments: StatementArguments = [
            "boot": now.bootID, "mono": now.monotonicMs, "reference": reference, "trusted": now.trusted,
        ]
        let slice = settled(boot: "boot_id", mono: "mono_ms")
        try db.execute(
            sql: "UPDATE dose_slice SET at_ms = \(slice), trusted = :trusted WHERE trusted = 0", arguments: arguments)
        let last = settled(boot: "last_boot_id", mono: "last_mono_ms")
        try db.execute(
            sql: """
                UPDATE session SET started_at_ms = MIN(started_at_ms, \(last)),
                    ended_at_ms = CASE WHEN recovered_at_ms IS NULL THEN \(last) ELSE MIN(ended_at_ms, \(last)) END,
                    recovered_at_ms = CASE WHEN recovered_at_ms IS NULL THEN NULL ELSE \(last) END,
                    last_trusted = :trusted
                WHERE last_trusted = 0 AND ended_at_ms IS NOT NULL
                """,
            arguments: arguments)
        guard now.trusted else { return }
        let future: StatementArguments = ["now": now.unixMs]
        try db.execute(
            sql: """
                UPDATE session SET started_at_ms = MIN(started_at_ms, :now),
                    checkpoint_at_ms = MIN(checkpoint_at_ms, :now) WHERE started_at_ms > :now OR checkpoint_at_ms > :now
                """,
            arguments: future)
        try db.execute(sql: "UPDATE fault_log SET raised_at_ms = :now WHERE raised_at_ms > :now", arguments: future)
        try db.execute(sql: "UPDATE fault_log SET cleared_at_ms = :now WHERE cleared_at_ms > :now", arguments: future)
        try db.execute(sql: "UPDATE preset SET updated_at_ms = :now WHERE updated_at_ms > :now", arguments: future)
    }

    /// The newest trusted stamp of light or of a session's end, and never earlier than
    /// ``earliestPlausibleUnixMs``: the wall clock can read earlier than this only when it is wrong.
    /// Provisional stamps never count (see the type's documentation): a clock that booted a year ahead
    /// must not become the measure of every later boot.
    static func floor(_ db: Database) throws -> Int64 {
        let newest = try Int64.fetchOne(
            db,
            sql: """
                SELECT MAX(m) FROM (
                    SELECT MAX(MAX(COALESCE(recovered_at_ms, ended_at_ms), COALESCE(checkpoint_at_ms, 0))) AS m
                        FROM session WHERE ended_at_ms IS NOT NULL AND last_trusted = 1
                    UNION ALL SELECT MAX(at_ms) FROM dose_slice WHERE trusted = 1)
                """)
        return max(newest ?? 0, Self.earliestPlausibleUnixMs)
    }

    /// How long before `referenceUnixMs` the newest session ended, so the cooldown (S4) survives a
    /// restart. A session closed by recovery counts as ending at recovery: when a crash really stopped
    /// the light is unknown, so the rest period starts over. A later end counts as 0 s ago.
    private static func lastSessionEndedAge(_ db: Database, referenceUnixMs: Int64) throws -> Double? {
        let newest = try Int64.fetchOne(
            db,
            sql: """
                SELECT MAX(MAX(COALESCE(recovered_at_ms, ended_at_ms),
                    COALESCE((SELECT MAX(at_ms) FROM dose_slice d WHERE d.session_id = session.id), 0)))
                FROM session WHERE ended_at_ms IS NOT NULL
                """)
        return newest.map { Double(max(0, referenceUnixMs - $0)) / 1000 }
    }

    /// The light delivered within 24 h before `referenceUnixMs`, slice by slice (`sessions` 0), and one
    /// entry per closed session at its last light (the end, recovery or newest slice, whichever is
    /// latest), oldest first.
    private static func history(_ db: Database, referenceUnixMs: Int64) throws -> [DoseHistoryEntry] {
        let since = referenceUnixMs - LedgerSchema.dayMs
        func age(_ at: Int64) -> Double { Double(max(0, referenceUnixMs - at)) / 1000 }
        var timed: [(at: Int64, order: Int, entry: DoseHistoryEntry)] = []
        let slices = try Row.fetchAll(
            db, sql: "SELECT at_ms, dose_j_cm2 FROM dose_slice WHERE at_ms >= ? ORDER BY at_ms, id",
            arguments: [since])
        for row in slices {
            let at = try row.decode(Int64.self, forColumn: "at_ms")
            let dose = try row.decode(Double.self, forColumn: "dose_j_cm2")
            timed.append((at, 0, DoseHistoryEntry(ageSeconds: age(at), dose: Dose(joulesPerCm2: dose), sessions: 0)))
        }
        let ends = try Int64.fetchAll(
            db,
            sql: """
                SELECT last FROM (
                    SELECT MAX(COALESCE(recovered_at_ms, ended_at_ms),
                        COALESCE((SELECT MAX(at_ms) FROM dose_slice d WHERE d.session_id = session.id), 0)) AS last
                    FROM session WHERE ended_at_ms IS NOT NULL)
                WHERE last >= ? ORDER BY last
                """,
            arguments: [since])
        for at in ends {
            timed.append((at, 1, DoseHistoryEntry(ageSeconds: age(at), dose: .zero, sessions: 1)))
        }
        return timed.sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map(\.entry)
    }

    private func presets(_ db: Database) throws -> SafetySettings.Presets? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM preset WHERE id = 1") else { return nil }
        do {
            let channelsName = try row.decode(String.self, forColumn: "channels")
            guard let channels = ChannelSelection(rawValue: channelsName) else {
                throw LedgerError.unreadableRow(
                    path: self.path, operation: "reading presets", detail: "channels \"\(channelsName)\"")
            }
            return SafetySettings.Presets(
                channels: channels,
                intensityPercent: try row.decode(Double.self, forColumn: "intensity_pct"),
                durationSeconds: try row.decode(Double.self, forColumn: "duration_s"),
                doseTarget: try row.decode(Double?.self, forColumn: "dose_target_j_cm2").map(Dose.init(joulesPerCm2:)))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.unreadableRow(path: self.path, operation: "reading presets", detail: "\(error)")
        }
    }

    // MARK: - Records

    /// Performs one record from the core, stamped with the wall clock.
    ///
    /// Synchronous and durable: when this returns, the record is on disk (see the type's documentation).
    /// A checkpoint or close for a session the ledger does not hold, or holds as closed, throws and
    /// writes nothing: the ledger never invents a row. Clearing a fault that has no open entry (it was
    /// raised while the ledger could not write, say) writes nothing and is not an error.
    ///
    /// - Parameters:
    ///   - record: what the core asked to record.
    ///   - at: the clocks now. The first trusted record after untrusted ones settles their stamps (see
    ///     the type's documentation).
    /// - Returns: the lifetime totals with this record, read in its transaction, so the writer can
    ///   tell the loop what the ledger holds without a second read.
    /// - Throws: ``LedgerError``; the gateway raises `F_STORAGE`.
    @discardableResult
    public func perform(_ record: LedgerRecord, at: LedgerTime) throws -> LifetimeTotals {
        let operation = Self.describe(record)
        let unixMs = at.unixMs
        let totals = try self.write(operation) { db -> LifetimeTotals in
            if at.trusted, self.mayHoldProvisional.withLock({ $0 }) {
                try self.settleProvisional(db, at: at, reference: at.unixMs)
            }
            switch record {
            case .sessionOpened(let plan):
                try self.open(plan, db, unixMs: unixMs, operation: operation)
            case .sessionCheckpoint(let progress):
                try db.execute(
                    sql: """
                        UPDATE session SET emitting_s = ?, dose_red_j_cm2 = ?, dose_nir_j_cm2 = ?,
                            dose_total_j_cm2 = max(dose_total_j_cm2, ?), checkpoint_at_ms = ?
                        WHERE id = ? AND ended_at_ms IS NULL
                        """,
                    arguments: [
                        progress.emittingSeconds, progress.dose.red.joulesPerCm2, progress.dose.nir.joulesPerCm2,
                        progress.dose.total.joulesPerCm2, unixMs, progress.sessionID,
                    ])
                try self.requireOneChange(db, sessionID: progress.sessionID, operation: operation)
                try self.bookUnrecordedDose(db, sessionID: progress.sessionID, total: progress.dose.total, at: at)
            case .sessionClosed(let progress, let reason):
                try db.execute(
                    sql: """
                        UPDATE session SET emitting_s = ?, dose_red_j_cm2 = ?, dose_nir_j_cm2 = ?,
                            dose_total_j_cm2 = max(dose_total_j_cm2, ?), ended_at_ms = ?, end_reason = ?,
                            last_trusted = ?, last_boot_id = ?, last_mono_ms = ?
                        WHERE id = ? AND ended_at_ms IS NULL
                        """,
                    arguments: [
                        progress.emittingSeconds, progress.dose.red.joulesPerCm2, progress.dose.nir.joulesPerCm2,
                        progress.dose.total.joulesPerCm2, unixMs, reason.rawValue,
                        at.trusted, at.bootID, at.monotonicMs, progress.sessionID,
                    ])
                try self.requireOneChange(db, sessionID: progress.sessionID, operation: operation)
                try self.bookUnrecordedDose(db, sessionID: progress.sessionID, total: progress.dose.total, at: at)
            case .lightOutsideSession(let dose):
                try self.addSlice(db, sessionID: nil, dose: dose.joulesPerCm2, at: at)
            case .faultRaised(let code, let detail):
                try db.execute(
                    sql: "INSERT INTO fault_log (code, detail, raised_at_ms) VALUES (?, ?, ?)",
                    arguments: [code.rawValue, detail, unixMs])
            case .faultCleared(let code):
                try db.execute(
                    sql: "UPDATE fault_log SET cleared_at_ms = ? WHERE code = ? AND cleared_at_ms IS NULL",
                    arguments: [unixMs, code.rawValue])
            case .presetsChanged(let presets):
                try db.execute(
                    sql: """
                        INSERT INTO preset (id, channels, intensity_pct, duration_s, dose_target_j_cm2, updated_at_ms)
                        VALUES (1, ?, ?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET channels = excluded.channels,
                            intensity_pct = excluded.intensity_pct, duration_s = excluded.duration_s,
                            dose_target_j_cm2 = excluded.dose_target_j_cm2, updated_at_ms = excluded.updated_at_ms
                        """,
                    arguments: [
                        presets.channels.rawValue, presets.intensityPercent, presets.durationSeconds,
                        presets.doseTarget?.joulesPerCm2, unixMs,
                    ])
            }
            return try self.lifetime(db)
        }
        // Set only once the write is durable: a rolled-back settlement must be tried again.
        self.mayHoldProvisional.withLock { $0 = !at.trusted }
        return totals
    }

    /// ``perform(_:at:)`` with a wall clock taken at face value (tools and tests).
    @discardableResult
    public func perform(_ record: LedgerRecord, unixMs: Int64) throws -> LifetimeTotals {
        try self.perform(record, at: .trusted(unixMs: unixMs))
    }

    private func open(_ plan: SessionPlan, _ db: Database, unixMs: Int64, operation: String) throws {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM session WHERE id = ?", arguments: [plan.sessionID]) != nil {
            throw LedgerError.duplicateSession(path: self.path, operation: operation)
        }
        try db.execute(
            sql: """
                INSERT INTO session (id, started_at_ms, channels, intensity_pct, planned_s, dose_target_j_cm2,
                    dose_ceiling_j_cm2)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                plan.sessionID, unixMs, plan.channels.rawValue, plan.intensityPercent, plan.plannedSeconds,
                plan.doseTarget?.joulesPerCm2, plan.doseCeiling.joulesPerCm2,
            ])
    }

    /// Records as one slice the part of a session's `total` that no slice holds yet (its light since
    /// the previous record), stamped now: at or after the light, so the 24 h window errs high.
    private func bookUnrecordedDose(_ db: Database, sessionID: String, total: Dose, at: LedgerTime) throws {
        let recorded =
            try Double.fetchOne(
                db, sql: "SELECT COALESCE(SUM(dose_j_cm2), 0) FROM dose_slice WHERE session_id = ?",
                arguments: [sessionID]) ?? 0
        try self.addSlice(db, sessionID: sessionID, dose: total.joulesPerCm2 - recorded, at: at)
    }

    /// Inserts a dose slice: provisional under an untrusted clock, otherwise never stamped before the
    /// floor (see the type's documentation).
    ///
    /// While a trusted wall clock reads behind the floor, slices are stamped at the floor; the first
    /// slice stamped with a clock at or past the floor again moves all of those forward to its own
    /// stamp, since their light was delivered before that moment but after the floor.
    private func addSlice(_ db: Database, sessionID: String?, dose: Double, at: LedgerTime) throws {
        guard dose.isFinite, dose > 1e-12 else { return }
        guard at.trusted else {
            try db.execute(
                sql: """
                    INSERT INTO dose_slice (session_id, at_ms, dose_j_cm2, trusted, boot_id, mono_ms)
                    VALUES (?, ?, ?, 0, ?, ?)
                    """,
                arguments: [sessionID, at.unixMs, dose, at.bootID, at.monotonicMs])
            return
        }
        let unixMs = at.unixMs
        let floor = try Self.floor(db)
        let stamp = max(unixMs, floor)
        try db.execute(
            sql: "INSERT INTO dose_slice (session_id, at_ms, dose_j_cm2, boot_id, mono_ms) VALUES (?, ?, ?, ?, ?)",
            arguments: [sessionID, stamp, dose, at.bootID, at.monotonicMs])
        let id = db.lastInsertedRowID
        let behindSince = self.stampedAtFloorSince.withLock { since -> Int64? in
            let previous = since
            since = unixMs < floor ? (since ?? id) : nil
            return unixMs < floor ? nil : previous
        }
        if let behindSince {
            try db.execute(
                sql: "UPDATE dose_slice SET at_ms = ? WHERE id >= ? AND at_ms < ? AND trusted = 1",
                arguments: [stamp, behindSince, stamp])
        }
    }

    /// After an update of an open session: explains why nothing changed, instead of inventing a row.
    private func requireOneChange(_ db: Database, sessionID: String, operation: String) throws {
        guard db.changesCount == 0 else { return }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM session WHERE id = ?", arguments: [sessionID]) != nil {
            throw LedgerError.sessionClosed(path: self.path, operation: operation)
        }
        throw LedgerError.unknownSession(path: self.path, operation: operation)
    }

    private static func describe(_ record: LedgerRecord) -> String {
        switch record {
        case .sessionOpened(let plan): "recording session_opened for \(plan.sessionID)"
        case .sessionCheckpoint(let progress): "recording session_checkpoint for \(progress.sessionID)"
        case .sessionClosed(let progress, _): "recording session_closed for \(progress.sessionID)"
        case .lightOutsideSession: "recording light_outside_session"
        case .faultRaised(let code, _): "recording fault_raised \(code.rawValue)"
        case .faultCleared(let code): "recording fault_cleared \(code.rawValue)"
        case .presetsChanged: "recording presets_changed"
        }
    }

    // MARK: - Reading

    /// The lifetime totals (``LifetimeTotals``): every dose slice ever booked and every second of
    /// emission ever recorded, however much history retention has deleted since.
    public func lifetime() throws -> LifetimeTotals {
        try self.read("reading lifetime totals") { db in try self.lifetime(db) }
    }

    /// The one row the `v4 lifetime totals` migration creates and its triggers keep.
    private func lifetime(_ db: Database) throws -> LifetimeTotals {
        guard let row = try Row.fetchOne(db, sql: "SELECT dose_j_cm2, emitting_s FROM lifetime WHERE id = 1") else {
            throw LedgerError.unreadableRow(path: self.path, operation: "reading lifetime totals", detail: "no row")
        }
        do {
            return LifetimeTotals(
                dose: Dose(joulesPerCm2: try row.decode(Double.self, forColumn: "dose_j_cm2")),
                emittingSeconds: try row.decode(Double.self, forColumn: "emitting_s"))
        } catch {
            throw LedgerError.unreadableRow(path: self.path, operation: "reading lifetime totals", detail: "\(error)")
        }
    }

    /// The newest `limit` sessions, newest first (`rlt-gateway history`).
    public func sessions(limit: Int) throws -> [SessionRow] {
        try self.read("reading sessions") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM session ORDER BY started_at_ms DESC, rowid DESC LIMIT ?",
                arguments: [max(0, limit)]
            ).map { try SessionRow(row: $0, path: self.path, operation: "reading sessions") }
        }
    }

    /// The newest `limit` fault log entries, newest first.
    public func faults(limit: Int) throws -> [FaultRow] {
        try self.read("reading faults") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM fault_log ORDER BY id DESC LIMIT ?", arguments: [max(0, limit)])
                .map { row in
                    do {
                        return FaultRow(
                            id: try row.decode(Int64.self, forColumn: "id"),
                            code: try row.decode(String.self, forColumn: "code"),
                            detail: try row.decode(String.self, forColumn: "detail"),
                            raisedAtUnixMs: try row.decode(Int64.self, forColumn: "raised_at_ms"),
                            clearedAtUnixMs: try row.decode(Int64?.self, forColumn: "cleared_at_ms"))
                    } catch {
                        throw LedgerError.unreadableRow(
                            path: self.path, operation: "reading faults", detail: "\(error)")
                    }
                }
        }
    }

    // MARK: - Retention

    /// ``purge(olderThanUnixMs:nowUnixMs:)`` measured against the wall clock now.
    ///
    /// - Returns: the number of rows deleted.
    /// - Throws: ``LedgerError``.
    public func purge(olderThanUnixMs: Int64) throws -> Int {
        try self.purge(olderThanUnixMs: olderThanUnixMs, nowUnixMs: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Deletes closed sessions whose last light is before `olderThanUnixMs`, with their dose slices,
    /// light recorded outside sessions before it, and cleared faults that cleared before it.
    ///
    /// Never anything within 24 h of `min(nowUnixMs, floor)`, never an open session (boot recovery needs
    /// it), never a session boot recovery closed after the cut-off (it explains a latched
    /// `F_UNCLEAN_SHUTDOWN`, however old the session), and nothing at all while `nowUnixMs` is behind the
    /// floor: such a clock is wrong, and a cut-off derived from it means nothing (see the type's
    /// documentation).
    ///
    /// - Returns: the number of rows deleted (sessions, slices outside sessions and fault entries).
    /// - Throws: ``LedgerError``.
    public func purge(olderThanUnixMs: Int64, nowUnixMs: Int64) throws -> Int {
        try self.write("purging history before \(olderThanUnixMs) ms") { db in
            let floor = try Self.floor(db)
            guard nowUnixMs >= floor else { return 0 }
            let cutoff = min(olderThanUnixMs, min(nowUnixMs, floor) - LedgerSchema.dayMs)
            try db.execute(
                sql: """
                    DELETE FROM session WHERE ended_at_ms IS NOT NULL
                        AND COALESCE(recovered_at_ms, ended_at_ms) < ? AND started_at_ms < ?
                        AND NOT EXISTS (SELECT 1 FROM dose_slice d WHERE d.session_id = session.id AND d.at_ms >= ?)
                    """,
                arguments: [cutoff, cutoff, cutoff])
            let sessions = db.changesCount
            // Slices of deleted sessions (foreign keys may be off in a copy opened elsewhere).
            try db.execute(
                sql: """
                    DELETE FROM dose_slice WHERE session_id IS NOT NULL
                        AND session_id NOT IN (SELECT id FROM session)
                    """)
            try db.execute(sql: "DELETE FROM dose_slice WHERE session_id IS NULL AND at_ms < ?", arguments: [cutoff])
            let stray = db.changesCount
            try db.execute(
                sql: "DELETE FROM fault_log WHERE cleared_at_ms IS NOT NULL AND cleared_at_ms < ?", arguments: [cutoff])
            return sessions + stray + db.changesCount
        }
    }

    // MARK: - Access

    private func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try self.queue.write(body)
        } catch {
            throw LedgerError.wrapping(error, path: self.path, operation: operation)
        }
    }

    private func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try self.queue.read(body)
        } catch {
            throw LedgerError.wrapping(error, path: self.path, operation: operation)
        }
    }
}

extension SessionRow {
    /// Reads a `session` row; a value this version cannot read is a ``LedgerError``, never a trap.
    init(row: Row, path: String, operation: String) throws {
        do {
            let channelsName = try row.decode(String.self, forColumn: "channels")
            guard let channels = ChannelSelection(rawValue: channelsName) else {
                throw LedgerError.unreadableRow(
                    path: path, operation: operation, detail: "channels \"\(channelsName)\"")
            }
            self.init(
                id: try row.decode(String.self, forColumn: "id"),
                startedAtUnixMs: try row.decode(Int64.self, forColumn: "started_at_ms"),
                endedAtUnixMs: try row.decode(Int64?.self, forColumn: "ended_at_ms"),
                channels: channels,
                intensityPercent: try row.decode(Double.self, forColumn: "intensity_pct"),
                plannedSeconds: try row.decode(Double.self, forColumn: "planned_s"),
                doseTarget: try row.decode(Double?.self, forColumn: "dose_target_j_cm2").map(Dose.init(joulesPerCm2:)),
                doseCeiling: Dose(joulesPerCm2: try row.decode(Double.self, forColumn: "dose_ceiling_j_cm2")),
                emittingSeconds: try row.decode(Double.self, forColumn: "emitting_s"),
                doseRed: Dose(joulesPerCm2: try row.decode(Double.self, forColumn: "dose_red_j_cm2")),
                doseNIR: Dose(joulesPerCm2: try row.decode(Double.self, forColumn: "dose_nir_j_cm2")),
                doseTotal: Dose(joulesPerCm2: try row.decode(Double.self, forColumn: "dose_total_j_cm2")),
                endReason: try row.decode(String?.self, forColumn: "end_reason"),
                checkpointAtUnixMs: try row.decode(Int64?.self, forColumn: "checkpoint_at_ms"),
                recoveredAtUnixMs: try row.decode(Int64?.self, forColumn: "recovered_at_ms"))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.unreadableRow(path: path, operation: operation, detail: "\(error)")
        }
    }
}
