import EventModel

/// Everything the HTML report shows, gathered before rendering so any producer can fill it: `vigil
/// report` reads it from the state database (`ReportModel(database:…)`), and a replay can add what only
/// it knows (`eventsPerHour`) before calling `HTMLReport.render`.
public struct ReportModel: Sendable {
    /// An incident with the alerts shown under it.
    public struct IncidentEntry: Sendable {
        public var incident: Incident
        /// In the order they joined, at most the model's per-incident cap.
        public var alerts: [Alert]
        /// Alerts of the incident not shown (beyond the cap).
        public var omittedAlerts: Int

        public init(incident: Incident, alerts: [Alert], omittedAlerts: Int = 0) {
            self.incident = incident
            self.alerts = alerts
            self.omittedAlerts = omittedAlerts
        }
    }

    /// How often one rule fired, by severity.
    public struct RuleCount: Sendable, Hashable {
        public var ruleId: String
        public var ruleTitle: String
        public var bySeverity: [Severity: Int]
        public var total: Int { bySeverity.values.reduce(0, +) }

        public init(ruleId: String, ruleTitle: String, bySeverity: [Severity: Int]) {
            self.ruleId = ruleId
            self.ruleTitle = ruleTitle
            self.bySeverity = bySeverity
        }
    }

    public var title: String
    public var generatedAt: EventTime
    /// Where the data came from (the state database path, a replayed folder).
    public var source: String
    /// Only activity at or after this time is shown.
    public var since: EventTime?
    /// Most recent activity first; at most the model's incident cap.
    public var incidents: [IncidentEntry]
    /// All incidents in the period, shown or not.
    public var totalIncidents: Int
    /// Alert counts per hour (keys are whole UTC hours) and severity.
    public var alertsPerHour: [EventTime: [Severity: Int]]
    /// Event counts per whole UTC hour, when the producer knows them (replay does; the state database
    /// does not record events). `nil` leaves events out of the timeline.
    public var eventsPerHour: [EventTime: Int]?
    /// Most alerts first.
    public var ruleCounts: [RuleCount]
    public var coverage: CoverageMatrix?
    /// Things the reader should know about how the report was made (caps hit, rules not scanned).
    public var notes: [String]

    public init(title: String = "Vigil incident report", generatedAt: EventTime, source: String, since: EventTime? = nil,
                incidents: [IncidentEntry] = [], totalIncidents: Int? = nil,
                alertsPerHour: [EventTime: [Severity: Int]] = [:], eventsPerHour: [EventTime: Int]? = nil,
                ruleCounts: [RuleCount] = [], coverage: CoverageMatrix? = nil, notes: [String] = []) {
        self.title = title
        self.generatedAt = generatedAt
        self.source = source
        self.since = since
        self.incidents = incidents
        self.totalIncidents = totalIncidents ?? incidents.count
        self.alertsPerHour = alertsPerHour
        self.eventsPerHour = eventsPerHour
        self.ruleCounts = ruleCounts
        self.coverage = coverage
        self.notes = notes
    }

    public var totalAlerts: Int { alertsPerHour.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
    public var totalEvents: Int? { eventsPerHour?.values.reduce(0, +) }

    public var alertsBySeverity: [Severity: Int] {
        var out: [Severity: Int] = [:]
        for hour in alertsPerHour.values { for (s, n) in hour { out[s, default: 0] += n } }
        return out
    }

    /// The whole UTC hour containing `time` (the key of the per-hour maps).
    public static func hour(of time: EventTime) -> EventTime {
        let s = time.seconds
        return EventTime(seconds: s - ((s % 3600) + 3600) % 3600)
    }

    /// Adds one event at `time` to `eventsPerHour` (creating it): for a replay counting as it goes.
    public mutating func countEvent(at time: EventTime, count: Int = 1) {
        eventsPerHour = eventsPerHour ?? [:]
        eventsPerHour![ReportModel.hour(of: time), default: 0] += count
    }
}
