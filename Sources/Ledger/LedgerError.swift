import Foundation
internal import GRDB

/// Why the session ledger could not open, read or write its SQLite file.
///
/// The gateway turns every one of these into `F_STORAGE`: once the ledger cannot be trusted, neither can
/// the rolling 24 h dose it feeds to the safety core (S3). The message names the file, what went wrong
/// and what the operator can do; the ledger never repairs a damaged history by starting over silently.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    /// The class of failure, for callers that react differently to, say, a full disk and a corrupt file.
    ///
    /// A struct over a private enum, so later versions can add kinds without breaking a `switch`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String, Hashable, Sendable {
            case notADatabase = "not_a_database"
            case corrupt
            case emptyFile = "empty_file"
            case foreignDatabase = "foreign_database"
            case newerSchema = "newer_schema"
            case walUnavailable = "wal_unavailable"
            case diskFull = "disk_full"
            case readOnly = "read_only"
            case cannotOpen = "cannot_open"
            case directory
            case busy
            case io
            case unknownSession = "unknown_session"
            case duplicateSession = "duplicate_session"
            case sessionClosed = "session_closed"
            case unreadableRow = "unreadable_row"
            case invalidArgument = "invalid_argument"
            case sqlite
        }

        fileprivate let code: Code

        fileprivate init(_ code: Code) { self.code = code }

        /// The file is not SQLite at all (garbage, or another format).
        public static let notADatabase = Kind(.notADatabase)
        /// SQLite found damage: a truncated file, bad pages, a failed `quick_check`.
        public static let corrupt = Kind(.corrupt)
        /// The file exists but has no bytes: a ledger is never empty once created, so it was truncated.
        public static let emptyFile = Kind(.emptyFile)
        /// A valid SQLite database that is not an rlt-gateway ledger.
        public static let foreignDatabase = Kind(.foreignDatabase)
        /// The ledger was migrated by a newer rlt-gateway whose schema this version does not know.
        public static let newerSchema = Kind(.newerSchema)
        /// SQLite refused write-ahead logging on this file system.
        public static let walUnavailable = Kind(.walUnavailable)
        /// `SQLITE_FULL`: the disk (or the file system's quota) is full.
        public static let diskFull = Kind(.diskFull)
        /// The file or its directory cannot be written.
        public static let readOnly = Kind(.readOnly)
        /// SQLite could not open the file (missing permissions, path is a directory, …).
        public static let cannotOpen = Kind(.cannotOpen)
        /// The parent directory is missing and could not be created.
        public static let directory = Kind(.directory)
        /// Another process holds a lock on the ledger for too long.
        public static let busy = Kind(.busy)
        /// The operating system reported an I/O error.
        public static let io = Kind(.io)
        /// A record names a session the ledger never opened.
        public static let unknownSession = Kind(.unknownSession)
        /// `sessionOpened` for an id that is already in the ledger.
        public static let duplicateSession = Kind(.duplicateSession)
        /// A checkpoint or close for a session that is already closed.
        public static let sessionClosed = Kind(.sessionClosed)
        /// A stored row holds a value this version cannot read.
        public static let unreadableRow = Kind(.unreadableRow)
        /// A caller passed a value the ledger cannot use (for example a retention of 0 days).
        public static let invalidArgument = Kind(.invalidArgument)
        /// Any other SQLite error.
        public static let sqlite = Kind(.sqlite)

        public var description: String { self.code.rawValue }
    }

    public let kind: Kind
    /// The ledger file the error is about.
    public let path: String
    /// What the ledger was doing, e.g. `opening` or `recording session_checkpoint for s-17`.
    public let operation: String
    /// The underlying SQLite or system message, if any.
    public let detail: String?

    fileprivate init(_ code: Kind.Code, path: String, operation: String, detail: String? = nil) {
        self.kind = Kind(code)
        self.path = path
        self.operation = operation
        self.detail = detail
    }

    public var description: String {
        let subject = "ledger \(self.path)"
        let cause = self.detail.map { " (\($0))" } ?? ""
        let keep = "the dose history will NOT be reset silently"
        // Opening is the common case and reads better left implicit ("… is read-only (SQLite 8: …)").
        let during = self.operation == "opening" ? "" : " while \(self.operation)"
        switch self.kind.code {
        case .notADatabase:
            return "\(subject) is not a database (file is corrupt or not SQLite)\(during)\(cause); "
                + "move it aside to start a new history — \(keep)"
        case .corrupt:
            return "\(subject) is corrupt (truncated or damaged pages)\(during)\(cause); "
                + "restore it from a backup or move it aside to start a new history — \(keep)"
        case .emptyFile:
            return "\(subject) exists but is empty (0 bytes), so its history was lost (truncated); "
                + "delete it to start a new history — \(keep)"
        case .foreignDatabase:
            return "\(subject) is an SQLite database of another application\(cause); "
                + "point storage.path at a file of its own"
        case .newerSchema:
            return "\(subject) was written by a newer rlt-gateway (unknown schema migrations\(cause)); "
                + "run that version or move the file aside — an older version will not guess its contents"
        case .walUnavailable:
            return "\(subject) cannot use write-ahead logging\(cause); "
                + "put storage.path on a local file system (ext4, f2fs, tmpfs), not a network share"
        case .diskFull:
            return "\(subject): disk full (SQLITE_FULL)\(during)\(cause); "
                + "free space on its file system — the record was not written"
        case .readOnly:
            return "\(subject) is read-only\(during)\(cause); "
                + "make the file, its directory (SQLite creates -wal and -shm files there) and the mount writable"
        case .cannotOpen:
            return "\(subject) cannot be opened\(during)\(cause); "
                + "check that the path names a file, not a directory, and that the file and its directory are "
                + "writable (SQLite creates -wal and -shm files there)"
        case .directory:
            return "\(subject): its directory cannot be created\(cause); "
                + "create it and make it writable for the gateway, or change storage.path"
        case .busy:
            return "\(subject) is locked by another process\(during)\(cause); "
                + "stop the other rlt-gateway or sqlite3 session that holds it"
        case .io:
            return "\(subject): I/O error\(during)\(cause); "
                + "check the storage device (kernel log) — the record may not have been written"
        case .unknownSession:
            return "\(subject) has no such session\(during)\(cause); "
                + "a session must be recorded as opened before its checkpoints and close — nothing was written"
        case .duplicateSession:
            return "\(subject) already holds this session\(during)\(cause); "
                + "session ids must be unique — nothing was written"
        case .sessionClosed:
            return "\(subject): the session is already closed\(during)\(cause); "
                + "a closed session's dose is final — nothing was written"
        case .unreadableRow:
            return "\(subject) holds a row this version cannot read\(during)\(cause); "
                + "the file was edited by hand or by a newer version — restore it or move it aside"
        case .invalidArgument:
            return "\(subject): invalid argument\(during)\(cause)"
        case .sqlite:
            return "\(subject): SQLite error\(during)\(cause)"
        }
    }
}

