import Foundation
internal import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SessionLedger {
    /// The name a new ledger is built under before it takes its real name.
    static func stagingPath(for path: String) -> String { path + ".creating" }

    /// Creates the ledger at `path` so that a power cut at any moment leaves either no ledger or a
    /// complete one (docs/DESIGN.md, "Power loss").
    ///
    /// Built in place, a first creation has moments where the file exists with GRDB's bookkeeping but
    /// not yet the schema, or with no bytes at all; the next boot rightly refuses such a file (it
    /// never replaces a damaged ledger) and the panel stays dark until someone removes it. The power-loss
    /// check found exactly that. So the file is built under ``stagingPath(for:)``, schema and WAL mode
    /// complete, closed (SQLite checkpoints the WAL into it and deletes the WAL), synced, renamed to
    /// `path` and the directory synced. A cut before the rename leaves only the staging file, which the
    /// next creation deletes and builds again: it never held a record.
    static func createDurably(path: String, configuration: Configuration) throws {
        let staging = Self.stagingPath(for: path)
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(staging + suffix) }
        do {
            let queue = try DatabaseQueue(path: staging, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard journalMode == "wal" else {
                    throw LedgerError.walUnavailable(path: path, journalMode: journalMode)
                }
            }
            try LedgerSchema.migrator.migrate(queue)
            try queue.close()
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.wrapping(error, path: path, operation: "creating")
        }
        // The WAL must be gone (checkpointed into the file at close): renamed without it, the schema
        // would stay behind under the staging name.
        if let size = (try? FileManager.default.attributesOfItem(atPath: staging + "-wal"))?[.size] as? NSNumber,
            size.int64Value > 0
        {
            throw LedgerError.invalidArgument(
                path: path, operation: "creating", detail: "the new ledger's WAL was not checkpointed at close")
        }
        unlink(staging + "-shm")
        try Self.sync(staging, path: path)
        guard rename(staging, path) == 0 else {
            throw LedgerError.invalidArgument(
                path: path, operation: "creating", detail: "rename: \(String(cString: strerror(errno)))")
        }
        try Self.sync(URL(fileURLWithPath: path).deletingLastPathComponent().path, path: path)
    }

    /// `fsync` of a file or directory: its bytes, or the directory entry a rename wrote, on the disk.
    private static func sync(_ target: String, path: String) throws {
        let descriptor = Glibc.open(target, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { Glibc.close(descriptor) }
            throw LedgerError.invalidArgument(path: path, operation: "creating", detail: "fsync \(target): \(reason)")
        }
        Glibc.close(descriptor)
    }
}
