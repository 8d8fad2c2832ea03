import EventModel
import StateStore

/// One incident created or changed by a batch, in its final state for the batch.
public struct IncidentChange: Sendable {
    public var record: IncidentRecord
    /// Alerts that joined in this batch, in order.
    public var newAlerts: [Alert]
    /// Whether the batch created it.
    public var isNew: Bool

    public var incident: Incident { record.incident }
}

/// Places alerts into incidents stored in a `StateDatabase` (see `IncidentGrouping` for the rules).
///
/// For each alert, in order: candidates are the open incidents whose window contains the alert's
/// time and that share one of its compared entities; it joins the first that `matches` it (oldest
/// window first, then lowest id), or opens a new incident whose window starts at the alert's time.
/// Call it inside the transaction that stores the alerts (`StateDatabase.commit(batch:)` does).
public struct IncidentGrouper: Sendable {
    public var configuration: IncidentGrouping

    public init(configuration: IncidentGrouping = IncidentGrouping()) {
        self.configuration = configuration
    }

    /// An incident touched by the batch, held in memory until the batch is saved.
    private struct Working {
        var change: IncidentChange
        var entityKeys: Set<String>
        var rules: [(ruleId: String, title: String, count: Int)]
    }

    /// A grouping decided but not yet saved: the changed incidents, in order, and the incident each
    /// alert joined (by alert id).
    struct Plan {
        var changes: [IncidentChange] = []
        var incidentOfAlert: [String: String] = [:]
    }

    /// Groups `alerts` (already stored in `database`, none seen before) and saves the incidents.
    /// Each changed incident gets exactly one new revision.
    public func group(_ alerts: [Alert], in database: StateDatabase) throws -> [IncidentChange] {
        let plan = try self.plan(alerts, in: database)
        try save(plan, in: database, alertsCarryIncident: false)
        return plan.changes
    }

    /// Saves a plan's incidents. `alertsCarryIncident`: the alerts were stored with their incident id
    /// already (`StateDatabase.commit(batch:)`), so their rows are not updated again.
    func save(_ plan: Plan, in database: StateDatabase, alertsCarryIncident: Bool) throws {
        for change in plan.changes {
            try database.saveIncident(change.record, linking: change.newAlerts.map(\.id), updatingAlerts: !alertsCarryIncident)
        }
    }

    /// Decides the grouping of `alerts` (none stored as part of an incident yet) without writing:
    /// it reads only incidents stored by earlier batches.
    func plan(_ alerts: [Alert], in database: StateDatabase) throws -> Plan {
        var working: [String: Working] = [:]
        var order: [String] = []
        // Index of the working incidents, so an alert meets only those sharing one of its keys
        // (not every incident the batch touched): entity key → incident ids, and each one's window.
        var byKey: [String: [String]] = [:]
        var windows: [String: (start: EventTime, end: EventTime, closed: Bool)] = [:]
        func index(_ id: String, _ keys: some Sequence<String>) {
            for k in keys { byKey[k, default: []].append(id) }
        }
        func track(_ id: String, _ w: Working) {
            working[id] = w
            windows[id] = (w.change.record.windowStart, w.change.record.windowEnd, w.change.incident.status == .closed)
            index(id, w.entityKeys)
        }

        for alert in alerts {
            let keys = configuration.groupingEntities(of: alert).map(\.key)
            let keySet = Set(keys)
            var candidates: [String: EventTime] = [:]
            // An alert up to one window *before* an incident's start also joins it: sources are not
            // read in global time order (a replay reads the Activity Log tree before the sign-in
            // export), and the same alerts must group the same way whichever file came first.
            let lookback = configuration.windowSeconds
            for c in try database.openIncidentIds(sharingAnyOf: keys, at: alert.time, lookbackSeconds: lookback) {
                candidates[c.id] = c.windowStart
            }
            for k in keySet {
                for id in byKey[k] ?? [] {
                    let w = windows[id]!
                    if w.start.adding(seconds: -lookback) <= alert.time && alert.time < w.end && !w.closed {
                        candidates[id] = w.start
                    }
                }
            }
            var chosen: String?
            for (id, _) in candidates.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
                let theirs = try working[id]?.entityKeys ?? database.entityKeys(ofIncident: id)
                if configuration.matches(alert, incidentEntityKeys: theirs) { chosen = id; break }
            }
            let id: String
            if let chosen {
                id = chosen
            } else {
                let key = configuration.groupingKey(for: alert)
                id = IncidentGrouping.incidentId(groupingKey: key, windowStart: alert.time)
                if working[id] == nil, try database.incidentRecord(id: id) == nil {
                    let record = IncidentRecord(
                        incident: Incident(id: id, title: "", description: "", severity: alert.severity,
                                           firstActivity: alert.time, lastActivity: alert.time, revision: 0),
                        groupingKey: key, windowStart: alert.time,
                        windowEnd: alert.time.adding(seconds: configuration.windowSeconds))
                    track(id, Working(change: IncidentChange(record: record, newAlerts: [], isNew: true),
                                      entityKeys: [], rules: []))
                }
            }
            if working[id] == nil {
                guard let stored = try database.incidentRecord(id: id) else { continue }
                let rules = try database.ruleSummary(ofIncident: id).map { (ruleId: $0.ruleId, title: $0.ruleTitle, count: $0.count) }
                track(id, Working(change: IncidentChange(record: stored, newAlerts: [], isNew: false),
                                  entityKeys: Set(stored.incident.entities.map(\.key)), rules: rules))
            }
            if working[id]!.change.newAlerts.isEmpty { order.append(id) }
            index(id, add(alert, to: &working[id]!))
        }

