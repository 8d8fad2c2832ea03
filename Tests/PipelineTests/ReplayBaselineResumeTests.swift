import Detection
import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// Input read again on the same state database is not learned twice (`LearnedMark`).
///
/// Replay re-reads every file on every run (alert ids are deterministic, so the alerts table takes
/// the repeats), and a run stopped after a baseline save (a crash, a kill) is run again the same
/// way. The baselines must end as a clean run's: every event learned once, and the anomaly alerts
/// raised after the stop still raised.
///
/// The stop is made exact, not timed: the state database is copied (`VACUUM INTO`) the moment the
/// first input file is read to its end, between two commits, which is what a kill at that moment
/// leaves on disk. The resumed run starts from that copy.
@Suite struct ReplayBaselineResumeTests {
    struct Outcome {
        var alerts: [String]
        var baselines: [String]
        var summary: ReplaySummary

        /// The baselines without their marks (`"learned"`, `"learnedBySource"`): what was learned, whichever runs learned it.
        var learned: [String] {
            baselines.map { line in
                let json = line.drop { $0 != " " }.dropFirst()
                guard var object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return line }
                object["learned"] = nil
                object["learnedBySource"] = nil
                let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                return line.prefix { $0 != " " } + " " + String(decoding: data ?? Data(), as: UTF8.self)
            }
        }

        /// Each baseline's identity, space and event count: what a failure shows.
        var counts: [String] {
            baselines.map { line in
                let key = line.prefix { $0 != " " }
                let events = line.range(of: #""events":[0-9]+"#, options: .regularExpression).map { line[$0] } ?? "?"
                return "\(key.split(separator: "|").first ?? "")|\(key.split(separator: "|").last ?? "") \(events)"
            }
        }
    }

