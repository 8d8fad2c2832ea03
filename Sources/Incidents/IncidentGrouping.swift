// Incidents: alerts → incidents.
//
// Invariants:
// - Grouping is a pure function of the stored state and the alerts, taken in order: the same alerts
//   in the same order give the same incidents, with the same ids, in any fresh database.
// - An incident's window is fixed when it is created, [first alert time, + window); an alert joins
//   only an open incident whose window contains the alert's time.
// - An incident changes at most once per committed batch: one new revision, one outbox row.
import EventModel

/// How alerts are grouped into incidents (`incidents:` in the config file).
public struct IncidentGrouping: Sendable, Hashable {
    /// Length of an incident's window, in seconds (Sentinel's default: 5 hours).
    public var windowSeconds: Int64
    /// Entity kinds compared when an alert's rule does not name any (`Alert.groupBy` empty).
    public var defaultKinds: [Entity.Kind]

    public static let defaultWindowSeconds: Int64 = 5 * 3600
    public static let defaultEntityKinds: [Entity.Kind] = [.account, .ip, .azureResource, .cloudApplication, .host]

    public init(windowSeconds: Int64 = IncidentGrouping.defaultWindowSeconds,
                defaultKinds: [Entity.Kind] = IncidentGrouping.defaultEntityKinds) {
        self.windowSeconds = windowSeconds
        self.defaultKinds = defaultKinds
    }

    /// The kinds compared for `alert`: its rule's `groupBy`, or `defaultKinds`.
    public func kinds(for alert: Alert) -> [Entity.Kind] {
        alert.groupBy.isEmpty ? defaultKinds : alert.groupBy
    }

    /// The alert's entities of the compared kinds, deduplicated by key and sorted by key.
    public func groupingEntities(of alert: Alert) -> [Entity] {
        let kinds = Set(kinds(for: alert))
        var seen: Set<String> = []
        return alert.entities.filter { kinds.contains($0.kind) && seen.insert($0.key).inserted }.sorted { $0.key < $1.key }
    }

    /// The grouping key of an incident an alert opens:
    /// `any|Account:alice,IP:10.0.0.1` or `all|…` (sorted `Entity.key`s of the compared kinds), or
    /// `alert|<alert id>` when the alert has no entity of those kinds (it stands alone).
    public func groupingKey(for alert: Alert) -> String {
        let keys = groupingEntities(of: alert).map(\.key)
        if keys.isEmpty { return "alert|\(alert.id)" }
        return (alert.groupByAll ? "all|" : "any|") + keys.joined(separator: ",")
    }

    /// The incident id: `StableID.uuid(from: "incident|" + groupingKey + "|" + windowStart)`, with
    /// the window start in nanoseconds since the epoch (the first alert's time). A replay or a retry
    /// derives the same id, so Sentinel PUTs stay idempotent.
    public static func incidentId(groupingKey: String, windowStart: EventTime) -> String {
        StableID.uuid(from: "incident|\(groupingKey)|\(windowStart.nanoseconds)")
    }

    /// Whether `alert` may join an incident with `entities`:
    /// - any (`groupByAll == false`): one of the alert's compared entities is among the incident's;
    /// - all: for every compared kind the alert has, one of its entities of that kind is among the
    ///   incident's (kinds the alert lacks are not compared).
    /// An alert without compared entities joins nothing.
    public func matches(_ alert: Alert, incidentEntityKeys theirs: Set<String>) -> Bool {
        let mine = groupingEntities(of: alert)
        guard !mine.isEmpty else { return false }
        if !alert.groupByAll { return mine.contains { theirs.contains($0.key) } }
        let byKind = Dictionary(grouping: mine, by: \.kind)
        return byKind.values.allSatisfy { group in group.contains { theirs.contains($0.key) } }
    }
}
