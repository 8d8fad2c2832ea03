import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// `vigil run` stopped in the middle of a correlation window and started again: the window is
/// restored from the state database and completed, events re-read from behind the checkpoint are
/// not counted twice, and no alert is raised twice.
@Suite(.serialized) struct RunCorrelationRestartTests {
    static let massDeletion = "0c7e4a52-93d1-4b8f-a6e2-71d5c3b9f804"

    /// A workspace deletion by mallory at 10:`minute`:00 (the pack's mass-deletion base rule).
    static func deletion(minute: Int, n: Int) -> String {
        let time = String(format: "2026-11-21T10:%02d:00.0000000Z", minute)
        return #"{"time": "\#(time)", "resourceId": "/SUBSCRIPTIONS/3F2A1B0C-9D8E-4F7A-8B6C-5D4E3F2A1B0C/RESOURCEGROUPS/RG-ML-PROD/PROVIDERS/MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MLW-\#(n)", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/DELETE", "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.", "durationMs": 0, "callerIpAddress": "198.51.100.7", "correlationId": "del-\#(n)", "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "mallory@contoso.example"}}, "level": "Information", "properties": {}}"#
    }

    static let tick = deletion(minute: 0, n: 99).replacingOccurrences(of: "2026-11-21T10:00:00.0000000Z", with: "2030-01-01T00:00:00Z")
        .replacingOccurrences(of: "WORKSPACES/DELETE", with: "WORKSPACES/READ")

    /// 60 s of lateness, so the file's out-of-order line is placed, not late.
    static func config(_ dir: String) -> String {
        RunFixture.config(tree: "\(dir)/tree", state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl", metrics: false)
            .replacingOccurrences(of: "lateness: 0", with: "lateness: 60")
    }

    static var file: String { "insights-activity-logs/resourceId=/x/y=2026/PT1H.json" }

    /// Runs a service over `dir` until `lines` records are in (and `until` holds), then stops it.
    static func runOnce(_ dir: String, lines: Int, until: (StateDatabase) -> Bool = { _ in true }) throws -> (RunSummary?, [String: [String]]) {
        let (service, database, _) = try makeService(config(dir))
        let run = BackgroundRun(service)
        #expect(RunFixture.waitUntil(30) { service.metrics.eventsIn("exports") >= lines && until(database) })
        #expect(run.finish())
        #expect(run.error == nil)
        let alerts = try database.connection.query("SELECT id, body FROM alerts WHERE rule_id = ?", [massDeletion]) { ($0.string(0), $0.string(1)) }
        var byId: [String: [String]] = [:]
        for (id, body) in alerts {
            let o = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            byId[id] = o?["eventIds"] as? [String] ?? []
        }
        try database.close()
        return (run.summary, byId)
    }

    static func windows(_ dir: String) throws -> [StoredCorrelationWindow] {
        let db = try StateDatabase(path: "\(dir)/state.db", readOnly: true)
        defer { try? db.close() }
        return try db.correlationWindows().filter { $0.correlationId == massDeletion }
    }

    @Test func stoppedMidWindowThenRestartedCompletesTheWindowOnce() throws {
        // The file's order: 10:00, 10:02, 10:01, 10:03. With 60 s lateness, 10:00 and 10:01 reach the
        // windows; 10:02 and 10:03 are still held at the stop, so the checkpoint stays before 10:02
        // and the restart re-reads 10:01, which the restored window already holds.
        let first = [Self.deletion(minute: 0, n: 1), Self.deletion(minute: 2, n: 3), Self.deletion(minute: 1, n: 2), Self.deletion(minute: 3, n: 4)]
        let rest = [Self.deletion(minute: 4, n: 5), Self.tick]

        // Reference: one uninterrupted run over everything.
        let ref = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: ref) }
        try RunFixture.append(first + rest, to: "\(ref)/tree/\(Self.file)")
        let (_, expected) = try Self.runOnce(ref, lines: 6) { db in (try? db.connection.scalarInt("SELECT COUNT(*) FROM alerts WHERE rule_id = ?", [Self.massDeletion])) == 1 }
        try #require(expected.count == 1, "the uninterrupted run raises the mass deletion once")
        #expect(expected.values.first?.count == 5)

        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RunFixture.append(first, to: "\(dir)/tree/\(Self.file)")
        let (_, none) = try Self.runOnce(dir, lines: 4)
        #expect(none.isEmpty)
        let saved = try Self.windows(dir)
        #expect(saved.count == 1 && saved.first?.events == 2, "the half-full window is in the state database: \(saved)")

        // Restart with the rest of the input.
        try RunFixture.append(rest, to: "\(dir)/tree/\(Self.file)")
        let (_, after) = try Self.runOnce(dir, lines: 5) { db in (try? db.connection.scalarInt("SELECT COUNT(*) FROM alerts WHERE rule_id = ?", [Self.massDeletion])) == 1 }
        #expect(after == expected, "the restarted run raises the same alert as the uninterrupted one (10:01 counted once)")
        #expect(try Self.windows(dir).isEmpty, "the window fired: its row is gone")

        // A third start with nothing new raises nothing again.
        let (summary, again) = try Self.runOnce(dir, lines: 0)
        #expect(again == expected)
        #expect(summary?.newAlerts == 0)
        #expect(RunFixture.rows("\(dir)/out.jsonl").filter { expected[$0.id] != nil }.count == 1, "delivered once")
    }

    /// `vigil replay day1/ && vigil replay day2/` over one state database gives the correlation
    /// alert of one replay over both: the window spanning the split is saved at the end of day 1
    /// (not judged: it has not ended) and completed by day 2. A third replay of day 2 raises nothing.
    @Test func replaySplitAcrossTwoRunsMatchesOneRun() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RunFixture.append((0..<3).map { Self.deletion(minute: $0, n: $0 + 1) }, to: "\(dir)/day1/PT1H.json")
        try RunFixture.append((3..<5).map { Self.deletion(minute: $0, n: $0 + 1) }, to: "\(dir)/day2/PT1H.json")
        let rules = try RuleSetup.load(ruleDirectories: RunFixture.rulePaths, fieldMapPath: RunFixture.detections.path + "/fieldmap.yml", database: nil)
        #expect(!rules.hasErrors)
        func replay(_ paths: [String], state: String) throws -> [String] {
            let database = try StateDatabase(path: state)
            defer { try? database.close() }
            let pipeline = ReplayPipeline(options: try ReplayOptions(paths: paths), database: database,
                                          detection: rules.makeDetection(database: database), sinks: []) { _ in }
            _ = try pipeline.run()
            return try database.connection.query("SELECT id FROM alerts WHERE rule_id = ? ORDER BY id", [Self.massDeletion]) { $0.string(0) }
        }
        let once = try replay(["\(dir)/day1", "\(dir)/day2"], state: "\(dir)/once.db")
        #expect(once.count == 1)
        #expect(try replay(["\(dir)/day1"], state: "\(dir)/split.db").isEmpty)
        let split = try StateDatabase(path: "\(dir)/split.db", readOnly: true)
        #expect(try split.correlationWindows().filter { $0.correlationId == Self.massDeletion }.map(\.events) == [3])
        try split.close()
        #expect(try replay(["\(dir)/day2"], state: "\(dir)/split.db") == once)
        #expect(try replay(["\(dir)/day2"], state: "\(dir)/split.db") == once, "a rerun of day 2 adds nothing")
    }
}
