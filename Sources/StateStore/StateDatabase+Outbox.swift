import CSQLite
import EventModel

/// One outbox row with its delivery state for one sink.
public struct OutboxRecord: Sendable, Hashable {
    public var rowId: Int64
    /// `alert` or `incident`.
    public var kind: String
    public var objectId: String
    public var revision: Int
    public var payload: String
    /// Unix seconds when it was appended.
    public var createdAt: Double
    /// Set when a dead letter was re-queued for one sink only.
    public var targetSink: String?
    /// Failed attempts so far for this sink, and when the first failed.
    public var attempts: Int
    public var firstErrorAt: Double?
    /// Not before this time (Unix seconds), after a failure.
    public var nextAttemptAt: Double?
}

/// A delivery that gave up, kept with its reason for `vigil outbox retry`.
public struct DeadLetterRecord: Sendable, Hashable {
    public var id: Int64
    public var sink: String
    public var rowId: Int64
    public var kind: String
    public var objectId: String
    public var revision: Int
    public var payload: String
    public var reason: String
    public var attempts: Int
    public var firstErrorAt: Double
    public var lastErrorAt: Double
}

/// Queue state for one sink (`vigil outbox status`).
public struct OutboxSinkStatus: Sendable, Hashable {
    public var sink: String
    /// Rows waiting for this sink.
    public var depth: Int
    /// Unix seconds of the oldest waiting row.
    public var oldestCreatedAt: Double?
    /// Most failed attempts of any waiting row, and the last error.
    public var maxAttempts: Int
    public var lastError: String?
    public var nextAttemptAt: Double?
    public var delivered: Int
    public var deadLetters: Int
}

extension StateDatabase {
    /// Appends one row for every sink (or for `targetSink` only). Returns its row id.
    @discardableResult
    public func appendOutbox(kind: String, objectId: String, revision: Int, payload: String,
                             targetSink: String? = nil) throws -> Int64 {
        try connection.run(
            "INSERT INTO outbox (kind, object_id, revision, payload, created_at, target_sink) VALUES (?, ?, ?, ?, ?, ?)",
            [kind, objectId, revision, payload, clock(), targetSink])
        return connection.lastInsertRowID
    }

    /// Makes `sink` known. A new sink starts at the beginning of what the outbox still holds.
    public func registerSink(_ sink: String) throws {
        try connection.run("INSERT OR IGNORE INTO outbox_sinks (sink, cursor, delivered, updated_at) VALUES (?, 0, 0, ?)",
                           [sink, clock()])
    }

    public func registeredSinks() throws -> [String] {
        try connection.query("SELECT sink FROM outbox_sinks ORDER BY sink") { $0.string(0) }
    }

    private static let pendingRows = """
        FROM outbox o
        JOIN outbox_sinks s ON s.sink = ?1
        LEFT JOIN outbox_attempts a ON a.sink = ?1 AND a.row_id = o.row_id
        WHERE o.row_id > s.cursor AND (o.target_sink IS NULL OR o.target_sink = ?1) AND COALESCE(a.done, 0) = 0
        """

    /// The next rows `sink` has not finished, in row order.
    public func pendingOutbox(sink: String, limit: Int) throws -> [OutboxRecord] {
        try connection.query(
            """
            SELECT o.row_id, o.kind, o.object_id, o.revision, o.payload, o.created_at, o.target_sink,
                   COALESCE(a.attempts, 0), a.first_error_at, a.next_attempt_at
            \(StateDatabase.pendingRows)
            ORDER BY o.row_id LIMIT ?2
            """, [sink, limit]) {
            OutboxRecord(rowId: $0.int64(0), kind: $0.string(1), objectId: $0.string(2), revision: $0.int(3),
                         payload: $0.string(4), createdAt: $0.double(5), targetSink: $0.optionalString(6),
                         attempts: $0.int(7), firstErrorAt: $0.isNull(8) ? nil : $0.double(8),
                         nextAttemptAt: $0.isNull(9) ? nil : $0.double(9))
        }
    }

    /// How many rows `sink` has not finished.
    public func pendingCount(sink: String) throws -> Int {
        Int(try connection.scalarInt("SELECT COUNT(*) \(StateDatabase.pendingRows)", [sink]) ?? 0)
    }

    /// Records that `sink` accepted these rows. The cursor moves past every finished row at the head.
    public func markDelivered(sink: String, rowIds: [Int64]) throws {
        guard !rowIds.isEmpty else { return }
        try transaction {
            try markDone(sink: sink, rowIds: rowIds)
            try connection.run("UPDATE outbox_sinks SET delivered = delivered + ? WHERE sink = ?", [rowIds.count, sink])
            try advanceCursor(sink: sink)
        }
    }

    /// Records a failed attempt for these rows; they wait until `nextAttemptAt`.
    public func recordFailure(sink: String, rowIds: [Int64], reason: String, nextAttemptAt: Double) throws {
        let now = clock()
        try transaction {
            for row in rowIds {
                try connection.run(
                    """
                    INSERT INTO outbox_attempts (sink, row_id, attempts, first_error_at, last_error_at, last_error, next_attempt_at)
                    VALUES (?1, ?2, 1, ?3, ?3, ?4, ?5)
                    ON CONFLICT(sink, row_id) DO UPDATE SET attempts = attempts + 1,
                        first_error_at = COALESCE(first_error_at, excluded.first_error_at),
                        last_error_at = excluded.last_error_at, last_error = excluded.last_error,
                        next_attempt_at = excluded.next_attempt_at
                    """, [sink, row, now, reason, nextAttemptAt])
            }
        }
    }