extension LedgerError {
    static func emptyFile(path: String) -> LedgerError {
        LedgerError(.emptyFile, path: path, operation: "opening")
    }

    static func corrupt(path: String, operation: String, detail: String) -> LedgerError {
        LedgerError(.corrupt, path: path, operation: operation, detail: detail)
    }

    static func foreignDatabase(path: String, applicationID: Int) -> LedgerError {
        LedgerError(
            .foreignDatabase, path: path, operation: "opening",
            detail: "application_id \(applicationID), expected \(LedgerSchema.applicationID)")
    }

    static func newerSchema(path: String, unknownMigrations: [String]) -> LedgerError {
        LedgerError(
            .newerSchema, path: path, operation: "opening", detail: unknownMigrations.sorted().joined(separator: ", "))
    }

    static func walUnavailable(path: String, journalMode: String?) -> LedgerError {
        LedgerError(.walUnavailable, path: path, operation: "opening", detail: "journal_mode \(journalMode ?? "?")")
    }

    static func directory(path: String, underlying: any Error) -> LedgerError {
        LedgerError(.directory, path: path, operation: "opening", detail: underlying.localizedDescription)
    }

    static func unknownSession(path: String, operation: String) -> LedgerError {
        LedgerError(.unknownSession, path: path, operation: operation)
    }

    static func duplicateSession(path: String, operation: String) -> LedgerError {
        LedgerError(.duplicateSession, path: path, operation: operation)
    }

    static func sessionClosed(path: String, operation: String) -> LedgerError {
        LedgerError(.sessionClosed, path: path, operation: operation)
    }

    static func unreadableRow(path: String, operation: String, detail: String) -> LedgerError {
        LedgerError(.unreadableRow, path: path, operation: operation, detail: detail)
    }

    static func invalidArgument(path: String, operation: String, detail: String) -> LedgerError {
        LedgerError(.invalidArgument, path: path, operation: operation, detail: detail)
    }

    /// Translates whatever GRDB or Foundation threw into a ``LedgerError``: one place for every SQLite
    /// result code, so no call site forgets `SQLITE_FULL` or `SQLITE_NOTADB`.
    static func wrapping(_ error: any Error, path: String, operation: String) -> LedgerError {
        if let error = error as? LedgerError {
            return error
        }
        guard let error = error as? DatabaseError else {
            return LedgerError(.io, path: path, operation: operation, detail: error.localizedDescription)
        }
        let detail = "SQLite \(error.extendedResultCode.rawValue): \(error.message ?? "no message")"
        let code: Kind.Code
        switch error.resultCode {
        case .SQLITE_NOTADB: code = .notADatabase
        case .SQLITE_CORRUPT: code = .corrupt
        case .SQLITE_FULL: code = .diskFull
        case .SQLITE_READONLY, .SQLITE_PERM: code = .readOnly
        case .SQLITE_CANTOPEN: code = .cannotOpen
        case .SQLITE_BUSY, .SQLITE_LOCKED: code = .busy
        case .SQLITE_IOERR: code = .io
        default: code = .sqlite
        }
        return LedgerError(code, path: path, operation: operation, detail: detail)
    }
}
