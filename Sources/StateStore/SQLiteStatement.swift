import CSQLite

/// One prepared statement, owned and finalised here. Not thread-safe: only its connection uses it,
/// under the connection's lock.
final class SQLiteStatement {
    let handle: OpaquePointer
    let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `values` to parameters 1…n. Returns the SQLite result code of the first failure.
    func bind(_ values: [any SQLiteBindable]) -> Int32 {
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch v.sqliteValue {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .integer(let n): rc = sqlite3_bind_int64(handle, index, n)
            case .real(let d): rc = sqlite3_bind_double(handle, index, d)
            case .text(let s): rc = sqlite3_bind_text(handle, index, s, -1, csqlite_transient())
            case .blob(let b):
                rc = b.withUnsafeBytes { raw in
                    sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), csqlite_transient())
                }
            }
            if rc != SQLITE_OK { return rc }
        }
        return SQLITE_OK
    }
}

/// The current row of a query, valid only inside the row closure.
public struct SQLiteRow {
    let handle: OpaquePointer

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }
    public func isNull(_ i: Int) -> Bool { sqlite3_column_type(handle, Int32(i)) == SQLITE_NULL }
    public func int64(_ i: Int) -> Int64 { sqlite3_column_int64(handle, Int32(i)) }
    public func int(_ i: Int) -> Int { Int(sqlite3_column_int64(handle, Int32(i))) }
    public func double(_ i: Int) -> Double { sqlite3_column_double(handle, Int32(i)) }
    public func string(_ i: Int) -> String {
        guard let p = sqlite3_column_text(handle, Int32(i)) else { return "" }
        let n = Int(sqlite3_column_bytes(handle, Int32(i)))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    public func optionalString(_ i: Int) -> String? { isNull(i) ? nil : string(i) }
    public func optionalInt64(_ i: Int) -> Int64? { isNull(i) ? nil : int64(i) }
    public func blob(_ i: Int) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(handle, Int32(i)))
        guard n > 0, let p = sqlite3_column_blob(handle, Int32(i)) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}
