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

extension ReportFixtures {
    /// A realistic two-day story for looking at the report: a user pulls workspace secrets and opens
    /// the network, a foreign IP downgrades Defender, background noise from sign-ins; ~8k events/hour.
    static func demoModel(in folder: ReportTemporaryFolder) throws -> ReportModel {
        let db = try StateDatabase(path: folder.path("demo.db"))
        let mallory = Entity(kind: .account, value: "mallory@contoso.com")
        let pipeline = Entity(kind: .cloudApplication, value: "9a8b7c6d-0000-4000-8000-00000000cafe")
        let storage = Entity(kind: .azureResource, value:
            "/subscriptions/0000/resourceGroups/rg-ml/providers/Microsoft.Storage/storageAccounts/mlstore01")
        var alerts: [Alert] = []
        func add(_ rule: String, _ title: String, _ severity: Severity, _ at: Int64, _ entities: [Entity], _ controls: [String],
                 evidence: String? = nil) {
            let id = "demo-\(alerts.count)"
            var a = alert(id, rule: rule, title: title, severity: severity, at: at, entities: entities,
                          evidence: evidence.map { [$0] } ?? [], controls: controls)
            a.description = "\(title): \(entities.map(\.description).joined(separator: ", "))"
            alerts.append(a)
        }
        let body = """
            {"time":"2025-03-04T09:00:00.1234567Z","resourceId":"\(workspace.value.uppercased())","operationName":\
            "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/LISTKEYS/ACTION","category":"Administrative","resultType":"Success",\
            "callerIpAddress":"203.0.113.7","identity":{"claims":{"upn":"alice@contoso.com","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46"}},\
            "properties":{"statusCode":"OK","requestbody":"{}"}}
            """
        for k in 0..<6 { add("d3-secrets", "AML Workspace Secrets Listed by a User", .high, Int64(k) * 420, [alice, workspace], ["IM-8"], evidence: body) }
        add("d7-public", "AML Workspace Made Reachable from the Internet", .high, 3_000, [alice, workspace], ["NS-2", "NS-1"])
        add("d16-storage", "Workspace Storage Hardening Dropped (keySource Microsoft.Storage)", .critical, 3_600, [alice, storage],
            ["NS-2", "DP-5"])
        add("d15-nsg", "NSG Opened to the Internet (SSH/RDP from any)", .medium, 4_200, [alice], ["NS-1"])
        add("d11-defender", "Defender for Cloud Plan Downgraded to Free", .critical, 26_000, [mallory, attacker], ["LT-1"],
            evidence: evilEvidence)
        add("d12-suppress", "Defender Alert Suppression Rule Created", .high, 26_400, [mallory, attacker], ["LT-1"])
        add("d10-diag", "Diagnostic Setting Removed from the Workspace", .high, 27_000, [mallory, workspace], ["LT-4"])
        for k in 0..<14 {
            add("signin-legacy", "Legacy Authentication Sign-in", .low, 7_200 + Int64(k) * 5_300,
                [Entity(kind: .account, value: "svc\(k % 4)@contoso.com")], ["IM-6", "IM-7"])
        }
        for k in 0..<5 { add("d17-keys", "Storage Account Keys Listed by a User", .medium, 90_000 + Int64(k) * 900, [pipeline, storage], ["IM-8"]) }
        add("info-quota", "AML Quota Raised", .informational, 120_000, [pipeline], ["AM-3"])
        try db.commit(batch: CommitBatch(alerts: alerts, checkpoints: []))
        var model = try ReportModel(database: db, generatedAt: t0.adding(seconds: 2 * 86_400),
                                    coverage: CoverageMatrix(rules: [
                                        (id: "d3", title: "AML Workspace Secrets Listed by a User", area: "identity", controls: ["IM-8"]),
                                        (id: "d7", title: "AML Workspace Made Reachable from the Internet", area: "network", controls: ["NS-2", "NS-1"]),
                                        (id: "d15", title: "NSG Opened to the Internet", area: "network", controls: ["NS-1"]),
                                        (id: "d16", title: "Workspace Storage Hardening Dropped", area: "data-protection", controls: ["NS-2", "DP-5"]),
                                        (id: "d11", title: "Defender Plan Downgraded", area: "threat-protection", controls: ["LT-1"]),
                                        (id: "d10", title: "Diagnostic Setting Removed", area: "logging", controls: ["LT-4"]),
                                        (id: "d19", title: "ACR Admin User Enabled", area: "containers", controls: ["IM-1", "IM-8"]),
                                    ]))
        for hour in 0..<40 {
            let daily = 6_000 + Int(3_000 * (Double((hour + 9) % 24) / 24 * 2 * Double.pi - Double.pi / 2).sin)
            model.countEvent(at: t0.adding(seconds: Int64(hour) * 3600 - 3600), count: daily + (hour == 7 ? 9_000 : 0))
        }
        return model
    }
}

private extension Double {
    var sin: Double { Foundation.sin(self) }
}
