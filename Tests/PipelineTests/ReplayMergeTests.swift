import EventDecoding
import EventModel
import FastJSON
import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// Activity Log records for the merge tests: background reads every few minutes plus the two steps
/// of the pack's correlation "workspace made public, then a private endpoint removed" (D8 + D7).
enum MergeFixture {
    static let workspace = "/SUBSCRIPTIONS/3F2A1B0C-9D8E-4F7A-8B6C-5D4E3F2A1B0C/RESOURCEGROUPS/RG-ML-PROD/PROVIDERS/MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MLW-PROD"
    static let correlationRule = "2d7c5b1e-8f4a-4a39-b6d2-e1f0937c4a58"
    static let claims = #""identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "dev1@contoso.example", "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}}"#

    static func time(_ minutes: Int, day: Int = 21) -> String {
        String(format: "2026-11-%02dT%02d:%02d:00.0000000Z", day + minutes / 1440, (minutes / 60) % 24, minutes % 60)
    }

    /// A benign workspace read at `minutes` after midnight.
    static func read(_ minutes: Int, tag: String, day: Int = 21) -> String {
        #"{"time": "\#(time(minutes, day: day))", "resourceId": "\#(workspace)", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/READ", "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.", "durationMs": 0, "callerIpAddress": "198.51.100.9", "correlationId": "r-\#(tag)-\#(minutes)", "#
            + #""identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "reader@contoso.example"}}, "level": "Information", "properties": {}}"#
    }

    /// The Start record (request body) and the Success record of one workspace write: the rule
    /// reads the assembled operation, so it needs both.
    static func madePublic(_ minutes: Int) -> String {
        #"{"time": "\#(time(minutes))", "resourceId": "\#(workspace)", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/WRITE", "category": "Administrative", "resultType": "Start", "resultSignature": "Started.", "durationMs": 0, "callerIpAddress": "198.51.100.7", "correlationId": "pub", \#(claims), "level": "Information", "properties": {"requestbody": "{\"properties\": {\"publicNetworkAccess\": \"Enabled\"}}"}}"#
            + "\n" +
        #"{"time": "\#(time(minutes))", "resourceId": "\#(workspace)", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/WRITE", "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.OK", "durationMs": 1200, "callerIpAddress": "198.51.100.7", "correlationId": "pub", \#(claims), "level": "Information", "properties": {"statusCode": "OK"}}"#
    }

    static func endpointRemoved(_ minutes: Int) -> String {
        #"{"time": "\#(time(minutes))", "resourceId": "\#(workspace)/PRIVATEENDPOINTCONNECTIONS/PE-MLW", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/PRIVATEENDPOINTCONNECTIONS/DELETE", "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.", "durationMs": 0, "callerIpAddress": "198.51.100.7", "correlationId": "pe", \#(claims), "level": "Information", "properties": {}}"#
    }

