import EventModel

extension StateDatabase {
    /// Stores `alert` unless one with its id is already stored. Returns whether it was new: this is
    /// the dedup that holds across restarts.
    ///
    /// The `payload` column (schema 1) is written empty: nothing reads it, and the delivered form
    /// lives in the alert's outbox row. Filling it stored every alert's evidence once more.
    @discardableResult
    public func insertAlert(_ alert: Alert, incidentId: String? = nil) throws -> Bool {
        try connection.run(
            """
            INSERT OR IGNORE INTO alerts (id, rule_id, rule_title, severity, time_ns, incident_id, body, payload, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)
            """,
            [alert.id, alert.ruleId, alert.ruleTitle, alert.severity.rawValue, alert.time.nanoseconds, incidentId,
             try StateCodec.encode(alert), clock()]) == 1
    }

    public func containsAlert(id: String) throws -> Bool {
        try connection.scalarInt("SELECT 1 FROM alerts WHERE id = ?", [id]) != nil
    }

    public func alert(id: String) throws -> Alert? {
        try connection.query("SELECT body FROM alerts WHERE id = ?", [id]) { try StateCodec.decode(Alert.self, $0.string(0)) }.first
    }

    /// The incident an alert joined, if any.
    public func incidentId(ofAlert id: String) throws -> String? {
        try connection.query("SELECT incident_id FROM alerts WHERE id = ?", [id]) { $0.optionalString(0) }.first ?? nil
    }

    public func setIncident(_ incidentId: String, forAlert alertId: String) throws {
        try connection.run("UPDATE alerts SET incident_id = ? WHERE id = ?", [incidentId, alertId])
    }

    public var alertCount: Int { get throws { Int(try connection.scalarInt("SELECT COUNT(*) FROM alerts") ?? 0) } }
}
