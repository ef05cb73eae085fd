import Foundation
import FuzzSupport
import GRDB
import Ledger
import SafetyCore
import TestKit
#if canImport(Glibc)
    import Glibc
#endif

/// Fuzz target: the ledger's rows as boot recovery reads them (``SessionLedger/recover(at:)``), and
/// the history the safety core then boots with.
///
/// SQLite keeps whatever a column is given (text in a REAL column, a blob for a time, 2⁶³−1 ms), and a
/// ledger file survives power cuts, disks and older or newer versions (docs/DESIGN.md, "Dose"). So
/// each input writes hostile rows into a real ledger file with a second connection (types and values
/// from the input, constraints left to SQLite, as a damaged or foreign writer would), then runs boot
/// recovery at a time from the input. Recovery must either refuse with a ``LedgerError`` or return a
/// history the core can trust: ages and doses that are numbers, never below zero; and a core booted
/// with it must refuse a start once that history's last 24 h reach the daily limit (S2), which is
/// where a wrongly read row would turn into light.
///
/// The ledger is opened once per process on tmpfs (opening checks integrity and migrates, the part of
/// boot that is not about rows); every input empties the tables first, so inputs stay independent.
@main
enum LedgerFuzzTarget: FuzzTarget {
    struct Setup {
        let ledger: SessionLedger
        let writer: DatabaseQueue
    }

    static let setup: Setup = {
        // Fuzz/run.sh names a tmpfs directory it removes afterwards: a crash skips `atexit`.
        let parent = getenv("RLT_FUZZ_SCRATCH").map { String(cString: $0) } ?? "/dev/shm"
        let directory = "\(parent)/rlt-fuzz-ledger-\(getpid())"
        atexit {
            let parent = getenv("RLT_FUZZ_SCRATCH").map { String(cString: $0) } ?? "/dev/shm"
            let directory = "\(parent)/rlt-fuzz-ledger-\(getpid())"
            for suffix in ["", "-wal", "-shm"] { unlink(directory + "/ledger.sqlite" + suffix) }
            rmdir(directory)
        }
        let path = directory + "/ledger.sqlite"
        let ledger = try! SessionLedger(path: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        return Setup(ledger: ledger, writer: try! DatabaseQueue(path: path, configuration: configuration))
    }()

    static let tables = [
        (
            "session",
            [
                "id", "started_at_ms", "ended_at_ms", "channels", "intensity_pct", "planned_s", "dose_target_j_cm2",
                "dose_ceiling_j_cm2", "emitting_s", "dose_red_j_cm2", "dose_nir_j_cm2", "dose_total_j_cm2", "end_reason",
                "checkpoint_at_ms", "recovered_at_ms", "last_trusted", "last_boot_id", "last_mono_ms",
            ]
        ),
        ("dose_slice", ["session_id", "at_ms", "dose_j_cm2", "trusted", "boot_id", "mono_ms"]),
        ("fault_log", ["code", "detail", "raised_at_ms", "cleared_at_ms"]),
        ("preset", ["id", "channels", "intensity_pct", "duration_s", "dose_target_j_cm2", "updated_at_ms"]),
    ]

    /// Plausible values first (so inputs reach recovery's arithmetic), then every SQLite type.
    static func value(_ reader: inout FuzzInput, now: Int64) -> DatabaseValue {
        switch reader.byte() % 10 {
        case 0: return .null
        case 1: return (now - Int64(reader.byte()) * 600_000).databaseValue
        case 2: return reader.int64().databaseValue
        case 3: return Double(reader.byte()).databaseValue
        case 4: return reader.double().databaseValue
        case 5: return reader.string().databaseValue
        case 6: return ["s1", "s2", "red", "nir", "both", "completed", "boot-a"][Int(reader.byte()) % 7].databaseValue
        case 7: return Data(reader.chunk()).databaseValue
        case 8: return Int64(reader.byte() % 3).databaseValue
        default: return (Int64(reader.byte()) * 1000).databaseValue
        }
    }

    static func run(_ input: [UInt8]) {
        var reader = FuzzInput(input)
        let now = 1_767_225_600_000 + Int64(reader.byte()) * 3_600_000
        // Any wall clock a board can show, from 1970 (no RTC) to a millennium ahead (a bad RTC); not
        // ±2⁶³ ms, which no `clock_gettime` in milliseconds can produce (the first long run's only crash).
        let time = LedgerTime(
            unixMs: reader.byte() & 1 == 0 ? now : Int64(reader.uint64() % (1 << 45)), trusted: reader.byte() & 1 == 0,
            bootID: reader.byte() & 1 == 0 ? "boot-a" : "boot-b", monotonicMs: Int64(reader.byte()) * 1000)
        do {
            try Self.setup.writer.write { db in
                for (table, _) in Self.tables { try db.execute(sql: "DELETE FROM \(table)") }
                var rows = 0
                while !reader.isAtEnd, rows < 12 {
                    rows += 1
                    let (table, columns) = Self.tables[Int(reader.byte()) % Self.tables.count]
                    let values = columns.map { _ in Self.value(&reader, now: now) }
                    let marks = Array(repeating: "?", count: columns.count).joined(separator: ",")
                    // Constraints are SQLite's to enforce: a row it refuses is simply not there.
                    try? db.execute(
                        sql: "INSERT INTO \(table) (\(columns.joined(separator: ","))) VALUES (\(marks))",
                        arguments: StatementArguments(values.map { $0 as (any DatabaseValueConvertible)? }))
                }
            }
        } catch {
            fuzzFailure("could not write the rows: \(error)", input: input)
        }
        let context: BootContext
        do {
            context = try Self.setup.ledger.recover(at: time)
        } catch is LedgerError {
            return
        } catch {
            fuzzFailure("recovery threw something other than a LedgerError: \(error)", input: input)
        }
        Self.check(context, input: input)
    }

    static func check(_ context: BootContext, input: [UInt8]) {
        for entry in context.history {
            if !(entry.ageSeconds >= 0) || !(entry.dose.joulesPerCm2 >= 0) || entry.sessions < 0 {
                fuzzFailure("recovery returned the history entry \(entry)", input: input)
            }
        }
        if let age = context.lastSessionEndedAgeSeconds, !(age >= 0) {
            fuzzFailure("recovery returned the last session's age \(age)", input: input)
        }
        let settings = SafetySettings()
        let day = context.history.filter { $0.ageSeconds < 86_400 }
        let dose = day.reduce(0) { $0 + $1.dose.joulesPerCm2 }
        let sessions = day.reduce(0) { $0 + $1.sessions }
        guard dose >= settings.limits.maxDailyDose.joulesPerCm2 || sessions >= settings.limits.maxDailySessions else {
            return
        }
        var bench = MachineBench(SafetyMachine(settings: settings, bootID: "fuzz"))
        bench.send(.boot(context))
        bench.send(.input(.interlock, active: true))
        bench.send(.temperature(.valid(Celsius(30))))
        bench.advance(seconds: max(0, 86_400 - (day.map(\.ageSeconds).max() ?? 0) - 1))
        bench.send(.temperature(.valid(Celsius(30))))
        bench.send(.command(CommandEnvelope(id: "s", commandName: "start", body: .decoded(.start(.init())))))
        if bench.outputs.emitting {
            fuzzFailure("a start was accepted with \(dose) J/cm² and \(sessions) sessions in the booted 24 h", input: input)
        }
    }
}