    /// Reads every `step` minutes over [from, to), with `extra` records placed at their time.
    static func lines(from: Int, to: Int, step: Int, tag: String, extra: [(Int, String)] = []) -> String {
        var items: [(Int, String)] = stride(from: from, to: to, by: step).map { ($0, read($0, tag: tag)) }
        items += extra
        return items.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: "\n") + "\n"
    }

    /// The network rules (the correlation's base rules) and the correlations; no anomaly rules.
    static func rules() throws -> RuleSetup {
        let detections = PackageRoot.url.appendingPathComponent("detections")
        return try RuleSetup.load(ruleDirectories: ["network", "correlations"].map { detections.appendingPathComponent($0).path },
                                  fieldMapPath: detections.path + "/fieldmap.yml", database: nil)
    }

    struct Outcome {
        var summary: ReplaySummary
        var diagnostics: [Diagnostic]
        var checkpoints: [Checkpoint]
        var correlated: Bool { (summary.alertsByRule[correlationRule] ?? 0) > 0 }
    }

    static func replay(_ paths: [String], state: String, maxOpenFiles: Int = 64, batchEvents: Int = 20_000,
                       lateness: Int64 = 900, rules: RuleSetup? = nil) throws -> Outcome {
        let setup = try rules ?? MergeFixture.rules()
        let database = try StateDatabase(path: state)
        defer { try? database.close() }
        var options = try ReplayOptions(paths: paths)
        options.latenessSeconds = lateness
        options.batchEvents = batchEvents
        options.merge = MergeOptions(maxOpenFiles: maxOpenFiles)
        var diagnostics: [Diagnostic] = []
        let pipeline = ReplayPipeline(options: options, database: database,
                                      detection: setup.makeDetection(database: database, latenessSeconds: lateness),
                                      sinks: [], onDiagnostic: { diagnostics.append($0) })
        let summary = try pipeline.run()
        return Outcome(summary: summary, diagnostics: diagnostics, checkpoints: try database.checkpoints())
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

@Suite struct ReplayMergeTests {
    /// Two files over the same three hours; the workspace is made public in one, the private
    /// endpoint removed 20 minutes later in the other.
    @Test func twoOverlappingFilesCompleteACorrelation() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge")
        let a = dir.path("activity-a.json"), b = dir.path("activity-b.json")
        try MergeFixture.write(MergeFixture.lines(from: 540, to: 720, step: 2, tag: "a", extra: [(600, MergeFixture.madePublic(600))]), to: a)
        try MergeFixture.write(MergeFixture.lines(from: 541, to: 721, step: 2, tag: "b", extra: [(620, MergeFixture.endpointRemoved(620))]), to: b)
        let rules = try MergeFixture.rules()

        let merged = try MergeFixture.replay([a, b], state: dir.path("merged.db"), rules: rules)
        #expect(merged.correlated, "alerts: \(merged.summary.alertsByRule)")
        #expect(merged.summary.lateEvents == 0)
        #expect(merged.summary.mostFilesOpen == 2)
        #expect(merged.summary.events == 183)
        #expect(!merged.diagnostics.contains { $0.code == "input.late-event" })

        // One file at a time is the old sequential replay: the second file is behind the watermark.
        // Only what the event-time path wants is held, so only that is late: the endpoint removal
        // (a correlation's base rule). The reads feed no correlation, and no rule reads their
        // assembled operations, so they are never buffered.
        let sequential = try MergeFixture.replay([a, b], state: dir.path("sequential.db"), maxOpenFiles: 1, rules: rules)
        #expect(!sequential.correlated)
        #expect(sequential.summary.lateEvents == 1)
        #expect(sequential.diagnostics.contains { $0.code == "input.late-event" })
    }

    /// The same events spread over three files give the same alerts and incidents in every argument order.
    @Test func threeFileInterleaveIsIndependentOfArgumentOrder() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge")
        let names = ["x.json", "y.json", "z.json"]
        try MergeFixture.write(MergeFixture.lines(from: 540, to: 700, step: 3, tag: "x", extra: [(600, MergeFixture.madePublic(600))]), to: dir.path(names[0]))
        try MergeFixture.write(MergeFixture.lines(from: 541, to: 700, step: 3, tag: "y"), to: dir.path(names[1]))
        try MergeFixture.write(MergeFixture.lines(from: 542, to: 700, step: 3, tag: "z", extra: [(650, MergeFixture.endpointRemoved(650))]), to: dir.path(names[2]))
        let rules = try MergeFixture.rules()
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        var results: [(alerts: [String: Int], incidents: Set<String>)] = []
        for (n, order) in orders.enumerated() {
            let out = try MergeFixture.replay(order.map { dir.path(names[$0]) }, state: dir.path("s\(n).db"), rules: rules)
            #expect(out.summary.lateEvents == 0, "order \(order)")
            #expect(out.correlated, "order \(order)")
            results.append((out.summary.alertsByRule, Set(out.summary.incidentIds)))
        }
        for r in results.dropFirst() {
            #expect(r.alerts == results[0].alerts)
            #expect(r.incidents == results[0].incidents)
        }
    }

    /// An export tree with one hourly blob per category: the blobs of one hour are read side by side.
    @Test func exportTreeWithSeveralCategoriesHasNoLateEvents() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge")
        let categories = ["insights-activity-logs", "insights-logs-auditevent", "insights-logs-amlcomputejobevent"]
        for (c, category) in categories.enumerated() {
            for hour in 9...11 {
                let path = dir.path("tree/\(category)/resourceId=\(MergeFixture.workspace)/y=2026/m=11/d=21/h=\(String(format: "%02d", hour))/m=00/PT1H.json")
                var extra: [(Int, String)] = []
                if c == 0 && hour == 10 { extra.append((600, MergeFixture.madePublic(600))) }
                if c == 2 && hour == 10 { extra.append((625, MergeFixture.endpointRemoved(625))) }
                try MergeFixture.write(MergeFixture.lines(from: hour * 60 + c, to: hour * 60 + 60, step: 4, tag: category, extra: extra), to: path)
            }
        }
        let tree = dir.path("tree")
        let out = try MergeFixture.replay([tree], state: dir.path("state.db"))
        #expect(out.summary.read.files == 9)
        #expect(out.summary.lateEvents == 0)
        #expect(out.correlated)
        #expect(out.summary.filesJoinedBehind == 0)

        // With room for one hour's blobs only, files still open hour by hour, in time.
        let tight = try MergeFixture.replay([tree], state: dir.path("tight.db"), maxOpenFiles: 3)
        #expect(tight.summary.mostFilesOpen == 3)
        #expect(tight.summary.lateEvents == 0)
        #expect(tight.correlated)

        // One file at a time (the old sequential read): the second category of an hour is late.
        let one = try MergeFixture.replay([tree], state: dir.path("one.db"), maxOpenFiles: 1)
        #expect(one.summary.lateEvents > 0)
    }

    /// More files than the cap, one hour each: never more than the cap open, nothing late.
    @Test func openFilesAreBoundedAndFilesOpenInTimeOrder() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge")
        var paths: [String] = []
        // Names in reverse time order, so path order is not time order (the first record decides).
        for k in 0..<10 {
            let path = dir.path("part-\(9 - k).json")
            try MergeFixture.write(MergeFixture.lines(from: 8 * 60 + k * 60, to: 8 * 60 + k * 60 + 60, step: 5, tag: "p\(k)"), to: path)
            paths.append(path)
        }
        let out = try MergeFixture.replay(paths.shuffled(), state: dir.path("state.db"), maxOpenFiles: 3)
        #expect(out.summary.mostFilesOpen <= 3)
        #expect(out.summary.events == 120)
        #expect(out.summary.lateEvents == 0)
        #expect(out.summary.filesJoinedBehind == 0)
        #expect(out.summary.read.files == 10)
    }

    /// More overlapping files than the cap: the merge cannot help all of them, and says so once.
    @Test func tooManyOverlappingFilesAreReported() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge")
        let paths = (0..<4).map { dir.path("day-\($0).json") }
        // Each file also holds a correlation base-rule match: the event-time path wants it, so in a
        // file joined behind it is late (reads are not buffered at all, so they are never late).
        for (k, p) in paths.enumerated() {
            try MergeFixture.write(MergeFixture.lines(from: 540 + k, to: 720, step: 4, tag: "d\(k)",
                                                      extra: [(600 + k, MergeFixture.endpointRemoved(600 + k))]), to: p)
        }
        let out = try MergeFixture.replay(paths, state: dir.path("state.db"), maxOpenFiles: 2)
        #expect(out.summary.filesJoinedBehind == 2)
        #expect(out.diagnostics.filter { $0.code == MergeCode.overflow }.count == 1)
        #expect(out.summary.lateEvents > 0)
    }

    /// Errors keep their file and line while files are merged.
    @Test func diagnosticsKeepTheirFileAndLine() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge")
        let a = dir.path("a.json"), b = dir.path("b.json")
        try MergeFixture.write(MergeFixture.lines(from: 540, to: 560, step: 2, tag: "a"), to: a)
        var bText = MergeFixture.lines(from: 541, to: 561, step: 2, tag: "b")
        bText = bText.replacingOccurrences(of: "\n" + MergeFixture.read(545, tag: "b") + "\n", with: "\n{\"time\": broken\n")
        try MergeFixture.write(bText, to: b)
        let out = try MergeFixture.replay([a, b], state: dir.path("state.db"))
        let bad = try #require(out.diagnostics.first { $0.code == InputCode.malformedJSON })
        #expect(bad.location.file == b)
        #expect(bad.location.line == 3)
        #expect(out.summary.read.errors[InputCode.malformedJSON] == 1)
        #expect(out.summary.events == 19)
    }

    /// Every file's checkpoint ends at its decoded length, also with many small commits.
    @Test func checkpointsReachEveryFilesEnd() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge")
        let a = dir.path("a.json"), b = dir.path("b.json")
        try MergeFixture.write(MergeFixture.lines(from: 0, to: 600, step: 1, tag: "a"), to: a)
        try MergeFixture.write(MergeFixture.lines(from: 0, to: 600, step: 2, tag: "b"), to: b)
        let out = try MergeFixture.replay([a, b], state: dir.path("state.db"), batchEvents: 25, lateness: 60)
        let byKey = Dictionary(uniqueKeysWithValues: out.checkpoints.map { ($0.source, $0.offset) })
        #expect(byKey["replay:" + a] == Int64(try Data(contentsOf: URL(fileURLWithPath: a)).count))
        #expect(byKey["replay:" + b] == Int64(try Data(contentsOf: URL(fileURLWithPath: b)).count))
    }
}

