import Foundation
import Ledger
import SafetyCore

/// A fixed wall-clock origin (2025-11-24), so ages in the tests are exact.
let t0: Int64 = 1_764_000_000_000
let hourMs: Int64 = 3_600_000
let dayMs: Int64 = 24 * hourMs

func plan(_ id: String, ceiling: Double = 30, target: Double? = nil) -> SessionPlan {
    SessionPlan(
        sessionID: id, channels: .both, intensityPercent: 100, plannedSeconds: 600,
        doseTarget: target.map(Dose.init(joulesPerCm2:)), doseCeiling: Dose(joulesPerCm2: ceiling))
}

func progress(_ id: String, seconds: Double, red: Double, nir: Double) -> SessionProgress {
    SessionProgress(
        sessionID: id, emittingSeconds: seconds,
        dose: PerChannel(red: Dose(joulesPerCm2: red), nir: Dose(joulesPerCm2: nir)))
}

/// Records a whole session: opened at `startMs`, one checkpoint, closed `seconds` later.
func recordSession(
    _ ledger: SessionLedger, _ id: String, startMs: Int64, seconds: Double = 60, red: Double = 3, nir: Double = 2.4
) throws {
    try recordSession(ledger, id, at: .trusted(unixMs: startMs), seconds: seconds, red: red, nir: nir)
}

/// Records a whole session: opened at `start`, one checkpoint, closed `seconds` later (both clocks move on).
func recordSession(
    _ ledger: SessionLedger, _ id: String, at start: LedgerTime, seconds: Double = 60, red: Double = 3,
    nir: Double = 2.4
) throws {
    try ledger.perform(.sessionOpened(plan(id)), at: start)
    try ledger.perform(
        .sessionCheckpoint(progress(id, seconds: seconds / 2, red: red / 2, nir: nir / 2)),
        at: start.later(by: Int64(seconds * 500)))
    try ledger.perform(
        .sessionClosed(progress(id, seconds: seconds, red: red, nir: nir), reason: .duration),
        at: start.later(by: Int64(seconds * 1000)))
}

extension LedgerTime {
    /// The clocks `ms` later: wall and monotonic move together.
    func later(by ms: Int64) -> LedgerTime {
        LedgerTime(
            unixMs: self.unixMs + ms, trusted: self.trusted, bootID: self.bootID, monotonicMs: self.monotonicMs + ms)
    }
}

/// The dose the boot history puts into the 24 h window, J/cm².
func windowDose(_ boot: BootContext) -> Double {
    boot.history.reduce(0) { $0 + $1.dose.joulesPerCm2 }
}

/// The sessions the boot history counts in the 24 h window.
func windowSessions(_ boot: BootContext) -> Int {
    boot.history.reduce(0) { $0 + $1.sessions }
}

/// Runs a command to completion; returns its exit status and combined output.
@discardableResult
func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do {
        try process.run()
    } catch {
        return (-1, "\(error)")
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Runs `body` with `paths` made immutable (`chattr +i`), which stops writes even for root; the flag is
/// removed afterwards whatever happens. Returns `nil` (and says why) where `chattr` is not available or
/// the file system refuses the flag, so the caller can skip instead of passing vacuously.
func withImmutable<T>(_ paths: [String], _ body: () throws -> T) throws -> T? {
    var applied: [String] = []
    defer {
        for path in applied.reversed() { run("/usr/bin/chattr", ["-i", path]) }
    }
    for path in paths {
        let result = run("/usr/bin/chattr", ["+i", path])
        guard result.status == 0 else {
            print("skipped: chattr +i \(path) failed (\(result.status)): \(result.output)")
            return nil
        }
        applied.append(path)
    }
    return try body()
}

/// The kind of the ``LedgerError`` that `body` throws; `nil` when it throws nothing or something else.
func ledgerErrorKind(_ body: () throws -> Void) -> LedgerError.Kind? {
    do {
        try body()
        return nil
    } catch let error as LedgerError {
        return error.kind
    } catch {
        return nil
    }
}