    /// Moves these rows to `dead_letter` for `sink` with `reason`, and past the sink's cursor.
    public func deadLetter(sink: String, rowIds: [Int64], reason: String) throws {
        guard !rowIds.isEmpty else { return }
        let now = clock()
        try transaction {
            for row in rowIds {
                try connection.run(
                    """
                    INSERT INTO dead_letter (sink, row_id, kind, object_id, revision, payload, reason, attempts,
                                             first_error_at, last_error_at, created_at)
                    SELECT ?1, o.row_id, o.kind, o.object_id, o.revision, o.payload, ?3, COALESCE(a.attempts, 0),
                           COALESCE(a.first_error_at, ?4), COALESCE(a.last_error_at, ?4), ?4
                    FROM outbox o LEFT JOIN outbox_attempts a ON a.sink = ?1 AND a.row_id = o.row_id
                    WHERE o.row_id = ?2
                    """, [sink, row, reason, now])
            }
            try markDone(sink: sink, rowIds: rowIds)
            try advanceCursor(sink: sink)
        }
    }

    private func markDone(sink: String, rowIds: [Int64]) throws {
        for row in rowIds {
            try connection.run(
                """
                INSERT INTO outbox_attempts (sink, row_id, done) VALUES (?, ?, 1)
                ON CONFLICT(sink, row_id) DO UPDATE SET done = 1
                """, [sink, row])
        }
    }

    /// Moves the cursor to just before the first unfinished row (or to the last row), and forgets
    /// the per-row state behind it.
    private func advanceCursor(sink: String) throws {
        let firstPending = try connection.scalarInt("SELECT MIN(o.row_id) \(StateDatabase.pendingRows)", [sink])
        let cursor: Int64
        if let firstPending {
            cursor = firstPending - 1
        } else {
            cursor = try connection.scalarInt("SELECT MAX(row_id) FROM outbox") ?? 0
        }
        try connection.run("UPDATE outbox_sinks SET cursor = MAX(cursor, ?), updated_at = ? WHERE sink = ?",
                           [cursor, clock(), sink])
        try connection.run("DELETE FROM outbox_attempts WHERE sink = ? AND row_id <= (SELECT cursor FROM outbox_sinks WHERE sink = ?)",
                           [sink, sink])
    }

    /// Queue depth, age and errors per known sink.
    public func outboxStatus() throws -> [OutboxSinkStatus] {
        try registeredSinks().map { sink in
            let head = try connection.query(
                """
                SELECT COUNT(*), MIN(o.created_at), MAX(COALESCE(a.attempts, 0)), MIN(a.next_attempt_at)
                \(StateDatabase.pendingRows)
                """, [sink]) { ($0.int(0), $0.isNull(1) ? nil : $0.double(1), $0.int(2), $0.isNull(3) ? nil : $0.double(3)) }[0]
            let lastError = try connection.query(
                "SELECT last_error FROM outbox_attempts WHERE sink = ? AND done = 0 AND last_error IS NOT NULL ORDER BY last_error_at DESC LIMIT 1",
                [sink]) { $0.string(0) }.first
            let delivered = Int(try connection.scalarInt("SELECT delivered FROM outbox_sinks WHERE sink = ?", [sink]) ?? 0)
            let dead = Int(try connection.scalarInt("SELECT COUNT(*) FROM dead_letter WHERE sink = ?", [sink]) ?? 0)
            return OutboxSinkStatus(sink: sink, depth: head.0, oldestCreatedAt: head.1, maxAttempts: head.2,
                                    lastError: lastError, nextAttemptAt: head.3, delivered: delivered, deadLetters: dead)
        }
    }

    public var outboxCount: Int { get throws { Int(try connection.scalarInt("SELECT COUNT(*) FROM outbox") ?? 0) } }

    public func deadLetters(sink: String? = nil) throws -> [DeadLetterRecord] {
        try connection.query(
            """
            SELECT id, sink, row_id, kind, object_id, revision, payload, reason, attempts, first_error_at, last_error_at
            FROM dead_letter WHERE (?1 IS NULL OR sink = ?1) ORDER BY id
            """, [sink]) {
            DeadLetterRecord(id: $0.int64(0), sink: $0.string(1), rowId: $0.int64(2), kind: $0.string(3),
                             objectId: $0.string(4), revision: $0.int(5), payload: $0.string(6), reason: $0.string(7),
                             attempts: $0.int(8), firstErrorAt: $0.double(9), lastErrorAt: $0.double(10))
        }
    }

    /// Puts dead letters back in the queue, as new rows for their sink only. Returns how many.
    @discardableResult
    public func retryDeadLetters(sink: String? = nil, rowId: Int64? = nil) throws -> Int {
        try transaction {
            let letters = try deadLetters(sink: sink).filter { rowId == nil || $0.rowId == rowId }
            for l in letters {
                try appendOutbox(kind: l.kind, objectId: l.objectId, revision: l.revision, payload: l.payload, targetSink: l.sink)
                try connection.run("DELETE FROM dead_letter WHERE id = ?", [l.id])
            }
            return letters.count
        }
    }

    /// Deletes outbox rows every known sink has finished, appended before `before` (Unix seconds).
    @discardableResult
    public func purgeDelivered(before: Double) throws -> Int {
        try transaction {
            guard let done = try connection.scalarInt("SELECT MIN(cursor) FROM outbox_sinks") else { return 0 }
            return try connection.run("DELETE FROM outbox WHERE row_id <= ? AND created_at < ?", [done, before])
        }
    }

    /// Deletes dead letters whose last error was before `before` (Unix seconds).
    @discardableResult
    public func purgeDeadLetters(before: Double, sink: String? = nil) throws -> Int {
        try connection.run("DELETE FROM dead_letter WHERE last_error_at < ?1 AND (?2 IS NULL OR sink = ?2)", [before, sink])
    }
}