@Suite struct ReplayCheckpointsTests {
    func event(_ minutes: Int, offset: Int64, file: String = "f") -> Event {
        var e = Event(kind: .activity, shape: .resourceLogExport, record: try! JSONDocument.parse("{}"),
                      position: SourcePosition(source: file, offset: offset), id: UInt64(offset))
        e.time = EventTime(parsing: MergeFixture.time(minutes))
        return e
    }

    /// A checkpoint never passes a record still inside the hold (twice the lateness of event time).
    @Test func checkpointsStayBehindHeldEvents() throws {
        var c = ReplayCheckpoints(files: [InputFile(path: "a"), InputFile(path: "b")], holdSeconds: 600)
        func moved(drained: Bool = false) -> [String: Int64?] {
            Dictionary(uniqueKeysWithValues: c.moved(drained: drained).map { ($0.source, $0.offset) })
        }
        c.fed(event(0, offset: 0), file: 0)
        c.fed(event(1, offset: 100), file: 1)
        c.fed(event(5, offset: 100), file: 0)
        // Nothing is 10 minutes old yet: each file resumes at its first record.
        #expect(moved() == ["replay:a": 0, "replay:b": 100])
        c.fed(event(12, offset: 200), file: 0)  // newest 12: records at or before minute 2 are through
        // a: minute 5 is held, resume there; b: minute 1 is through but the file goes on, so it
        // still resumes at that record, an unchanged position that is not written again.
        #expect(moved() == ["replay:a": 100])
        #expect(moved().isEmpty)

        // Out of order inside a file: a record that is through (minute 15 at 400) does not move the
        // position past an earlier one that is held (minute 30 at 300).
        c.fed(event(30, offset: 300), file: 1)
        c.fed(event(15, offset: 400), file: 1)
        c.fed(event(26, offset: 300), file: 0)
        #expect(moved() == ["replay:a": 300, "replay:b": 300])

        c.ended(0, decodedBytes: 350)
        c.ended(1, decodedBytes: 500)
        #expect(moved(drained: true) == ["replay:a": 350, "replay:b": 500])
    }

