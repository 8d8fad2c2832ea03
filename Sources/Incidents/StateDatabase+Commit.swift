import EventModel
import StateStore

/// What a batch of events produced, and how far it moved its sources.
public struct CommitBatch: Sendable {
    public struct Item: Sendable {
        public var alert: Alert
        /// The alert as JSON for sinks (`{"type":"alert","id":…}`).
        public var payload: String

        public init(alert: Alert, payload: String) {
            self.alert = alert
            self.payload = payload
        }
    }

    public var alerts: [Item]
    /// The source positions the batch advanced to.
    public var checkpoints: [Checkpoint]

    public init(alerts: [Item], checkpoints: [Checkpoint]) {
        self.alerts = alerts
        self.checkpoints = checkpoints
    }

    /// Alerts with payloads made by `payload` (default: `IncidentJSON.alertJSON`).
    public init(alerts: [Alert], checkpoints: [Checkpoint], payload: (Alert) -> String = IncidentJSON.alertJSON) {
        self.init(alerts: alerts.map { Item(alert: $0, payload: payload($0)) }, checkpoints: checkpoints)
    }
}

/// What `commit(batch:)` stored.
public struct CommitResult: Sendable {
    /// Alerts not seen before, in batch order.
    public var newAlerts: [Alert]
    /// Ids of alerts already stored (by an earlier batch, run or a duplicate in this batch): skipped.
    public var duplicateAlertIds: [String]
    /// Incidents created or changed, each in its new revision.
    public var incidents: [IncidentChange]
    /// Outbox rows appended, in order.
    public var outboxRowIds: [Int64]
}

extension StateDatabase {
    /// Stores one batch in ONE transaction: new alerts (duplicates skipped), the incidents they
    /// create or change, an outbox row per new alert and per changed incident revision, and the
    /// checkpoints. Either all of it is durable when this returns, or (it throws) none of it is.
    /// Acknowledge the source only after it returns ("durable before acknowledged").
    @discardableResult
    public func commit(batch: CommitBatch, grouper: IncidentGrouper = IncidentGrouper()) throws -> CommitResult {
        try transaction {
            var fresh: [CommitBatch.Item] = []
            var duplicates: [String] = []
            var seen = Set<String>()
            for item in batch.alerts {
                let id = item.alert.id
                if seen.insert(id).inserted, try !containsAlert(id: id) {
                    fresh.append(item)
                } else {
                    duplicates.append(id)
                }
            }
            // Grouped before the alerts are stored, so each row is written once with its incident id
            // (setting it afterwards rewrites the whole row, evidence included).
            let plan = try grouper.plan(fresh.map(\.alert), in: self)
            for item in fresh {
                try insertAlert(item.alert, incidentId: plan.incidentOfAlert[item.alert.id])
            }
            try grouper.save(plan, in: self, alertsCarryIncident: true)
            let changes = plan.changes
            var rows: [Int64] = []
            for item in fresh {
                rows.append(try appendOutbox(kind: "alert", objectId: item.alert.id, revision: 1, payload: item.payload))
            }
            for change in changes {
                // The payload lists the alerts added in this revision (with evidence); `alertIds` has them all.
                let payload = IncidentJSON.incidentJSON(change.incident, alerts: change.newAlerts,
                                                        withEvidence: Set(change.newAlerts.map(\.id)))
                rows.append(try appendOutbox(kind: "incident", objectId: change.incident.id,
                                             revision: change.incident.revision, payload: payload))
            }
            for checkpoint in batch.checkpoints { try saveCheckpoint(checkpoint) }
            return CommitResult(newAlerts: fresh.map(\.alert), duplicateAlertIds: duplicates, incidents: changes,
                                outboxRowIds: rows)
        }
    }
}
