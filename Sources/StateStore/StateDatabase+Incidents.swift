import EventModel

/// An incident as stored: the incident plus what grouping needs to find it again.
public struct IncidentRecord: Sendable, Hashable {
    public var incident: Incident
    /// What its alerts were grouped on (see `IncidentGrouper`), part of the id derivation.
    public var groupingKey: String
    /// The fixed window [windowStart, windowEnd) in which alerts may still join it.
    public var windowStart: EventTime
    public var windowEnd: EventTime

    public init(incident: Incident, groupingKey: String, windowStart: EventTime, windowEnd: EventTime) {
        self.incident = incident
        self.groupingKey = groupingKey
        self.windowStart = windowStart
        self.windowEnd = windowEnd
    }
}

/// Filters for `incidents(matching:)` (the `vigil incidents list` flags).
public struct IncidentFilter: Sendable {
    /// Lowest severity shown.
    public var minimumSeverity: Severity?
    /// Incidents whose last activity is at or after this time.
    public var since: EventTime?
    /// Incidents with at least one alert of this rule.
    public var ruleId: String?
    /// Incidents with an entity whose value contains this text (case-insensitive).
    public var entity: String?
    public var limit: Int?

    public init(minimumSeverity: Severity? = nil, since: EventTime? = nil, ruleId: String? = nil,
                entity: String? = nil, limit: Int? = nil) {
        self.minimumSeverity = minimumSeverity
        self.since = since
        self.ruleId = ruleId
        self.entity = entity
        self.limit = limit
    }
}

extension StateDatabase {
    private static let incidentColumns = "i.body, i.grouping_key, i.window_start_ns, i.window_end_ns"

    private func record(_ row: SQLiteRow) throws -> IncidentRecord {
        IncidentRecord(incident: try StateCodec.decode(Incident.self, row.string(0)), groupingKey: row.string(1),
                       windowStart: EventTime(nanoseconds: row.int64(2)), windowEnd: EventTime(nanoseconds: row.int64(3)))
    }

    /// `openIncidentIds`' statement: ?1 the time, ?2 the entity keys as a JSON array, ?3 the lookback (ns).
    static let openIncidentsSharingAnEntity = """
        SELECT i.id, i.window_start_ns FROM incidents i
        WHERE i.id IN (SELECT e.incident_id FROM incident_entities e
                       WHERE e.entity_key IN (SELECT value FROM json_each(?2))
                         AND e.window_end_ns > ?1 AND e.window_start_ns - ?3 <= ?1)
          AND i.window_start_ns - ?3 <= ?1 AND i.window_end_ns > ?1 AND i.status <> 'Closed'
        ORDER BY i.window_start_ns, i.id
        """

    /// Ids and window starts of incidents not closed whose window contains `time` (or starts at most
    /// `lookbackSeconds` after it) and that have any of `entityKeys` (`Entity.key`), oldest window
    /// first, then by id: a stable order, so grouping is deterministic. Cheap: it decodes no incident.
    /// It starts from the entities: each entity row carries its incident's window (index
    /// `incident_entities_open`), so only the incidents sharing an entity whose window is open are
    /// visited, then checked by id. Filtering the open incidents first, with an `EXISTS` per
    /// incident, cost half of all incident grouping on the dense 1M-bench slice; starting from the
    /// entities without the window visited every incident an entity ever had (33 ms a look-up for
    /// an entity with 20,000 past incidents, against 0.05 ms now).
    public func openIncidentIds(sharingAnyOf entityKeys: [String], at time: EventTime,
                                lookbackSeconds: Int64 = 0) throws -> [(id: String, windowStart: EventTime)] {
        guard !entityKeys.isEmpty else { return [] }
        return try connection.query(Self.openIncidentsSharingAnEntity, [time.nanoseconds, try StateCodec.encode(entityKeys), lookbackSeconds * 1_000_000_000]) {
            (id: $0.string(0), windowStart: EventTime(nanoseconds: $0.int64(1)))
        }
    }

    /// The `Entity.key`s of an incident's entities.
    public func entityKeys(ofIncident id: String) throws -> Set<String> {
        Set(try connection.query("SELECT entity_key FROM incident_entities WHERE incident_id = ?", [id]) { $0.string(0) })
    }

    public func incidentRecord(id: String) throws -> IncidentRecord? {
        try connection.query("SELECT \(StateDatabase.incidentColumns) FROM incidents i WHERE i.id = ?", [id], record).first
    }