    /// Commits between baseline saves drop the records already through detection (so the queues
    /// hold one commit's records, not every record since the last save), and the checkpoints the
    /// next save writes are the same as without the drops.
    @Test func droppingRecordsBetweenSavesChangesNoCheckpoint() throws {
        let files = [InputFile(path: "a"), InputFile(path: "b")]
        var dropping = ReplayCheckpoints(files: files, holdSeconds: 600), keeping = dropping
        var generator = SystemRandomNumberGenerator()
        var offsets: [Int64] = [0, 0]
        var mostTracked = 0
        for n in 0..<3_000 {
            // Times move forward with jitter inside the hold, so records go through out of order.
            let file = Int.random(in: 0...1, using: &generator)
            let e = event(n / 10 + Int.random(in: -8...8, using: &generator), offset: offsets[file])
            offsets[file] += 100
            dropping.fed(e, file: file)
            keeping.fed(e, file: file)
            if n % 50 == 49 { dropping.dropThrough() }
            mostTracked = max(mostTracked, dropping.tracked)
            if n % 500 == 499 {
                let a = dropping.moved(), b = keeping.moved()
                #expect(a.map(\.source) == b.map(\.source) && a.map(\.offset) == b.map(\.offset), "at record \(n)")
            }
        }
        // 10 records a minute and a 10-minute hold: ~100 held, plus one commit's 50 and the jitter.
        #expect(mostTracked < 400)
        #expect(keeping.tracked > 0)
        let a = dropping.moved(drained: true), b = keeping.moved(drained: true)
        #expect(a.map(\.offset) == b.map(\.offset))
    }
}

