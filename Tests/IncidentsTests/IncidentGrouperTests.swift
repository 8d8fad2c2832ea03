import TestSupport
import EventModel
import Foundation
import Incidents
import StateStore
import Testing

@Suite struct IncidentGrouperTests {
    private func commit(_ db: StateDatabase, _ alerts: [Alert], grouping: IncidentGrouping = IncidentGrouping()) throws -> CommitResult {
        try db.commit(batch: CommitBatch(alerts: alerts, checkpoints: []), grouper: IncidentGrouper(configuration: grouping))
    }

    @Test func alertsSharingAnEntityJoinOneIncident() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let r = try commit(db, [
            makeAlert("a1", rule: "role", title: "Privileged role granted", severity: .medium, at: 0,
                      entities: [alice, workspace], tactics: ["privilege-escalation"], techniques: ["T1098"]),
            makeAlert("a2", rule: "nsg", title: "NSG opened to the internet", severity: .high, at: 60,
                      entities: [alice, ip1], tactics: ["defense-evasion"], techniques: ["T1562.007"]),
            makeAlert("a3", rule: "x", at: 120, entities: [bob]),
        ])
        #expect(r.newAlerts.count == 3)
        #expect(r.incidents.count == 2)
        let incident = try #require(r.incidents.first { $0.incident.alertIds == ["a1", "a2"] }?.incident)
        #expect(incident.severity == .high)
        #expect(incident.tactics == ["privilege-escalation", "defense-evasion"])
        #expect(incident.techniques == ["T1098", "T1562.007"])
        #expect(incident.ruleIds == ["role", "nsg"])
        #expect(incident.firstActivity == t0 && incident.lastActivity == t0.adding(seconds: 60))
        #expect(incident.title == "Privileged role granted and NSG opened to the internet on workspace ws1 by alice@contoso.com")
        #expect(incident.description.contains("2 alerts from 2 rules"))
        #expect(incident.revision == 1)
        #expect(try db.alerts(ofIncident: incident.id).map(\.id) == ["a1", "a2"])
        // Three alerts, two incidents: five outbox rows, alerts first.
        #expect(r.outboxRowIds.count == 5)
    }

    @Test func titleSummarisesManyRules() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let titles = ["Privileged role granted", "NSG opened to the internet", "Key listed", "Secret read", "Owner added"]
        let alerts = titles.enumerated().map { n, t in
            makeAlert("a\(n)", rule: "r\(n)", title: t, at: Int64(n), entities: [alice, workspace])
        }
        let r = try commit(db, alerts)
        #expect(r.incidents.count == 1)
        #expect(r.incidents[0].incident.title
                == "Privileged role granted, NSG opened to the internet and 3 more on workspace ws1 by alice@contoso.com")
    }

    @Test func defaultKindsIgnoreOtherEntities() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let url = Entity(kind: .url, value: "https://evil.example")
        let r = try commit(db, [makeAlert("a1", at: 0, entities: [url]), makeAlert("a2", at: 1, entities: [url])])
        #expect(r.incidents.count == 2)   // URL is not a grouping kind by default; each alert stands alone
        let ruleSaysURL = try commit(db, [makeAlert("a3", at: 2, entities: [url], groupBy: [.url]),
                                          makeAlert("a4", at: 3, entities: [url], groupBy: [.url])])
        #expect(ruleSaysURL.incidents.count == 1)
    }

    @Test func allModeNeedsEveryKindToMatch() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let r = try commit(db, [
            makeAlert("a1", at: 0, entities: [alice, ip1], groupBy: [.account, .ip], all: true),
            makeAlert("a2", at: 1, entities: [alice, ip2], groupBy: [.account, .ip], all: true),   // IP differs
            makeAlert("a3", at: 2, entities: [ip1, alice], groupBy: [.account, .ip], all: true),   // both match a1
            makeAlert("a4", at: 3, entities: [alice, ip2], groupBy: [.account, .ip], all: false),  // any: joins a1's
        ])
        let byAlerts = Set(r.incidents.map { $0.incident.alertIds })
        #expect(byAlerts == [["a1", "a3", "a4"], ["a2"]])
    }

    @Test func windowIsFixedFromTheFirstAlert() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let window: Int64 = 3600
        let grouping = IncidentGrouping(windowSeconds: window)
        let first = try commit(db, [makeAlert("a1", at: 0, entities: [alice])], grouping: grouping)
        let inside = try commit(db, [makeAlert("a2", at: window - 1, entities: [alice])], grouping: grouping)
        #expect(inside.incidents.map(\.incident.id) == first.incidents.map(\.incident.id))
        #expect(inside.incidents[0].incident.revision == 2)
        #expect(!inside.incidents[0].isNew)
        // Exactly at window end: a new incident (windows are half-open and do not slide).
        let boundary = try commit(db, [makeAlert("a3", at: window, entities: [alice])], grouping: grouping)
        #expect(boundary.incidents[0].isNew)
        #expect(boundary.incidents[0].incident.id != first.incidents[0].incident.id)
        #expect(boundary.incidents[0].incident.id
                == IncidentGrouping.incidentId(groupingKey: "any|Account:alice@contoso.com", windowStart: t0.adding(seconds: window)))
    }

    @Test func idsAreDeterministicAcrossFreshDatabases() throws {
        var alerts: [Alert] = []
        for n in 0..<40 {
            let account: Entity = n % 2 == 0 ? alice : bob
            let ip: Entity = n % 5 == 0 ? ip1 : ip2
            alerts.append(makeAlert("a\(n)", rule: "r\(n % 3)", at: Int64(n) * 900, entities: [account, ip]))
        }
        func run() throws -> [String] {
            let dir = TemporaryFolder()
            let db = try StateDatabase(path: dir.path("state.db"))
            var ids: [String] = []
            for chunk in stride(from: 0, to: alerts.count, by: 7) {
                let r = try commit(db, Array(alerts[chunk..<min(chunk + 7, alerts.count)]))
                ids += r.incidents.map { "\($0.incident.id)@\($0.incident.revision):\($0.incident.alertIds.joined(separator: ","))" }
            }
            return ids
        }
        let a = try run(), b = try run()
        #expect(!a.isEmpty)
        #expect(a == b)
    }

    @Test func dedupAndJoiningSurviveReopen() throws {
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        let firstId: String
        do {
            let db = try StateDatabase(path: path)
            let r = try commit(db, [makeAlert("a1", at: 0, entities: [alice])])
            firstId = r.incidents[0].incident.id
            try db.close()
        }
        let db = try StateDatabase(path: path)
        let outboxBefore = try db.outboxCount
        let again = try commit(db, [makeAlert("a1", at: 0, entities: [alice]), makeAlert("a2", at: 30, entities: [alice])])
        #expect(again.duplicateAlertIds == ["a1"])
        #expect(again.newAlerts.map(\.id) == ["a2"])
        #expect(again.incidents.map(\.incident.id) == [firstId])
        #expect(again.incidents[0].incident.revision == 2)
        #expect(again.incidents[0].incident.alertIds == ["a1", "a2"])
        #expect(try db.outboxCount == outboxBefore + 2)   // one alert row, one incident revision
        #expect(try db.incident(id: firstId)?.alertIds == ["a1", "a2"])
        let replay = try commit(db, [makeAlert("a1", at: 0, entities: [alice]), makeAlert("a2", at: 30, entities: [alice])])
        #expect(replay.newAlerts.isEmpty && replay.incidents.isEmpty && replay.outboxRowIds.isEmpty)
    }

    @Test func listFilters() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        _ = try commit(db, [
            makeAlert("a1", rule: "low-rule", severity: .low, at: 0, entities: [alice]),
            makeAlert("a2", rule: "high-rule", severity: .high, at: 7200, entities: [bob]),
        ])
        #expect(try db.incidents().count == 2)
        #expect(try db.incidents(matching: IncidentFilter(minimumSeverity: .medium)).map(\.alertIds) == [["a2"]])
        #expect(try db.incidents(matching: IncidentFilter(since: t0.adding(seconds: 3600))).map(\.alertIds) == [["a2"]])
        #expect(try db.incidents(matching: IncidentFilter(ruleId: "low-rule")).map(\.alertIds) == [["a1"]])
        #expect(try db.incidents(matching: IncidentFilter(entity: "ALICE")).map(\.alertIds) == [["a1"]])
    }
}
