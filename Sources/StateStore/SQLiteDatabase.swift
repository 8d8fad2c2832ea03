import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One SQLite connection, owned by this object and closed in `deinit` (or by `close()`, which
/// reports failure).
///
/// Thread rules: the connection is opened `NOMUTEX`; every call takes `lock` (recursive, so a
/// transaction body may call back in), so one instance may be shared between threads, with calls
/// serialised. Blocking: calls can wait up to `busyTimeout` for another process's lock, so callers
/// keep them off the cooperative thread pool when that matters.
public final class SQLiteDatabase: @unchecked Sendable {
    public struct Options: Sendable {
        /// Open without write access (`SQLITE_OPEN_READONLY`).
        public var readOnly: Bool = false
        /// Create the file (mode 0600) when it does not exist.
        public var create: Bool = true
        /// How long a statement waits for another connection's lock before failing with `.busy`.
        public var busyTimeoutMilliseconds: Int32 = 5_000
        /// `synchronous=FULL`: every commit is fsynced, so an acknowledged commit survives power loss.
        public var synchronousFull: Bool = true
        /// WAL journal: readers do not block the writer (the dispatcher reads while the pipeline writes).
        public var walJournal: Bool = true

        public init(readOnly: Bool = false, create: Bool = true, busyTimeoutMilliseconds: Int32 = 5_000,
                    synchronousFull: Bool = true, walJournal: Bool = true) {
            self.readOnly = readOnly
            self.create = create
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.synchronousFull = synchronousFull
            self.walJournal = walJournal
        }
    }

    public let path: String
    public let options: Options
    private var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]
    private let lock = NSRecursiveLock()
    private var transactionDepth = 0
    /// `afterCommit` actions waiting for the outermost transaction to commit.
    private var commitActions = CommitActions()

    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.options = options
        // SQLite would keep ":memory:" in memory and "" in a temporary file deleted on close (and
        // `createPrivateFile` would make a file named ":memory:"): nothing would outlive the run,
        // and a second connection (the outbox dispatcher, `vigil outbox`) would see another database.
        // A "file:" name is a URI where SQLite is built with URI names (Debian's is), which can say
        // `mode=memory` too.
        if path.isEmpty || path == ":memory:" || path.hasPrefix("file:") {
            throw SQLiteError(kind: .notAFile, code: SQLITE_CANTOPEN, message: "not a file: the state (outbox, checkpoints, baselines) must outlive the process",
                              path: path.isEmpty ? "\"\"" : path, operation: "open")
        }
        if !options.readOnly, options.create { try SQLiteDatabase.createPrivateFile(path) }
        var db: OpaquePointer?
        let flags = (options.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
            | (options.create && !options.readOnly ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(code: rc, connection: db, path: path, operation: "open")
            if let db { sqlite3_close_v2(db) }
            throw error
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, options.busyTimeoutMilliseconds)
        do {
            // The first read touches the file: "file is not a database" surfaces here, at open.
            _ = try scalarInt("PRAGMA schema_version")
            if !options.readOnly {
                if sqlite3_db_readonly(db, "main") == 1 {
                    throw SQLiteError(kind: .readOnly, code: SQLITE_READONLY, message: "attempt to write a readonly database",
                                      path: path, operation: "open")
                }
                if options.walJournal { _ = try query("PRAGMA journal_mode=WAL") { $0.string(0) } }
                try execute("PRAGMA synchronous=\(options.synchronousFull ? "FULL" : "NORMAL")")
            }
            try execute("PRAGMA foreign_keys=ON")
        } catch let error as SQLiteError {
            var e = error
            e.operation = "open"
            cache.removeAll()
            sqlite3_close_v2(db)
            handle = nil
            throw e
        }
    }

    deinit {
        cache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
    }

    /// Finalises every statement and closes the connection; reports a failed close.
    public func close() throws {
        lock.lock(); defer { lock.unlock() }
        guard let db = handle else { return }
        cache.removeAll()
        let rc = sqlite3_close(db)
        if rc != SQLITE_OK { throw SQLiteError(code: rc, connection: db, path: path, operation: "close") }
        handle = nil
    }

    /// Creates `path` with mode 0600 unless it exists. SQLite gives its -wal and -shm files the mode
    /// of the database file, so they are private too.
    static func createPrivateFile(_ path: String) throws {
        let fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        if fd >= 0 { closeDescriptor(fd); return }
        let err = errno
        if err == EEXIST { return }
        let kind: SQLiteError.Kind = (err == EROFS || err == EACCES) ? .readOnly : (err == ENOSPC ? .full : .cantOpen)
        throw SQLiteError(kind: kind, code: SQLITE_CANTOPEN, message: String(cString: strerror(err)), path: path,
                          operation: "create")
    }

    private static func closeDescriptor(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }

    private func connection(_ operation: String) throws -> OpaquePointer {
        guard let handle else {
            throw SQLiteError(kind: .other, code: SQLITE_MISUSE, message: "connection is closed", path: path, operation: operation)
        }
        return handle
    }

    private func fail(_ rc: Int32, _ operation: String) -> SQLiteError {
        SQLiteError(code: rc, connection: handle, path: path, operation: operation)
    }

    /// Runs one or more statements without parameters (schema, pragmas).
    public func execute(_ sql: String) throws {
        lock.lock(); defer { lock.unlock() }
        let db = try connection("execute")
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw fail(rc, "execute") }
    }

    private func prepared(_ sql: String) throws -> SQLiteStatement {
        if let s = cache[sql] { return s }
        let db = try connection("prepare")
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw fail(rc, "prepare") }
        let s = SQLiteStatement(handle: stmt, sql: sql)
        cache[sql] = s
        return s
    }

    /// Runs a cached statement with `arguments`, calling `row` for each result row.
    @discardableResult
    public func query<T>(_ sql: String, _ arguments: [any SQLiteBindable] = [], _ row: (SQLiteRow) throws -> T) throws -> [T] {
        lock.lock(); defer { lock.unlock() }
        let stmt = try prepared(sql)
        defer { stmt.reset() }
        let brc = stmt.bind(arguments)
        if brc != SQLITE_OK { throw fail(brc, "bind") }
        var out: [T] = []
        while true {
            let rc = sqlite3_step(stmt.handle)
            if rc == SQLITE_ROW { out.append(try row(SQLiteRow(handle: stmt.handle))); continue }
            if rc == SQLITE_DONE { return out }
            throw fail(rc, "step")
        }
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> Int {
        lock.lock(); defer { lock.unlock() }
        try query(sql, arguments) { _ in () }
        return Int(sqlite3_changes(try connection("run")))
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public func scalarInt(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> Int64? {
        try query(sql, arguments) { $0.optionalInt64(0) }.first ?? nil
    }

    public var lastInsertRowID: Int64 {
        lock.lock(); defer { lock.unlock() }
        return handle.map { sqlite3_last_insert_rowid($0) } ?? 0
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE`, so the write lock is taken up front and a
    /// busy database fails before any work). Commits when `body` returns, rolls back when it throws.
    /// Nested calls become savepoints.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        lock.lock(); defer { lock.unlock() }
        let depth = transactionDepth
        try execute(depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT vigil_\(depth)")
        transactionDepth += 1
        // What was asked to wait for a commit before this level: a rollback here drops only its own.
        let actionsBefore = commitActions.mark
        let result: T
        do {
            result = try body()
        } catch {
            transactionDepth = depth
            commitActions.rollBack(to: actionsBefore)
            if depth == 0 {
                try? execute("ROLLBACK")
            } else {
                try? execute("ROLLBACK TO vigil_\(depth)")
                try? execute("RELEASE vigil_\(depth)")
            }
            throw error
        }
        transactionDepth = depth
        do {
            try execute(depth == 0 ? "COMMIT" : "RELEASE vigil_\(depth)")
        } catch {
            commitActions.rollBack(to: actionsBefore)
            if depth == 0 { try? execute("ROLLBACK") }
            throw error
        }
        if depth == 0 { commitActions.committed() }
        return result
    }

    /// Runs `action` once what has been written so far is durable: when the outermost transaction
    /// commits (never, if it or the savepoint the call was made in rolls back), or at once outside
    /// any transaction. For in-memory state that mirrors a write ("saved"), which a nested
    /// transaction's own release does not make durable.
    public func afterCommit(_ action: @escaping () -> Void) {
        lock.lock(); defer { lock.unlock() }
        if transactionDepth == 0 { action() } else { commitActions.append(action) }
    }
}
