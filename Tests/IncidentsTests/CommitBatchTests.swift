import TestSupport
import EventModel
import Foundation
import Incidents
import StateStore
import Testing

@Suite struct CommitBatchTests {
    @Test func oneTransactionStoresEverythingWithTheCheckpoint() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let batch = CommitBatch(alerts: [makeAlert("a1", entities: [alice])],
                                checkpoints: [Checkpoint(source: "file:/logs/a.json", offset: 1234)])
        let r = try db.commit(batch: batch)
        #expect(try db.checkpoint(source: "file:/logs/a.json")?.offset == 1234)
        #expect(try db.containsAlert(id: "a1"))
        #expect(try db.incidentId(ofAlert: "a1") == r.incidents[0].incident.id)
        #expect(try db.outboxCount == 2)
    }

    @Test func alertsAreStoredWithTheirIncidentAndRepeatsInTheBatchAreDuplicates() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let first = try db.commit(batch: CommitBatch(alerts: [makeAlert("a1", entities: [alice])], checkpoints: []))
        let r = try db.commit(batch: CommitBatch(
            alerts: [makeAlert("a2", at: 5, entities: [alice]), makeAlert("a2", at: 5, entities: [alice]),
                     makeAlert("a1", entities: [alice]), makeAlert("a3", at: 6, entities: [])],
            checkpoints: []))
        #expect(r.newAlerts.map(\.id) == ["a2", "a3"])
        #expect(r.duplicateAlertIds == ["a2", "a1"])
        // a2 joined a1's incident (stored with it, no later update); a3 has no entity to group on.
        let incident = first.incidents[0].incident.id
        #expect(try db.incidentId(ofAlert: "a2") == incident)
        #expect(try db.incidentId(ofAlert: "a3") == r.incidents.first { $0.incident.alertIds == ["a3"] }?.incident.id)
        #expect(try db.alerts(ofIncident: incident).map(\.id) == ["a1", "a2"])
        #expect(try db.alertCount == 3)
    }

    @Test func aFailureBeforeCommitLeavesNothingBehind() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        // The last step (checkpoint) fails, after alerts, incidents and outbox rows were written.
        try db.connection.execute("""
            CREATE TEMP TRIGGER crash BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(ABORT, 'simulated crash'); END
            """)
        let batch = CommitBatch(alerts: [makeAlert("a1", entities: [alice]), makeAlert("a2", at: 5, entities: [alice])],
                                checkpoints: [Checkpoint(source: "file:/logs/a.json", offset: 99)])
        #expect(throws: SQLiteError.self) { try db.commit(batch: batch) }
        #expect(try db.alertCount == 0)
        #expect(try db.incidentCount == 0)
        #expect(try db.outboxCount == 0)
        #expect(try db.checkpoints().isEmpty)
        // The retry after the "restart" stores it all, with the ids a clean run would have given.
        try db.connection.execute("DROP TRIGGER crash")
        let r = try db.commit(batch: batch)
        #expect(r.newAlerts.count == 2 && r.incidents.count == 1)
        #expect(r.incidents[0].incident.id
                == IncidentGrouping.incidentId(groupingKey: "any|Account:alice@contoso.com", windowStart: t0))
        #expect(try db.checkpoint(source: "file:/logs/a.json")?.offset == 99)
    }

    @Test func incidentPayloadIsJSONWithTypeAndId() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let r = try db.commit(batch: CommitBatch(alerts: [makeAlert("a1", entities: [alice, workspace])], checkpoints: []))
        let rows = try db.connection.query("SELECT kind, payload FROM outbox ORDER BY row_id") { ($0.string(0), $0.string(1)) }
        #expect(rows.map(\.0) == ["alert", "incident"])
        let alert = try #require(JSONSerialization.jsonObject(with: Data(rows[0].1.utf8)) as? [String: Any])
        #expect(alert["type"] as? String == "alert" && alert["id"] as? String == "a1")
        let incident = try #require(JSONSerialization.jsonObject(with: Data(rows[1].1.utf8)) as? [String: Any])
        #expect(incident["type"] as? String == "incident")
        #expect(incident["id"] as? String == r.incidents[0].incident.id)
        #expect(incident["sentinelSeverity"] as? String == "Medium")
        let alerts = try #require(incident["alerts"] as? [[String: Any]])
        #expect(alerts.first?["new"] as? Bool == true)
        #expect((alerts.first?["evidence"] as? [String])?.first == "{\"id\":\"ev-a1\"}")
        // The delivered form lives in the outbox row only; the alert row keeps the state form.
        #expect(alert["evidence"] as? [String] == ["{\"id\":\"ev-a1\"}"])
        let stored = try db.connection.query("SELECT body, payload FROM alerts WHERE id = 'a1'") { ($0.string(0), $0.string(1)) }
        #expect(stored.count == 1 && stored[0].1.isEmpty && stored[0].0.contains("ev-a1"))
        #expect(try db.alert(id: "a1")?.evidence == ["{\"id\":\"ev-a1\"}"])
    }
}
