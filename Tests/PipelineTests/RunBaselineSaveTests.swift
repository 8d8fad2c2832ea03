import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// With anomaly rules, `vigil run` saves the learned baselines every `baselineEvents` events or
/// `baselineInterval`, and at stop, and moves source positions only in those transactions; alerts
/// commit every round.
@Suite struct RunBaselineSaveTests {
    /// The test config with the anomaly rules added (to the rules' paths, not the source's).
    static func config(dir: String) -> String {
        RunFixture.config(tree: "\(dir)/tree", state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl", metrics: false)
            .replacingOccurrences(of: "rules:\n  paths: [", with: "rules:\n  paths: [\"\(RunFixture.detections.path)/anomaly\", ")
    }

    /// Rows written so far, read through a connection of its own (the service's is busy).
    static func counts(_ path: String) throws -> (alerts: Int, checkpoints: Int, profiles: Int) {
        let db = try StateDatabase(path: path)
        defer { try? db.close() }
        func count(_ sql: String) throws -> Int { try db.connection.query(sql) { $0.int(0) }.first ?? 0 }
        return (try count("SELECT count(*) FROM alerts"), try count("SELECT count(*) FROM checkpoints WHERE source LIKE 'file:%'"),
                try count("SELECT count(*) FROM baselines WHERE namespace = 'anomaly.profile'"))
    }

    /// A service on the sample tree with these save limits, started and through every sample line.
    static func started(in dir: String, events: Int) throws -> (BackgroundRun, StateDatabase, files: Int) {
        let files = try RunFixture.sampleFiles()
        for f in files { try RunFixture.append(f.lines, to: "\(dir)/tree/\(f.relative)") }
        let (service, database, _) = try makeService(config(dir: dir)) { options in
            options.baselineEvents = events
            options.baselineInterval = .seconds(3600)
        }
        let run = BackgroundRun(service)
        let lines = files.reduce(0) { $0 + $1.lines.count }
        #expect(RunFixture.waitUntil(30) { service.metrics.eventsIn("exports") >= lines })
        return (run, database, files.count)
    }

    @Test func positionsMoveOnlyWithTheBaselines() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (run, database, files) = try Self.started(in: dir, events: 1_000_000)
        #expect(RunFixture.waitUntil(10) { ((try? Self.counts("\(dir)/state.db"))?.alerts ?? 0) > 0 }, "alerts commit every round")
        let running = try Self.counts("\(dir)/state.db")
        #expect(running.checkpoints == 0 && running.profiles == 0, "no save yet: \(running)")
        #expect(run.finish() && run.error == nil)
        let stopped = try Self.counts("\(dir)/state.db")
        #expect(stopped.checkpoints == files && stopped.profiles > 0, "saved at stop: \(stopped)")
        #expect(stopped.alerts == running.alerts)
        try database.close()
    }

    @Test func aFullCountSavesThemWhileRunning() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (run, database, _) = try Self.started(in: dir, events: 10)
        #expect(RunFixture.waitUntil(10) {
            let c = try? Self.counts("\(dir)/state.db")
            return (c?.checkpoints ?? 0) > 0 && (c?.profiles ?? 0) > 0
        }, "positions and baselines saved before stop")
        #expect(run.finish() && run.error == nil)
        try database.close()
    }
}