/// Anomaly baselines are saved every `baselineEvents` (not at every commit), and file checkpoints
/// move only in those transactions, so a checkpoint never covers learning the store lacks.
@Suite struct ReplayBaselineCadenceTests {
    static func run(_ path: String, state: String, baselineEvents: Int) throws -> (alerts: [String], audit: [(what: String, n: Int)], baselines: [String]) {
        let detections = PackageRoot.url.appendingPathComponent("detections")
        let rules = try RuleSetup.load(ruleDirectories: ["network", "anomaly"].map { detections.appendingPathComponent($0).path },
                                       fieldMapPath: detections.path + "/fieldmap.yml", database: nil)
        let database = try StateDatabase(path: state)
        defer { try? database.close() }
        // Every checkpoint write records how many profile writes came before it.
        try database.connection.execute("""
            CREATE TABLE audit (seq INTEGER PRIMARY KEY, what TEXT, n INTEGER);
            CREATE TRIGGER b1 AFTER INSERT ON baselines WHEN NEW.namespace = 'anomaly.profile' BEGIN INSERT INTO audit (what, n) VALUES ('baseline', 0); END;
            CREATE TRIGGER b2 AFTER UPDATE ON baselines WHEN NEW.namespace = 'anomaly.profile' BEGIN INSERT INTO audit (what, n) VALUES ('baseline', 0); END;
            CREATE TRIGGER c1 AFTER INSERT ON checkpoints BEGIN INSERT INTO audit (what, n) VALUES ('checkpoint', (SELECT COUNT(*) FROM audit WHERE what = 'baseline')); END;
            CREATE TRIGGER c2 AFTER UPDATE ON checkpoints BEGIN INSERT INTO audit (what, n) VALUES ('checkpoint', (SELECT COUNT(*) FROM audit WHERE what = 'baseline')); END;
            """)
        var options = try ReplayOptions(paths: [path])
        options.batchEvents = 20
        options.baselineEvents = baselineEvents
        let pipeline = ReplayPipeline(options: options, database: database, detection: rules.makeDetection(database: database),
                                      sinks: [], onDiagnostic: { _ in })
        _ = try pipeline.run()
        let alerts = try database.connection.query("SELECT id FROM alerts ORDER BY id") { $0.string(0) }
        let audit = try database.connection.query("SELECT what, n FROM audit ORDER BY seq") { ($0.string(0), Int($0.int64(1))) }
        let baselines = try database.connection.query("SELECT namespace || key || value FROM baselines ORDER BY namespace, key") { $0.string(0) }
        return (alerts, audit, baselines)
    }

