import Foundation
import Ledger
import SafetyCore
import TestKit
import Testing

/// Damaged, unwritable and full storage: every case must surface as a ``LedgerError`` that names the
/// file, and a damaged file must never be replaced by a fresh, empty history.
@Suite("Session ledger storage failures")
struct LedgerFailureTests {
    /// `<dir>/storage/ledger.sqlite` holding one session, closed again: a ledger to take access away from.
    static func ledgerWithOneSession(in dir: String) throws -> (storage: String, path: String) {
        let storage = dir + "/storage"
        let path = storage + "/ledger.sqlite"
        let ledger = try SessionLedger(path: path)
        try recordSession(ledger, "s1", startMs: t0)
        ledger.close()
        return (storage, path)
    }

    @Test func open_whenFileIsGarbage_throwsNotADatabaseAndLeavesTheFileUntouched() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            try garbage.write(to: URL(fileURLWithPath: path))

            let error = try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            #expect(error.kind == .notADatabase)
            #expect(error.description.contains(path))
            #expect(error.description.contains("NOT be reset silently"))
            #expect(fileBytes(path) == garbage)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["ledger.sqlite"])
        }
    }

    @Test func open_whenDatabaseTruncatedToHalf_throwsCorruptAndLeavesTheFileUntouched() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                for index in 0..<40 {
                    try recordSession(ledger, "session-\(index)-\(String(repeating: "x", count: 200))", startMs: t0)
                    try ledger.perform(
                        .faultRaised(.overTemperature, detail: String(repeating: "d", count: 1000)), unixMs: t0)
                }
            }
            // Closing the last connection checkpointed the WAL into the main file and removed it.
            #expect(!fileExists(path + "-wal"))
            let whole = try #require(fileBytes(path))
            #expect(whole.count >= 16 * 4096)
            let half = whole.prefix(whole.count / 2)
            try half.write(to: URL(fileURLWithPath: path))

            let error = try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            #expect(error.kind == .corrupt)
            #expect(error.description.contains(path))
            #expect(fileBytes(path) == half)
        }
    }

    @Test func open_whenFileIsEmpty_throwsRatherThanStartingAnEmptyHistory() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            let error = try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            #expect(error.kind == .emptyFile)
            #expect(fileBytes(path) == Data())
        }
    }

    /// A first creation cut short by a power cut leaves its half-built file under the staging name,
    /// never under the ledger's (docs/DESIGN.md, "Power loss"): the next start builds it again.
    @Test func create_afterACutMidCreation_buildsAgainFromNothing() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            let staging = path + ".creating"
            // What a cut can leave: a file with a few bytes of SQLite's header, and a WAL beside it.
            #expect(FileManager.default.createFile(atPath: staging, contents: Data("SQLite format 3\0".utf8)))
            #expect(FileManager.default.createFile(atPath: staging + "-wal", contents: Data(repeating: 7, count: 100)))
            do {
                let ledger = try SessionLedger(path: path)
                try recordSession(ledger, "after-the-cut", startMs: t0)
            }
            #expect(!fileExists(staging) && !fileExists(staging + "-wal") && !fileExists(staging + "-shm"))
            let reopened = try SessionLedger(path: path)
            #expect(try reopened.sessions(limit: 10).map(\.id) == ["after-the-cut"])
        }
    }

    @Test func open_whenParentIsAFile_throwsDirectoryError() throws {
        try withTemporaryDirectory { dir in
            #expect(FileManager.default.createFile(atPath: dir + "/not-a-dir", contents: Data("x".utf8)))
            let error = try #require(throws: LedgerError.self) {
                try SessionLedger(path: dir + "/not-a-dir/ledger.sqlite")
            }
            #expect(error.kind == .directory)
        }
    }

    @Test func open_whenPathIsADirectory_throwsCannotOpen() throws {
        try withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/ledger.sqlite", withIntermediateDirectories: true)
            let error = try #require(throws: LedgerError.self) { try SessionLedger(path: dir + "/ledger.sqlite") }
            #expect(error.kind == .cannotOpen)
        }
    }

    @Test func open_whenRetentionIsZero_throwsInvalidArgument() throws {
        try withTemporaryDirectory { dir in
            let error = try #require(throws: LedgerError.self) {
                try SessionLedger(path: dir + "/ledger.sqlite", retentionDays: 0)
            }
            #expect(error.kind == .invalidArgument)
            #expect(!fileExists(dir + "/ledger.sqlite"))
        }
    }

    // MARK: - Valid SQLite, but not a ledger this version may use
    //
    // These files are written with the sqlite3 command-line shell (Debian `sqlite3`), the way an operator
    // or a newer version would leave them; without it the tests say so and skip.

    @Test func open_whenSQLiteFileOfAnotherApplication_throwsAndAddsNoTables() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            guard Self.sqlite3(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY); INSERT INTO photos VALUES (1);")
            else { return }
            let before = fileBytes(path)
            let error = try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            #expect(error.kind == .foreignDatabase)
            #expect(fileBytes(path) == before)
        }
    }

    @Test func open_whenMigratedByANewerVersion_throwsNewerSchema() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            _ = try SessionLedger(path: path)
            guard Self.sqlite3(path, "INSERT INTO grdb_migrations VALUES ('v99-from-the-future');") else { return }
            let error = try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            #expect(error.kind == .newerSchema)
            #expect(error.description.contains("v99-from-the-future"))
        }
    }

    /// Runs SQL through the sqlite3 shell; `false` (with the reason printed) when the shell is missing.
    private static func sqlite3(_ path: String, _ sql: String) -> Bool {
        guard fileExists("/usr/bin/sqlite3") else {
            print("skipped: /usr/bin/sqlite3 is not installed (apt-get install sqlite3)")
            return false
        }
        let result = run("/usr/bin/sqlite3", [path, sql])
        #expect(result.status == 0, "sqlite3 failed: \(result.output)")
        return result.status == 0
    }

    // MARK: - Unwritable storage
    //
    // The tests run as root, where `chmod` stops nothing; `chattr +i` (immutable) and a read-only bind
    // mount stop root too. Where neither is available the test says so and skips, instead of passing
    // without having tested anything.

    @Test func open_whenDirectoryIsImmutable_throwsForANewLedger() throws {
        try withTemporaryDirectory { dir in
            let storage = dir + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            let error = try withImmutable([storage]) {
                try #require(throws: LedgerError.self) { try SessionLedger(path: storage + "/ledger.sqlite") }
            }
            guard let error else { return }
            #expect([LedgerError.Kind.cannotOpen, .readOnly].contains(error.kind), "\(error)")
            #expect(error.description.contains(storage + "/ledger.sqlite"))
        }
    }

    @Test func open_whenFileIsImmutable_throwsInsteadOfOpeningReadOnly() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger.sqlite"
            do {
                let ledger = try SessionLedger(path: path)
                try recordSession(ledger, "s1", startMs: t0)
            }
            let before = fileBytes(path)
            let error = try withImmutable([path]) {
                try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            }
            guard let error else { return }
            #expect([LedgerError.Kind.cannotOpen, .readOnly].contains(error.kind), "\(error)")
            #expect(fileBytes(path) == before)
        }
    }

    @Test func open_whenFileAndDirectoryAreImmutable_throws() throws {
        try withTemporaryDirectory { dir in
            let (storage, path) = try Self.ledgerWithOneSession(in: dir)
            let error = try withImmutable([path, storage]) {
                try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            }
            guard let error else { return }
            #expect([LedgerError.Kind.cannotOpen, .readOnly].contains(error.kind), "\(error)")
        }
    }

    @Test func open_whenMountIsReadOnly_throws() throws {
        try withTemporaryDirectory { dir in
            let (storage, path) = try Self.ledgerWithOneSession(in: dir)
            let bind = run("/usr/bin/mount", ["--bind", storage, storage])
            guard bind.status == 0 else {
                print("skipped: mount --bind failed (\(bind.status)): \(bind.output)")
                return
            }
            defer { run("/usr/bin/umount", ["-l", storage]) }
            let remount = run("/usr/bin/mount", ["-o", "remount,bind,ro", storage])
            guard remount.status == 0 else {
                print("skipped: read-only remount failed (\(remount.status)): \(remount.output)")
                return
            }
            let error = try #require(throws: LedgerError.self) { try SessionLedger(path: path) }
            #expect([LedgerError.Kind.cannotOpen, .readOnly].contains(error.kind), "\(error)")
        }
    }

    // MARK: - Full disk

    /// A real ENOSPC: the ledger on a 1 MiB tmpfs that a filler file then fills up.
    @Test func perform_whenDiskIsFull_throwsDiskFullAndKeepsEarlierRecords() throws {
        try withTemporaryDirectory { dir in
            let storage = dir + "/tmpfs"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            let mount = run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", storage])
            guard mount.status == 0 else {
                print("skipped: mounting a small tmpfs failed (\(mount.status)): \(mount.output)")
                return
            }
            defer { run("/usr/bin/umount", ["-l", storage]) }

            let ledger = try SessionLedger(path: storage + "/ledger.sqlite")
            try ledger.perform(.sessionOpened(plan("s1")), unixMs: t0)
            Self.fill(storage + "/filler")

            var failure: LedgerError?
            for index in 0..<1000 where failure == nil {
                do {
                    try ledger.perform(
                        .faultRaised(.internal, detail: "\(index) " + String(repeating: "z", count: 8192)),
                        unixMs: t0 + Int64(index))
                } catch let error as LedgerError {
                    failure = error
                }
            }
            let error = try #require(failure)
            #expect(error.kind == .diskFull, "\(error)")
            #expect(error.description.contains("disk full"))
            #expect(error.description.contains(storage + "/ledger.sqlite"))
            // What was committed before the disk filled is still there.
            #expect(try ledger.sessions(limit: 1).first?.id == "s1")
        }
    }

    /// Writes zeros until the file system refuses (ENOSPC).
    private static func fill(_ path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { return }
        defer { try? handle.close() }
        let chunk = Data(count: 4096)
        while (try? handle.write(contentsOf: chunk)) != nil {}
    }
}