    /// Inserts or updates the incident, links `newAlertIds` (after the alerts it already has) and
    /// records its entity keys for lookup. The alerts must be stored already. `updatingAlerts`: set
    /// each linked alert's `incident_id` (false when the alerts were inserted with it: updating a
    /// row rewrites all of it, evidence included).
    public func saveIncident(_ record: IncidentRecord, linking newAlertIds: [String], updatingAlerts: Bool = true) throws {
        let i = record.incident
        let now = clock()
        try connection.run(
            """
            INSERT INTO incidents (id, grouping_key, window_start_ns, window_end_ns, revision, status, severity, title,
                                   first_activity_ns, last_activity_ns, body, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET revision = excluded.revision, status = excluded.status,
                severity = excluded.severity, title = excluded.title, first_activity_ns = excluded.first_activity_ns,
                last_activity_ns = excluded.last_activity_ns, body = excluded.body, updated_at = excluded.updated_at
            """,
            [i.id, record.groupingKey, record.windowStart.nanoseconds, record.windowEnd.nanoseconds, i.revision,
             i.status.rawValue, i.severity.rawValue, i.title, i.firstActivity.nanoseconds, i.lastActivity.nanoseconds,
             try StateCodec.encode(i), now, now])
        var seq = Int(try connection.scalarInt("SELECT COUNT(*) FROM incident_alerts WHERE incident_id = ?", [i.id]) ?? 0)
        for alertId in newAlertIds {
            seq += try connection.run("INSERT OR IGNORE INTO incident_alerts (incident_id, alert_id, seq) VALUES (?, ?, ?)",
                                      [i.id, alertId, seq])
            if updatingAlerts { try setIncident(i.id, forAlert: alertId) }
        }
        for key in Set(i.entities.map(\.key)).sorted() {
            try connection.run("INSERT OR IGNORE INTO incident_entities (entity_key, incident_id, window_start_ns, window_end_ns) VALUES (?, ?, ?, ?)",
                               [key, i.id, record.windowStart.nanoseconds, record.windowEnd.nanoseconds])
        }
    }

    public func incident(id: String) throws -> Incident? { try incidentRecord(id: id)?.incident }

    /// The incident's alerts, in the order they joined.
    public func alerts(ofIncident id: String) throws -> [Alert] {
        try connection.query(
            "SELECT a.body FROM incident_alerts l JOIN alerts a ON a.id = l.alert_id WHERE l.incident_id = ? ORDER BY l.seq",
            [id]) { try StateCodec.decode(Alert.self, $0.string(0)) }
    }

    /// Incidents matching `filter`, most recent activity first.
    public func incidents(matching filter: IncidentFilter = IncidentFilter()) throws -> [Incident] {
        var conditions: [String] = []
        var args: [any SQLiteBindable] = []
        if let s = filter.minimumSeverity {
            let allowed = Severity.allCases.filter { $0 >= s }.map { "'\($0.rawValue)'" }.joined(separator: ",")
            conditions.append("i.severity IN (\(allowed))")
        }
        if let since = filter.since {
            conditions.append("i.last_activity_ns >= ?")
            args.append(since.nanoseconds)
        }
        if let rule = filter.ruleId {
            conditions.append("EXISTS (SELECT 1 FROM incident_alerts l JOIN alerts a ON a.id = l.alert_id WHERE l.incident_id = i.id AND a.rule_id = ?)")
            args.append(rule)
        }
        if let entity = filter.entity {
            conditions.append("EXISTS (SELECT 1 FROM incident_entities e WHERE e.incident_id = i.id AND instr(e.entity_key, ?) > 0)")
            args.append(entity.lowercased())
        }
        var sql = "SELECT \(StateDatabase.incidentColumns) FROM incidents i"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY i.last_activity_ns DESC, i.id"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
        return try connection.query(sql, args) { try record($0).incident }
    }

    /// Per rule, in the order its first alert joined: rule id, rule title and alert count.
    public func ruleSummary(ofIncident id: String) throws -> [(ruleId: String, ruleTitle: String, count: Int)] {
        try connection.query(
            """
            SELECT a.rule_id, a.rule_title, COUNT(*) FROM incident_alerts l JOIN alerts a ON a.id = l.alert_id
            WHERE l.incident_id = ? GROUP BY a.rule_id ORDER BY MIN(l.seq)
            """, [id]) { (ruleId: $0.string(0), ruleTitle: $0.string(1), count: $0.int(2)) }
    }

    public var incidentCount: Int { get throws { Int(try connection.scalarInt("SELECT COUNT(*) FROM incidents") ?? 0) } }
}
