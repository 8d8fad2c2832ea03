// Deferred outbox rows: a row a sink cannot deliver *yet* because the target lacks something a later
// row brings (a Sentinel comment before its incident exists). Unlike a failure it does not count an
// attempt and does not hold back the rows behind it; it goes again once `next_attempt_at` passes.
//
// Stored in `outbox_attempts` without a schema change: `attempts` is left alone, `next_attempt_at` is
// the retry time, `first_error_at` the start of the trouble (kept when set), and `last_error` starts
// with `deferredMarker`. A later real failure overwrites `last_error`, so the row blocks again like any
// failed row; delivery or dead-lettering finishes it as usual.
extension StateDatabase {
    /// Prefix of `last_error` on a deferred row (also what `vigil outbox status` shows).
    public static let deferredMarker = "deferred: "

    /// Records that `sink` could not deliver these rows yet: they wait until `until` (Unix seconds),
    /// with no failed attempt counted. `now` starts the deferral clock for rows with no earlier trouble.
    public func deferOutbox(sink: String, rowIds: [Int64], reason: String, until: Double, now: Double) throws {
        guard !rowIds.isEmpty else { return }
        try transaction {
            for row in rowIds {
                try connection.run(
                    """
                    INSERT INTO outbox_attempts (sink, row_id, attempts, first_error_at, last_error_at, last_error, next_attempt_at)
                    VALUES (?1, ?2, 0, ?3, ?3, ?4, ?5)
                    ON CONFLICT(sink, row_id) DO UPDATE SET
                        first_error_at = COALESCE(first_error_at, excluded.first_error_at),
                        last_error_at = excluded.last_error_at, last_error = excluded.last_error,
                        next_attempt_at = excluded.next_attempt_at
                    """, [sink, row, now, StateDatabase.deferredMarker + reason, until])
            }
        }
    }

    /// `sink`'s unfinished rows a dispatcher may consider at `now`, in row order: every pending row
    /// except deferred rows that are not due yet. Failed rows are included (with their
    /// `nextAttemptAt`): they still hold back what follows them.
    public func dueOutbox(sink: String, limit: Int, now: Double) throws -> [OutboxRecord] {
        try connection.query(
            """
            SELECT o.row_id, o.kind, o.object_id, o.revision, o.payload, o.created_at, o.target_sink,
                   COALESCE(a.attempts, 0), a.first_error_at, a.next_attempt_at
            FROM outbox o
            JOIN outbox_sinks s ON s.sink = ?1
            LEFT JOIN outbox_attempts a ON a.sink = ?1 AND a.row_id = o.row_id
            WHERE o.row_id > s.cursor AND (o.target_sink IS NULL OR o.target_sink = ?1) AND COALESCE(a.done, 0) = 0
              AND NOT (\(StateDatabase.isDeferred) AND COALESCE(a.next_attempt_at, 0) > ?3)
            ORDER BY o.row_id LIMIT ?2
            """, [sink, limit, now]) {
            OutboxRecord(rowId: $0.int64(0), kind: $0.string(1), objectId: $0.string(2), revision: $0.int(3),
                         payload: $0.string(4), createdAt: $0.double(5), targetSink: $0.optionalString(6),
                         attempts: $0.int(7), firstErrorAt: $0.isNull(8) ? nil : $0.double(8),
                         nextAttemptAt: $0.isNull(9) ? nil : $0.double(9))
        }
    }

    /// The earliest time a deferred row of `sink` falls due, or nil when none is deferred.
    public func nextDeferredDue(sink: String) throws -> Double? {
        try connection.query(
            """
            SELECT MIN(a.next_attempt_at) FROM outbox_attempts a JOIN outbox_sinks s ON s.sink = a.sink
            WHERE a.sink = ?1 AND a.row_id > s.cursor AND a.done = 0 AND \(StateDatabase.isDeferred)
            """, [sink]) { $0.isNull(0) ? nil : $0.double(0) }.first ?? nil
    }

    private static let isDeferred = "COALESCE(a.last_error, '') LIKE '\(deferredMarker)%'"
}
