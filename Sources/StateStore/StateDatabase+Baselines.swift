extension StateDatabase {
    /// Generic key/value state for stateful detections (baselines, first-seen sets), by namespace.
    public func baselineValue(namespace: String, key: String) throws -> [UInt8]? {
        try connection.query("SELECT value FROM baselines WHERE namespace = ? AND key = ?", [namespace, key]) { $0.blob(0) }.first
    }

    public func setBaselineValue(_ value: [UInt8], namespace: String, key: String) throws {
        try connection.run(
            """
            INSERT INTO baselines (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, [namespace, key, value, clock()])
    }

    @discardableResult
    public func removeBaselineValue(namespace: String, key: String) throws -> Bool {
        try connection.run("DELETE FROM baselines WHERE namespace = ? AND key = ?", [namespace, key]) == 1
    }

    /// Every key in a namespace, sorted.
    public func baselineKeys(namespace: String) throws -> [String] {
        try connection.query("SELECT key FROM baselines WHERE namespace = ? ORDER BY key", [namespace]) { $0.string(0) }
    }
}
