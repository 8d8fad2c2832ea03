import CSQLite

/// A failed SQLite call, turned into something a person can act on. It names the database file and
/// the operation, never the data: statements bind their values, and SQLite's own messages for the
/// errors we see ("database is locked", "UNIQUE constraint failed: alerts.id") contain none.
public struct SQLiteError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// Another connection holds the lock (SQLITE_BUSY): retrying later can succeed.
        case busy
        /// A table is locked inside this process (SQLITE_LOCKED): retrying later can succeed.
        case locked
        /// The database or its folder is read-only (SQLITE_READONLY).
        case readOnly
        /// The file exists but is not a SQLite database (SQLITE_NOTADB).
        case notADatabase
        /// The file is damaged (SQLITE_CORRUPT).
        case corrupt
        /// The disk (or `max_page_count`) is full (SQLITE_FULL).
        case full
        /// The file or its folder cannot be opened or created (SQLITE_CANTOPEN, SQLITE_PERM).
        case cantOpen
        /// The path names no file (`:memory:`, empty): state kept there would not outlive the process.
        case notAFile
        /// A constraint failed (SQLITE_CONSTRAINT): a bug in our SQL or data, not retriable.
        case constraint
        /// The schema on disk is newer than this build understands.
        case schemaTooNew
        case other
    }

    public var kind: Kind
    /// The extended result code from SQLite (0 for errors raised by Vigil itself).
    public var code: Int32
    /// SQLite's message (`sqlite3_errmsg`), or ours.
    public var message: String
    /// The database file.
    public var path: String
    /// What we were doing: `open`, `prepare`, `step`, `begin`, `commit`, `migrate`…
    public var operation: String

    public init(kind: Kind, code: Int32, message: String, path: String, operation: String) {
        self.kind = kind
        self.code = code
        self.message = message
        self.path = path
        self.operation = operation
    }

    /// Builds the error for a result code, reading the connection's message when there is one.
    init(code: Int32, connection: OpaquePointer?, path: String, operation: String) {
        let extended = connection.map { sqlite3_extended_errcode($0) } ?? code
        let text = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(code))
        self.init(kind: SQLiteError.kind(for: code), code: extended, message: text, path: path, operation: operation)
    }

    static func kind(for code: Int32) -> Kind {
        switch code & 0xFF {
        case SQLITE_BUSY: return .busy
        case SQLITE_LOCKED: return .locked
        case SQLITE_READONLY: return .readOnly
        case SQLITE_NOTADB: return .notADatabase
        case SQLITE_CORRUPT: return .corrupt
        case SQLITE_FULL: return .full
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH: return .cantOpen
        case SQLITE_CONSTRAINT: return .constraint
        default: return .other
        }
    }

    /// Whether the same call can succeed later without anyone fixing anything.
    public var isRetriable: Bool { kind == .busy || kind == .locked }

    public var description: String {
        "state database \(path): \(operation) failed: \(message)" + (hint.map { " (\($0))" } ?? "")
    }

    /// What a person should do about it.
    public var hint: String? {
        switch kind {
        case .busy, .locked: return "another process holds the database lock; retry, or stop the other vigil process"
        case .readOnly: return "the file or its folder is read-only; check permissions or choose another --state path"
        case .notADatabase: return "file is not a database; move it aside or choose another --state path"
        case .corrupt: return "the database is damaged; restore it from a backup or move it aside"
        case .full: return "the disk is full; free space, then retry"
        case .cantOpen: return "cannot open or create the file; check that its folder exists and is writable"
        case .notAFile: return "give a file path; for a throwaway run, one in a temporary folder"
        case .schemaTooNew: return "written by a newer vigil; upgrade vigil"
        case .constraint, .other: return nil
        }
    }
}
