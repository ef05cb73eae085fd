internal import GRDB

/// The ledger's tables, built by numbered migrations so a later version can evolve them in place.
///
/// Doses are stored in J/cm², durations in seconds, wall-clock times in unix milliseconds (`_ms`).
enum LedgerSchema {
    /// `PRAGMA application_id` of every ledger file ("RLTG"), so a stray SQLite file of another
    /// application is refused instead of having our tables added to it.
    static let applicationID = 0x524C_5447

    /// 24 hours in milliseconds: the rolling window of S3.
    static let dayMs: Int64 = 86_400_000

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(LedgerSchema.applicationID)")
            try db.execute(
                sql: """
                    CREATE TABLE session (
                        id TEXT PRIMARY KEY NOT NULL,
                        started_at_ms INTEGER NOT NULL,
                        ended_at_ms INTEGER,
                        channels TEXT NOT NULL,
                        intensity_pct REAL NOT NULL,
                        planned_s REAL NOT NULL,
                        dose_target_j_cm2 REAL,
                        dose_ceiling_j_cm2 REAL NOT NULL,
                        emitting_s REAL NOT NULL DEFAULT 0,
                        dose_red_j_cm2 REAL NOT NULL DEFAULT 0,
                        dose_nir_j_cm2 REAL NOT NULL DEFAULT 0,
                        dose_total_j_cm2 REAL NOT NULL DEFAULT 0,
                        end_reason TEXT,
                        checkpoint_at_ms INTEGER,
                        recovered_at_ms INTEGER,
                        CHECK ((ended_at_ms IS NULL) = (end_reason IS NULL))
                    );
                    CREATE INDEX session_started_at ON session(started_at_ms);
                    CREATE TABLE fault_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        code TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        raised_at_ms INTEGER NOT NULL,
                        cleared_at_ms INTEGER
                    );
                    CREATE INDEX fault_log_open ON fault_log(code) WHERE cleared_at_ms IS NULL;
                    CREATE TABLE preset (
                        id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
                        channels TEXT NOT NULL,
                        intensity_pct REAL NOT NULL,
                        duration_s REAL NOT NULL,
                        dose_target_j_cm2 REAL,
                        updated_at_ms INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2 dose slices") { db in
            // The 24 h window (S3) counts light by when it was delivered: each checkpoint and close
            // records the dose delivered since the previous record of its session, stamped when it was
            // recorded (at or after the light, so the window errs high). `session_id` NULL is light the
            // hardware gave outside any session (S9).
            try db.execute(
                sql: """
                    CREATE TABLE dose_slice (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        session_id TEXT REFERENCES session(id) ON DELETE CASCADE,
                        at_ms INTEGER NOT NULL,
                        dose_j_cm2 REAL NOT NULL CHECK (dose_j_cm2 >= 0)
                    );
                    CREATE INDEX dose_slice_at ON dose_slice(at_ms);
                    CREATE INDEX dose_slice_session ON dose_slice(session_id);
                    """)
            // A ledger written before slices knows a closed session's light only as a total: it is
            // booked at the session's end, the latest it can have been delivered (conservative). An
            // open session gets its slice at boot recovery, again at the latest possible time.
            try db.execute(
                sql: """
                    INSERT INTO dose_slice (session_id, at_ms, dose_j_cm2)
                    SELECT id, COALESCE(recovered_at_ms, ended_at_ms), dose_total_j_cm2 FROM session
                    WHERE ended_at_ms IS NOT NULL AND dose_total_j_cm2 > 0
                    ORDER BY COALESCE(recovered_at_ms, ended_at_ms), rowid
                    """)
        }
        migrator.registerMigration("v3 clock trust") { db in
            // Which stamps may be measured against the wall clock (docs/DESIGN.md, "Time"): a slice's
            // `at_ms` and a closed session's last moment (`recovered_at_ms`, else `ended_at_ms`) written
            // while the clock was not trusted are provisional; `boot_id` and `mono_ms` place them
            // exactly within their kernel boot. Rows written before this version are taken as trusted,
            // as they always were.
            try db.execute(
                sql: """
                    ALTER TABLE dose_slice ADD COLUMN trusted INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE dose_slice ADD COLUMN boot_id TEXT;
                    ALTER TABLE dose_slice ADD COLUMN mono_ms INTEGER;
                    ALTER TABLE session ADD COLUMN last_trusted INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE session ADD COLUMN last_boot_id TEXT;
                    ALTER TABLE session ADD COLUMN last_mono_ms INTEGER;
                    CREATE INDEX dose_slice_provisional ON dose_slice(id) WHERE trusted = 0;
                    CREATE INDEX session_provisional ON session(id) WHERE last_trusted = 0;
                    """)
        }
        migrator.registerMigration("v4 lifetime totals") { db in
            // Totals that retention never reduces (Home Assistant's long-term statistics): one row,
            // kept by triggers so every write path that books light or emitting time counts, and
            // nothing else can. Dose grows with every slice inserted (slices are only ever inserted
            // for light not booked before; their updates move `at_ms`, never the dose); emitting time
            // with every increase of a session's `emitting_s` (checkpoints and the close write the
            // session's running total, so only the increase is new). Purges delete slices and
            // sessions and touch neither trigger. A ledger that already purged history starts from
            // what it still holds: earlier light is not known any more.
            try db.execute(
                sql: """
                    CREATE TABLE lifetime (
                        id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
                        dose_j_cm2 REAL NOT NULL CHECK (dose_j_cm2 >= 0),
                        emitting_s REAL NOT NULL CHECK (emitting_s >= 0)
                    );
                    INSERT INTO lifetime (id, dose_j_cm2, emitting_s) VALUES (
                        1,
                        (SELECT COALESCE(SUM(dose_j_cm2), 0) FROM dose_slice),
                        (SELECT COALESCE(SUM(MAX(emitting_s, 0)), 0) FROM session));
                    CREATE TRIGGER lifetime_dose AFTER INSERT ON dose_slice BEGIN
                        UPDATE lifetime SET dose_j_cm2 = dose_j_cm2 + NEW.dose_j_cm2 WHERE id = 1;
                    END;
                    CREATE TRIGGER lifetime_emitting_inserted AFTER INSERT ON session WHEN NEW.emitting_s > 0 BEGIN
                        UPDATE lifetime SET emitting_s = emitting_s + NEW.emitting_s WHERE id = 1;
                    END;
                    CREATE TRIGGER lifetime_emitting AFTER UPDATE OF emitting_s ON session
                    WHEN NEW.emitting_s > OLD.emitting_s BEGIN
                        UPDATE lifetime SET emitting_s = emitting_s + (NEW.emitting_s - OLD.emitting_s) WHERE id = 1;
                    END;
                    CREATE TRIGGER lifetime_never_deleted BEFORE DELETE ON lifetime BEGIN
                        SELECT RAISE(ABORT, 'lifetime totals are never deleted');
                    END;
                    CREATE TRIGGER lifetime_never_decreases BEFORE UPDATE ON lifetime
                    WHEN NEW.dose_j_cm2 < OLD.dose_j_cm2 OR NEW.emitting_s < OLD.emitting_s BEGIN
                        SELECT RAISE(ABORT, 'lifetime totals never decrease');
                    END;
                    """)
        }
        return migrator
    }
}
