import EventModel

/// One open Sigma correlation window as stored: which correlation (by rule id) and group-by key,
/// the definition hash it was opened under, its time span, and its body (entries, entities) as
/// JSON written and read by `Detection`'s `Correlator`. The StateStore does not interpret `body`.
public struct StoredCorrelationWindow: Sendable, Hashable {
    public var correlationId: String
    public var groupKey: String
    public var definition: String
    public var firstNanos: Int64
    public var lastNanos: Int64
    /// Entries in the window (for `sqlite3` browsing and bounds checks; the body is the truth).
    public var events: Int
    public var body: String

    public init(correlationId: String, groupKey: String, definition: String, firstNanos: Int64, lastNanos: Int64,
                events: Int, body: String) {
        self.correlationId = correlationId
        self.groupKey = groupKey
        self.definition = definition
        self.firstNanos = firstNanos
        self.lastNanos = lastNanos
        self.events = events
        self.body = body
    }
}

/// The correlations' event-time clock as stored: the newest event time seen, and the newest event
/// time a correlation took with the ids of the events taken at exactly that time (the restart fence).
public struct StoredCorrelationClock: Sendable, Hashable {
    public var nowNanos: Int64
    public var fedNanos: Int64
    public var fedIds: [String]

    public init(nowNanos: Int64, fedNanos: Int64, fedIds: [String]) {
        self.nowNanos = nowNanos
        self.fedNanos = fedNanos
        self.fedIds = fedIds
    }
}

extension StateDatabase {
    /// Every stored window, by correlation id then key.
    public func correlationWindows() throws -> [StoredCorrelationWindow] {
        try connection.query(
            """
            SELECT correlation_id, group_key, definition, first_ns, last_ns, events, body
            FROM correlation_windows ORDER BY correlation_id, group_key
            """) {
            StoredCorrelationWindow(correlationId: $0.string(0), groupKey: $0.string(1), definition: $0.string(2),
                                    firstNanos: $0.int64(3), lastNanos: $0.int64(4), events: $0.int(5), body: $0.string(6))
        }
    }

    /// Inserts or replaces one window. Call it inside the batch's transaction.
    public func saveCorrelationWindow(_ w: StoredCorrelationWindow) throws {
        try connection.run(
            """
            INSERT INTO correlation_windows (correlation_id, group_key, definition, first_ns, last_ns, events, body, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(correlation_id, group_key) DO UPDATE SET definition = excluded.definition,
                first_ns = excluded.first_ns, last_ns = excluded.last_ns, events = excluded.events,
                body = excluded.body, updated_at = excluded.updated_at
            """, [w.correlationId, w.groupKey, w.definition, w.firstNanos, w.lastNanos, w.events, w.body, clock()])
    }

    /// Deletes one window (it fired, was judged, expired or was evicted); false when none was stored.
    @discardableResult
    public func removeCorrelationWindow(correlationId: String, groupKey: String) throws -> Bool {
        try connection.run("DELETE FROM correlation_windows WHERE correlation_id = ? AND group_key = ?",
                           [correlationId, groupKey]) == 1
    }

    public func correlationClock() throws -> StoredCorrelationClock? {
        try connection.query("SELECT now_ns, fed_ns, fed_ids FROM correlation_clock WHERE id = 1") {
            StoredCorrelationClock(nowNanos: $0.int64(0), fedNanos: $0.int64(1),
                                   fedIds: try StateCodec.decode([String].self, $0.string(2)))
        }.first
    }

    public func saveCorrelationClock(_ c: StoredCorrelationClock) throws {
        try connection.run(
            """
            INSERT INTO correlation_clock (id, now_ns, fed_ns, fed_ids, updated_at) VALUES (1, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET now_ns = excluded.now_ns, fed_ns = excluded.fed_ns,
                fed_ids = excluded.fed_ids, updated_at = excluded.updated_at
            """, [c.nowNanos, c.fedNanos, StateCodec.encode(c.fedIds), clock()])
    }

    public var correlationWindowCount: Int {
        get throws { Int(try connection.scalarInt("SELECT COUNT(*) FROM correlation_windows") ?? 0) }
    }
}