        var plan = Plan()
        for id in order {
            // Title and description depend only on the incident's final state for the batch:
            // written once here, not once per joining alert.
            let w = working[id]!
            var change = w.change
            narrate(&change.record.incident, rules: w.rules.map { (title: $0.title, count: $0.count) })
            for alert in change.newAlerts { plan.incidentOfAlert[alert.id] = id }
            plan.changes.append(change)
        }
        return plan
    }

    /// Returns the entity keys the incident gained.
    private func add(_ alert: Alert, to w: inout Working) -> [String] {
        if w.change.newAlerts.isEmpty { w.change.record.incident.revision += 1 }
        w.change.newAlerts.append(alert)
        if let r = w.rules.firstIndex(where: { $0.ruleId == alert.ruleId }) {
            w.rules[r].count += 1
        } else {
            w.rules.append((ruleId: alert.ruleId, title: alert.ruleTitle, count: 1))
        }
        var gained: [String] = []
        for e in alert.entities {
            let key = e.key
            if w.entityKeys.insert(key).inserted {
                w.change.record.incident.entities.append(e)
                gained.append(key)
            }
        }
        update(&w.change.record.incident, with: alert)
        return gained
    }

    /// Mutates in place: incidents can hold thousands of alert ids.
    private func update(_ i: inout Incident, with alert: Alert) {
        i.alertIds.append(alert.id)
        if !i.ruleIds.contains(alert.ruleId) { i.ruleIds.append(alert.ruleId) }
        for t in alert.tactics where !i.tactics.contains(t) { i.tactics.append(t) }
        for t in alert.techniques where !i.techniques.contains(t) { i.techniques.append(t) }
        if i.alertIds.count == 1 {
            i.severity = alert.severity
            i.firstActivity = alert.time
            i.lastActivity = alert.time
        } else {
            i.severity = max(i.severity, alert.severity)
            i.firstActivity = min(i.firstActivity, alert.time)
            i.lastActivity = max(i.lastActivity, alert.time)
        }
    }

    private func narrate(_ i: inout Incident, rules: [(title: String, count: Int)]) {
        i.title = IncidentNarrative.title(rules: rules, entities: i.entities)
        i.description = IncidentNarrative.description(rules: rules, alertCount: i.alertIds.count, severity: i.severity,
                                                      first: i.firstActivity, last: i.lastActivity, entities: i.entities)
    }
}