    /// Two anomaly rules without a learning period, so the fixture's short day can raise them
    /// (`only`: the first one alone, in a folder of its own).
    static func rules(in dir: TemporaryFolder, only first: Bool = false) throws -> String {
        let folder = dir.path(first ? "rules-first" : "rules")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let all = [("test-first-access", "first_access", "workspace"), ("test-new-range", "new_ip_range", "global")]
        for (id, kind, scope) in all.prefix(first ? 1 : 2) {
            try """
                vigil_rule: anomaly
                id: \(id)
                title: \(kind) without learning
                level: medium
                anomaly:
                  kind: \(kind)
                  subject: vigil.caller
                  scope: \(scope)
                  learning_days: 0
                  operations:
                    - microsoft.machinelearningservices/*
                """.write(toFile: folder + "/\(id).yml", atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// A replay of `paths` with `rules` into `database`, committing every 20 events and saving the
    /// baselines every 100; `maxProfiles`: the baselines' memory bound.
    static func pipeline(_ paths: [String], rules: String, database: StateDatabase, maxProfiles: Int? = nil) throws -> ReplayPipeline {
        let detections = PackageRoot.url.appendingPathComponent("detections")
        let setup = try RuleSetup.load(ruleDirectories: [rules], fieldMapPath: detections.path + "/fieldmap.yml", database: nil)
        #expect(!setup.anomalyRules.isEmpty && setup.diagnostics.isEmpty, "\(setup.diagnostics)")
        var options = try ReplayOptions(paths: paths)
        options.batchEvents = 20
        options.baselineEvents = 100
        var detection = setup.makeDetection(database: database)
        if let maxProfiles {
            let anomaly = AnomalyDetector(rules: setup.anomalyRules, store: database, configuration: .init(maxProfiles: maxProfiles))
            detection = DetectionStage(engine: Engine(rules: setup.compiled), anomaly: anomaly, correlationStore: database)
        }
        return ReplayPipeline(options: options, database: database, detection: detection, sinks: [], onDiagnostic: { _ in })
    }

    /// Replays `paths`; `snapshot`, when given, is written when the first file is finished.
    static func replay(_ paths: [String], rules: String, state: String, snapshot: String? = nil, maxProfiles: Int? = nil) throws -> Outcome {
        let database = try StateDatabase(path: state)
        defer { try? database.close() }
        let pipeline = try pipeline(paths, rules: rules, database: database, maxProfiles: maxProfiles)
        var copied = false
        let summary = try pipeline.run { progress in
            guard let snapshot, !copied, progress.filesDone >= 1 else { return }
            copied = true
            try? database.connection.execute("VACUUM INTO '\(snapshot)'")
        }
        if snapshot != nil { #expect(copied, "no file finished before the end") }
        return Outcome(
            alerts: try database.connection.query("SELECT rule_id || ' ' || id FROM alerts ORDER BY id") { $0.string(0) },
            baselines: try database.connection.query(
                "SELECT key || ' ' || CAST(value AS TEXT) FROM baselines WHERE namespace = 'anomaly.profile' ORDER BY key") { $0.string(0) },
            summary: summary)
    }

    /// A workspace write whose Start is in the first file and whose Success is in the second.
    static func spanningWrite(start: Int, end: Int) -> (String, String) {
        let pair = MergeFixture.madePublic(start).split(separator: "\n").map(String.init)
        return (pair[0], pair[1].replacingOccurrences(of: MergeFixture.time(start), with: MergeFixture.time(end)))
    }

    /// Reads every minute over two files that follow each other in event time, an operation whose
    /// records fall on both sides of the first file's end, and in the second file a first access
    /// by a new identity and a known one from a new range.
    static func input(in dir: TemporaryFolder) throws -> [String] {
        let paths = [dir.path("a.json"), dir.path("b.json")]
        let write = spanningWrite(start: 395, end: 405)
        let intruder = MergeFixture.read(600, tag: "x").replacingOccurrences(of: "reader@", with: "intruder@")
        let moved = MergeFixture.read(700, tag: "x").replacingOccurrences(of: "198.51.100.9", with: "203.0.113.50")
        try MergeFixture.write(MergeFixture.lines(from: 0, to: 400, step: 1, tag: "a", extra: [(395, write.0)]), to: paths[0])
        try MergeFixture.write(MergeFixture.lines(from: 400, to: 800, step: 1, tag: "b",
                                                  extra: [(405, write.1), (600, intruder), (700, moved)]), to: paths[1])
        return paths
    }

    @Test func aReplayResumedAfterASaveLearnsEveryEventOnce() throws {
        let dir = TemporaryFolder(prefix: "vigil-baseline-resume")
        let rules = try Self.rules(in: dir), paths = try Self.input(in: dir)

        let clean = try Self.replay(paths, rules: rules, state: dir.path("clean.db"))
        // First accesses by the reader (the scope's first event), the writer and the intruder; the
        // reader from a new range. Baselines: three identities in two spaces.
        #expect(clean.alerts.count == 4, "\(clean.alerts)")
        #expect(clean.baselines.count == 6)

        _ = try Self.replay(paths, rules: rules, state: dir.path("first.db"), snapshot: dir.path("cut.db"))
        let cutState = try StateDatabase(path: dir.path("cut.db"))
        let cutAlerts = try cutState.connection.query("SELECT id FROM alerts") { $0.string(0) }
        let savedProfiles = try cutState.baselineKeys(namespace: "anomaly.profile")
        try cutState.close()
        #expect(cutAlerts.count == 1, "only the reader's first access comes before the cut: \(cutAlerts)")
        #expect(!savedProfiles.isEmpty, "the cut falls after a baseline save")

        let resumed = try Self.replay(paths, rules: rules, state: dir.path("cut.db"))
        #expect(resumed.alerts == clean.alerts)
        let same = resumed.baselines == clean.baselines
        #expect(same, "records read again were learned twice: \(resumed.counts) against \(clean.counts)")
        #expect(resumed.summary.baselineUpdatesAlreadyLearned > 100, "\(resumed.summary.baselineUpdatesAlreadyLearned)")
    }

    /// With room for two baselines in memory (of six), baselines go back and forth to the store
    /// all the time, the alerting ones wait for a save, and the detector asks for early saves: a
    /// run stopped and resumed still ends as a clean run with the default bound.
    @Test func underATightMemoryBoundAResumedReplayStillEndsAsACleanRun() throws {
        let dir = TemporaryFolder(prefix: "vigil-baseline-bound")
        let rules = try Self.rules(in: dir), paths = try Self.input(in: dir)
        let clean = try Self.replay(paths, rules: rules, state: dir.path("clean.db"))
        let tight = try Self.replay(paths, rules: rules, state: dir.path("tight.db"), maxProfiles: 2)
        #expect(tight.alerts == clean.alerts)
        #expect(tight.baselines == clean.baselines, "\(tight.counts) against \(clean.counts)")
        #expect(tight.summary.evictions[.baselinesWrittenBack] > 0)
        _ = try Self.replay(paths, rules: rules, state: dir.path("first.db"), snapshot: dir.path("cut.db"), maxProfiles: 2)
        let resumed = try Self.replay(paths, rules: rules, state: dir.path("cut.db"), maxProfiles: 2)
        #expect(resumed.alerts == clean.alerts)
        #expect(resumed.baselines == clean.baselines, "\(resumed.counts) against \(clean.counts)")
    }

    /// The end of input releases what detection still holds, and the alerts that raises are
    /// committed after it: the baselines that learned those events are saved in that commit, not
    /// by `finish()` ahead of it (a failure or a kill in between would have kept the baselines and
    /// lost the alerts: the events read again are skipped as learned).
    @Test func theEndOfInputLeavesTheBaselinesToTheCommitOfItsAlerts() throws {
        let dir = TemporaryFolder(prefix: "vigil-baseline-finish")
        let rules = try Self.rules(in: dir), paths = try Self.input(in: dir)
        let setup = try RuleSetup.load(ruleDirectories: [rules], fieldMapPath: PackageRoot.url.path + "/detections/fieldmap.yml", database: nil)
        let database = try StateDatabase(path: dir.path("s.db"))
        defer { try? database.close() }
        let detection = setup.makeDetection(database: database)
        let lines = try paths.flatMap { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n").map(String.init) }
        var alerts = try DetectionStageTests.events(lines).flatMap { detection.process($0) }
        alerts += detection.finish()
        #expect(alerts.count == 4)
        #expect(try database.baselineKeys(namespace: AnomalyDetector.profileNamespace).isEmpty, "saved before the alerts' commit")
        #expect(try database.baselineKeys(namespace: AnomalyDetector.markerNamespace).isEmpty)
        try database.transaction { try detection.saveState() }
        #expect(try database.baselineKeys(namespace: AnomalyDetector.profileNamespace).count == 6)
        #expect(try database.baselineKeys(namespace: AnomalyDetector.markerNamespace).count == 4)
    }

    /// History replayed after a later period (the second file first, then both): the baselines
    /// learn the first file's events, which are older than anything they had learned, and skip
    /// the second's, ending with what one run over both learned (counts, first uses, days, hours).
    /// Stopped after a save and resumed, the backfill still ends there; run again, it learns nothing.
    /// (The write whose Start is in the first file was learned from its Success by the first run,
    /// and is not learned again from its Start: its baselines count it once, at the later time.)
    @Test func historyReplayedAfterALaterPeriodIsLearnedOnce() throws {
        let dir = TemporaryFolder(prefix: "vigil-baseline-backfill")
        let rules = try Self.rules(in: dir), paths = try Self.input(in: dir)
        let clean = try Self.replay(paths, rules: rules, state: dir.path("clean.db"))
        func reader(_ o: Outcome) -> [String] { o.learned.filter { $0.contains("|reader@") } }

        _ = try Self.replay([paths[1]], rules: rules, state: dir.path("later.db"))
        try FileManager.default.copyItem(atPath: dir.path("later.db"), toPath: dir.path("later-copy.db"))
        let backfill = try Self.replay(paths, rules: rules, state: dir.path("later.db"))
        #expect(backfill.counts == clean.counts)
        #expect(reader(backfill) == reader(clean), "the reader's first uses, days and hours, not only counts")
        // Read on from the first file into what the second run had learned: one stretch, from the
        // same first event as the clean run's.
        func since(_ o: Outcome) -> [String] {
            o.baselines.filter { $0.contains("|reader@") }.map { line in
                line.range(of: #""since":[0-9]+"#, options: .regularExpression).map { String(line[$0]) } ?? ""
            }
        }
        #expect(since(backfill) == since(clean) && since(clean).count == 2 && !backfill.baselines.contains { $0.contains(#""earlier""#) })

        _ = try Self.replay(paths, rules: rules, state: dir.path("later-copy.db"), snapshot: dir.path("cut.db"))
        let resumed = try Self.replay(paths, rules: rules, state: dir.path("cut.db"))
        #expect(resumed.counts == clean.counts)
        #expect(reader(resumed) == reader(clean))

        let again = try Self.replay(paths, rules: rules, state: dir.path("later.db"))
        #expect(again.baselines == backfill.baselines)
        #expect(again.summary.baselineUpdatesAlreadyLearned == 2 * 803)
    }

    @Test func aCompleteReplayRunAgainLearnsNothing() throws {
        let dir = TemporaryFolder(prefix: "vigil-baseline-rerun")
        let rules = try Self.rules(in: dir), paths = try Self.input(in: dir)
        let first = try Self.replay(paths, rules: rules, state: dir.path("s.db"))
        #expect(first.summary.baselineUpdatesAlreadyLearned == 0)
        let again = try Self.replay(paths, rules: rules, state: dir.path("s.db"))
        let same = again.baselines == first.baselines
        #expect(same, "\(again.counts) against \(first.counts)")
        #expect(again.alerts == first.alerts)
        // Every record the anomaly rules read (803: the write's Success repeats its Start) is
        // recognised as learned by the baseline of each of the two spaces.
        #expect(again.summary.baselineUpdatesAlreadyLearned == 2 * 803)
        #expect(SummaryRenderer.text(again.summary, incidents: []).contains("Baselines: 1606 event×baseline updates skipped"))
        #expect(SummaryRenderer.json(again.summary).contains(#""baseline_updates_already_learned":1606"#))
    }

    /// Marks are per baseline: a rule added later, in a space of its own, learns the history when
    /// it is replayed again, while the baselines that had learned it skip it.
    @Test func aRuleAddedLaterLearnsTheHistoryReadAgain() throws {
        let dir = TemporaryFolder(prefix: "vigil-baseline-added")
        let paths = try Self.input(in: dir)
        let both = try Self.rules(in: dir), first = try Self.rules(in: dir, only: true)
        let clean = try Self.replay(paths, rules: both, state: dir.path("clean.db"))
        _ = try Self.replay(paths, rules: first, state: dir.path("s.db"))
        let grown = try Self.replay(paths, rules: both, state: dir.path("s.db"))
        let same = grown.baselines == clean.baselines
        #expect(same, "\(grown.counts) against \(clean.counts)")
        #expect(grown.summary.baselineUpdatesAlreadyLearned == 803, "the workspace space's baselines skip; the global one's learn")
        #expect(grown.alerts == clean.alerts)
    }
}
