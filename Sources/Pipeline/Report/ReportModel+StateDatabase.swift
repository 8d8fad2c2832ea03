import EventModel
import StateStore

extension ReportModel {
    /// Caps that keep a report of a large database readable and small.
    public struct Limits: Sendable {
        /// Incidents shown, most recent activity first.
        public var incidents: Int = 200
        /// Alerts shown under one incident.
        public var alertsPerIncident: Int = 50

        public init(incidents: Int = 200, alertsPerIncident: Int = 50) {
            self.incidents = incidents
            self.alertsPerIncident = alertsPerIncident
        }
    }

    /// Reads incidents, their alerts and the per-hour and per-rule alert counts from the state
    /// database. Counts cover every alert since `since`, including alerts in no incident; incidents are
    /// those active since `since`. The database records no events, so `eventsPerHour` stays `nil`.
    public init(database db: StateDatabase, since: EventTime? = nil, generatedAt: EventTime, limits: Limits = Limits(),
                coverage: CoverageMatrix? = nil) throws {
        let all = try db.incidents(matching: IncidentFilter(since: since))
        var entries: [IncidentEntry] = []
        for incident in all.prefix(max(0, limits.incidents)) {
            let alerts = try db.alerts(ofIncident: incident.id)
            let shown = Array(alerts.prefix(max(0, limits.alertsPerIncident)))
            entries.append(IncidentEntry(incident: incident, alerts: shown, omittedAlerts: alerts.count - shown.count))
        }
        let from = since?.nanoseconds ?? Int64.min
        var perHour: [EventTime: [Severity: Int]] = [:]
        let hourNs: Int64 = 3_600_000_000_000
        for (hour, severity, n) in try db.connection.query(
            "SELECT time_ns - ((time_ns % ?1) + ?1) % ?1, severity, COUNT(*) FROM alerts WHERE time_ns >= ?2 GROUP BY 1, 2",
            [hourNs, from], { ($0.int64(0), $0.string(1), $0.int(2)) }) {
            perHour[EventTime(nanoseconds: hour), default: [:]][Severity(lenient: severity) ?? .informational, default: 0] += n
        }
        var rules: [String: RuleCount] = [:]
        for (id, title, severity, n) in try db.connection.query(
            "SELECT rule_id, MAX(rule_title), severity, COUNT(*) FROM alerts WHERE time_ns >= ? GROUP BY rule_id, severity",
            [from], { ($0.string(0), $0.string(1), $0.string(2), $0.int(3)) }) {
            rules[id, default: RuleCount(ruleId: id, ruleTitle: title, bySeverity: [:])]
                .bySeverity[Severity(lenient: severity) ?? .informational, default: 0] += n
        }
        var notes: [String] = []
        if all.count > entries.count {
            notes.append("Showing the \(entries.count) most recently active of \(all.count) incidents.")
        }
        if entries.contains(where: { $0.omittedAlerts > 0 }) {
            notes.append("Incidents show at most \(limits.alertsPerIncident) alerts each; see 'vigil incidents show ID'.")
        }
        self.init(generatedAt: generatedAt, source: db.path, since: since, incidents: entries, totalIncidents: all.count,
                  alertsPerHour: perHour,
                  ruleCounts: rules.values.sorted { ($1.total, $0.ruleTitle, $0.ruleId) < ($0.total, $1.ruleTitle, $1.ruleId) },
                  coverage: coverage, notes: notes)
    }
}