    @Test func checkpointsMoveOnlyWithTheBaselines() throws {
        let dir = TemporaryFolder(prefix: "vigil-baseline-cadence")
        let path = dir.path("a.json")
        try MergeFixture.write(MergeFixture.lines(from: 0, to: 240, step: 1, tag: "a"), to: path)   // 240 records, commits of 20
        let sparse = try Self.run(path, state: dir.path("sparse.db"), baselineEvents: 100)
        let checkpoints = sparse.audit.filter { $0.what == "checkpoint" }
        #expect(checkpoints.count == 3, "at 100 and 200 records and at the end, not at each of the 12 commits: \(checkpoints.count)")
        #expect(checkpoints.first.map { $0.n > 0 } == true, "the first checkpoint comes after a baseline save")
        #expect(zip(checkpoints, checkpoints.dropFirst()).allSatisfy { $0.n < $1.n }, "a baseline save before every checkpoint")
        // Same alerts and the same stored baselines as saving at every commit.
        let every = try Self.run(path, state: dir.path("every.db"), baselineEvents: 1)
        #expect(every.audit.filter { $0.what == "checkpoint" }.count == 13)
        #expect(sparse.alerts == every.alerts)
        #expect(sparse.baselines == every.baselines && !sparse.baselines.isEmpty)
    }
}

/// A merged replay killed with SIGKILL part-way and run again on the same state database ends with
/// the alerts of a clean run (the cross-file correlation included), and every file's position at
/// its end; positions saved by the killed runs never pass the file.
@Suite(.serialized, .enabled(if: Chaos.hasVigil, Chaos.noVigil))
struct ReplayMergeResumeTests {
    @Test(.timeLimit(.minutes(3)))
    func killedMergedReplayResumes() throws {
        let dir = TemporaryFolder(prefix: "vigil-merge-resume")
        // Three files over the same day; the correlation's two steps sit in different files.
        let paths = ["a.json", "b.json", "c.json"].map { dir.path($0) }
        let day = 1440
        try MergeFixture.write(MergeFixture.lines(from: 0, to: day, step: 1, tag: "a", extra: [(600, MergeFixture.madePublic(600))]), to: paths[0])
        try MergeFixture.write(MergeFixture.lines(from: 0, to: day, step: 1, tag: "b"), to: paths[1])
        try MergeFixture.write(MergeFixture.lines(from: 0, to: day, step: 1, tag: "c", extra: [(630, MergeFixture.endpointRemoved(630))]), to: paths[2])
        let rules = ["network", "correlations"].flatMap { ["--rules", PackageRoot.url.appendingPathComponent("detections/" + $0).path] }
        func arguments(_ db: String, _ sink: String) -> [String] {
            ["replay"] + paths + rules + ["--state", dir.path(db), "--output", "jsonl:" + dir.path(sink), "--quiet"]
        }

        let started = Date()
        let clean = try Chaos.vigil(arguments("clean.db", "clean.jsonl"), in: dir.url)
        let seconds = Date().timeIntervalSince(started)
        #expect(clean.status == 0, "\(clean.stderr)")
        let reference = try Chaos.SinkContents(path: dir.path("clean.jsonl"))
        #expect(!reference.alerts.isEmpty)

        var rng = SplitMix64(seed: 7)
        for delay in [0.25, 0.6].map({ $0 * seconds + Double(rng.next() % 50) / 1000 }) {
            let child = try Chaos.Child(Chaos.vigil, arguments("run.db", "run.jsonl"), in: dir.url)
            Thread.sleep(forTimeInterval: delay)
            child.kill9()
            _ = try child.wait()
            let db = try StateDatabase(path: dir.path("run.db"))
            for c in try db.checkpoints() {
                let path = String(c.source.dropFirst("replay:".count))
                #expect((c.offset ?? 0) <= Int64(FileSize.of(path) ?? 0), "\(c.source) past its end")
            }
            try db.close()
        }
        let last = try Chaos.vigil(arguments("run.db", "run.jsonl"), in: dir.url)
        #expect(last.status == 0, "\(last.stderr)")
        let got = try Chaos.SinkContents(path: dir.path("run.jsonl"))
        #expect(Set(got.alerts.keys) == Set(reference.alerts.keys))
        #expect(got.incidents == reference.incidents)
        let db = try StateDatabase(path: dir.path("run.db"))
        defer { try? db.close() }
        let positions = Dictionary(uniqueKeysWithValues: try db.checkpoints().map { ($0.source, $0.offset) })
        for p in paths { #expect(positions["replay:" + p] == Int64(FileSize.of(p) ?? -1)) }
    }
}
