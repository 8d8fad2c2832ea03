import Detection
import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// `vigil run` stopped and started again re-reads from a checkpoint kept behind the events it still
/// held, which can lie before events it had already learned. Its baselines end as an uninterrupted
/// run's: every event learned once (`LearnedMark`).
@Suite(.serialized) struct RunBaselineRestartTests {
    static let file = "insights-activity-logs/resourceId=/x/y=2026/PT1H.json"

    /// A workspace read by `caller` at 10:`minute`:`second` on 2026-11-21.
    static func read(minute: Int, second: Int = 0, caller: String = "reader@contoso.example") -> String {
        let tag = String(format: "%02d%02d", minute, second)
        return MergeFixture.read(0, tag: tag).replacingOccurrences(of: MergeFixture.time(0), with: String(format: "2026-11-21T10:%02d:%02d.0000000Z", minute, second))
            .replacingOccurrences(of: "reader@contoso.example", with: caller)
    }

    /// One anomaly rule (first access, no learning period) and 60 s of lateness.
    static func config(_ dir: String) throws -> String {
        let rules = "\(dir)/rules"
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try """
            vigil_rule: anomaly
            id: test-first-access
            title: first access without learning
            level: medium
            anomaly: {kind: first_access, subject: vigil.caller, scope: workspace, learning_days: 0}
            """.write(toFile: "\(rules)/first.yml", atomically: true, encoding: .utf8)
        return RunFixture.config(tree: "\(dir)/tree", state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl", metrics: false)
            .replacingOccurrences(of: "lateness: 0", with: "lateness: 60")
            .replacingOccurrences(of: #"paths: ["#, with: #"paths: ["\#(rules)", "#)
    }

    /// Runs a service over `dir` until `lines` records are in, then stops it; the reader's
    /// workspace baseline's event count.
    static func runOnce(_ dir: String, lines: Int) throws -> Int? {
        let (service, database, _) = try makeService(try config(dir))
        let run = BackgroundRun(service)
        #expect(RunFixture.waitUntil(30) { service.metrics.eventsIn("exports") >= lines })
        #expect(run.finish())
        #expect(run.error == nil)
        defer { try? database.close() }
        let keys = try database.baselineKeys(namespace: AnomalyDetector.profileNamespace).filter { $0.hasPrefix("workspace|") && $0.hasSuffix("|reader@contoso.example") }
        guard let key = keys.first else { return nil }
        return try database.baselineValue(namespace: AnomalyDetector.profileNamespace, key: key)
            .flatMap { try? JSONDecoder().decode(AccessProfile.self, from: Data($0)) }?.events
    }

    @Test func aRestartLearnsWhatItReadsAgainOnce() throws {
        // File order 10:00, 10:05, 10:04:10, 10:05:30. With 60 s of lateness the last record moves
        // the watermark to 10:04:30: 10:00 and 10:04:10 are learned, 10:05 and 10:05:30 are still
        // held at the stop, so the checkpoint stays before 10:05 and the restart re-reads 10:04:10.
        let first = [Self.read(minute: 0), Self.read(minute: 5), Self.read(minute: 4, second: 10), Self.read(minute: 5, second: 30)]
        let rest = [Self.read(minute: 8), Self.read(minute: 59, caller: "tick@contoso.example")]

        let ref = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: ref) }
        try RunFixture.append(first + rest, to: "\(ref)/tree/\(Self.file)")
        let expected = try Self.runOnce(ref, lines: 6)
        #expect(expected == 5, "the uninterrupted run learns each of the reader's five records once")

        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RunFixture.append(first, to: "\(dir)/tree/\(Self.file)")
        #expect(try Self.runOnce(dir, lines: 4) == 2, "two records learned before the stop")
        try RunFixture.append(rest, to: "\(dir)/tree/\(Self.file)")
        #expect(try Self.runOnce(dir, lines: 5) == expected)
    }
}
