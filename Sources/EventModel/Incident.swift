/// Alerts that share entities inside a grouping window. The id is derived from the grouping key
/// and the window start, so a replay or a retry produces the same id (Sentinel PUTs are idempotent).
public struct Incident: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable { case new = "New", active = "Active", closed = "Closed" }

    public var id: String
    public var title: String
    public var description: String
    public var severity: Severity
    public var status: Status
    public var tactics: [String]
    public var techniques: [String]
    public var entities: [Entity]
    public var alertIds: [String]
    public var ruleIds: [String]
    public var firstActivity: EventTime
    public var lastActivity: EventTime
    /// Increases each time the incident changes, so sinks can tell updates apart.
    public var revision: Int

    public init(id: String, title: String, description: String, severity: Severity, status: Status = .new,
                tactics: [String] = [], techniques: [String] = [], entities: [Entity] = [], alertIds: [String] = [],
                ruleIds: [String] = [], firstActivity: EventTime, lastActivity: EventTime, revision: Int = 1) {
        self.id = id
        self.title = title
        self.description = description
        self.severity = severity
        self.status = status
        self.tactics = tactics
        self.techniques = techniques
        self.entities = entities
        self.alertIds = alertIds
        self.ruleIds = ruleIds
        self.firstActivity = firstActivity
        self.lastActivity = lastActivity
        self.revision = revision
    }
}
