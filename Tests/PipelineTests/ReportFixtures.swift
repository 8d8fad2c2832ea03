import EventModel
import Foundation
import Incidents
import Pipeline
import StateStore

/// A fresh folder under the system temp dir, removed when the value is released.
final class ReportTemporaryFolder {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-report-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ text: String, to name: String) throws {
        let target = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: target, atomically: true, encoding: .utf8)
    }
}

enum ReportFixtures {
    static let t0 = EventTime(parsing: "2025-03-04T09:00:00Z")!
    static let workspace = Entity(kind: .azureResource, value:
        "/subscriptions/0000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws1")
    static let alice = Entity(kind: .account, value: "alice@contoso.com")
    static let attacker = Entity(kind: .ip, value: "203.0.113.7")
    /// Attacker-controlled text in an entity value: must never become markup.
    static let evilEntity = Entity(kind: .account, value: "\"><img src=x onerror=alert(2)>@contoso.com")
    static let evilEvidence = "{\"caller\":\"<script>alert(1)</script>\",\"note\":\"a & b 'q'\"}"

    static func alert(_ id: String, rule: String, title: String, severity: Severity, at seconds: Int64,
                      entities: [Entity], evidence: [String] = [], controls: [String] = []) -> Alert {
        Alert(id: id, ruleId: rule, ruleTitle: title, severity: severity, tactics: ["credential-access"],
              techniques: ["T1555.006"], entities: entities, time: t0.adding(seconds: seconds),
              position: SourcePosition(source: "logs/activity.jsonl", line: Int(max(0, seconds) / 60) + 1),
              description: "\(title) by \(entities.first?.value ?? "?")", eventIds: ["ev-\(id)"],
              evidence: evidence.isEmpty ? ["{\"id\":\"ev-\(id)\",\"operationName\":\"LISTKEYS\"}"] : evidence,
              baselineControls: controls)
    }

    /// A database with two incidents (alice on the workspace; the attacker IP with a hostile entity),
    /// one alert in no incident, and an old alert three days earlier.
    static func seededDatabase(in folder: ReportTemporaryFolder) throws -> StateDatabase {
        let db = try StateDatabase(path: folder.path("state.db"))
        let alerts = [
            alert("a1", rule: "rule-secrets", title: "AML Workspace Secrets Listed by a User", severity: .high, at: 0,
                  entities: [alice, workspace], controls: ["IM-8"]),
            alert("a2", rule: "rule-secrets", title: "AML Workspace Secrets Listed by a User", severity: .high, at: 600,
                  entities: [alice, workspace], controls: ["IM-8"]),
            alert("a3", rule: "rule-nsg", title: "NSG Opened to the Internet", severity: .medium, at: 3_900,
                  entities: [alice], controls: ["NS-1"]),
            alert("a4", rule: "rule-defender", title: "Defender Plan Downgraded <b>bold</b>", severity: .critical, at: 7_300,
                  entities: [attacker, evilEntity], evidence: [evilEvidence]),
            alert("a5", rule: "rule-lonely", title: "Lonely Low Alert", severity: .low, at: 9_000, entities: []),
            alert("old", rule: "rule-nsg", title: "NSG Opened to the Internet", severity: .medium, at: -3 * 86_400,
                  entities: [Entity(kind: .account, value: "carol@contoso.com")]),
        ]
        try db.commit(batch: CommitBatch(alerts: alerts, checkpoints: []))
        return db
    }
}
