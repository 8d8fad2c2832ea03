import Detection
import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// The "already learned" bookkeeping (`LearnedMark`) through real replays and `baseline learn`:
/// operations split across blobs, the stretch cap while a run reads, kills under the memory bound,
/// and random sequences of runs compared with one clean run. (First written as probes by a third
/// independent review; the holes they found are fixed.)
@Suite struct ReplayLearningTests {
    typealias R = ReplayBaselineResumeTests

    /// A lifecycle record of operation `correlationId` (a workspace write by the reader) at `minutes`.
    static func lifecycle(_ minutes: Int, correlationId: String, result: String) -> String {
        MergeFixture.read(minutes, tag: "op").replacingOccurrences(of: "r-op-\(minutes)", with: correlationId)
            .replacingOccurrences(of: "WORKSPACES/READ", with: "WORKSPACES/WRITE")
            .replacingOccurrences(of: #""resultType": "Success""#, with: #""resultType": "\#(result)""#)
    }

    /// `files` replayed in one run, and one run per file in the order given, into another state.
    static func oneRunAndOnePerFile(_ files: [String], rules: String, in dir: TemporaryFolder) throws -> (clean: R.Outcome, split: R.Outcome) {
        let clean = try R.replay(files, rules: rules, state: dir.path("clean.db"))
        var split = clean
        for f in files { split = try R.replay([f], rules: rules, state: dir.path("split.db")) }
        return (clean, split)
    }

    /// The reader's event count per baseline (`Outcome.counts`).
    static func readerCounts(_ o: R.Outcome) -> [String] { o.counts.filter { $0.contains("reader@") } }

    /// Hourly blobs replayed one per run, as they come: an operation whose Start (09:40) is in the
    /// 09:00 blob and whose Success (09:50, ten minutes later: the same operation for
    /// `OperationOnce`) was written into the 10:00 blob. The first run learns the operation at
    /// 09:40 and reads on to 09:59, so its floor (09:44) passes the key; the second run meets the
    /// Success first, at or after the floor, where only listed ids count: the key is still listed
    /// (in the window below the floor, `older`), so the operation is not learned again.
    @Test func anOperationWhoseLaterRecordIsInTheNextBlobIsLearnedOnce() throws {
        let dir = TemporaryFolder(prefix: "vigil-r3-blob-op")
        let rules = try R.rules(in: dir)
        let h09 = dir.path("h09.json"), h10 = dir.path("h10.json")
        try MergeFixture.write(MergeFixture.lines(from: 540, to: 600, step: 1, tag: "a",
                                                  extra: [(580, Self.lifecycle(580, correlationId: "long", result: "Start"))]), to: h09)
        try MergeFixture.write(MergeFixture.lines(from: 600, to: 660, step: 1, tag: "b",
                                                  extra: [(590, Self.lifecycle(590, correlationId: "long", result: "Success"))]), to: h10)
        let (clean, split) = try Self.oneRunAndOnePerFile([h09, h10], rules: rules, in: dir)
        #expect(Self.readerCounts(split) == Self.readerCounts(clean), "blob by blob: \(Self.readerCounts(split)) vs one run: \(Self.readerCounts(clean))")
        // And the full replay afterwards changes nothing.
        let again = try R.replay([h09, h10], rules: rules, state: dir.path("split.db"))
        #expect(Self.readerCounts(again) == Self.readerCounts(clean))
    }
}

/// Random sequences of replays over hourly files (contiguous ranges of them, in shuffled argument
/// order, some stopped at a save and resumed or left), then one full replay: the baselines must
/// end as one clean replay's (what was learned; marks aside).
@Suite struct ReplaySequenceTests {
    typealias R = ReplayBaselineResumeTests

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let callers = ["reader@contoso.example", "writer@contoso.example", "ops@contoso.example"]
    static let ips = ["198.51.100.9", "198.51.100.77", "203.0.113.5", "192.0.2.44"]
    static let operations = ["WORKSPACES/READ", "WORKSPACES/WRITE", "WORKSPACES/LISTKEYS/ACTION", "COMPUTES/READ"]

    /// One lifecycle record at `minutes` (after 2026-11-21 00:00) with seconds `second`.
    static func record(_ minutes: Int, second: Int, caller: String, ip: String, operation: String, correlationId: String, result: String) -> String {
        let time = MergeFixture.time(minutes).replacingOccurrences(of: ":00.0000000Z", with: String(format: ":%02d.0000000Z", second))
        return #"{"time": "\#(time)", "resourceId": "\#(MergeFixture.workspace)", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/\#(operation)", "category": "Administrative", "resultType": "\#(result)", "resultSignature": "x", "durationMs": 0, "callerIpAddress": "\#(ip)", "correlationId": "\#(correlationId)", "#
            + #""identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "\#(caller)"}}, "level": "Information", "properties": {}}"#
    }

    /// `files` hourly files from 08:00; each with about `perFile` records: single-record operations
    /// and Start/Success pairs a few minutes apart inside the file (`straddling`: some pairs cross
    /// into the next file).
    static func input(in dir: TemporaryFolder, seed: UInt64, files: Int = 8, perFile: Int = 30, straddling: Bool = false) throws -> [String] {
        var rng = Rng(state: seed)
        var contents: [[(Int, String)]] = Array(repeating: [], count: files)
        var n = 0
        for f in 0..<files {
            let base = (8 + f) * 60
            for _ in 0..<perFile {
                n += 1
                let minute = base + rng.int(60), second = rng.int(60)
                let caller = callers[rng.int(callers.count)], ip = ips[rng.int(ips.count) < 3 ? 0 : rng.int(ips.count)]
                let op = operations[rng.int(operations.count)]
                if rng.int(4) == 0 {
                    let later = minute + 1 + rng.int(8)
                    let target = later / 60 - 8
                    guard target < files, straddling || target == f else { continue }
                    contents[f].append((minute * 60 + second, record(minute, second: second, caller: caller, ip: ip, operation: op, correlationId: "op-\(n)", result: "Start")))
                    contents[target].append((later * 60 + second, record(later, second: second, caller: caller, ip: ip, operation: op, correlationId: "op-\(n)", result: "Success")))
                } else {
                    contents[f].append((minute * 60 + second, record(minute, second: second, caller: caller, ip: ip, operation: op, correlationId: "c-\(n)", result: "Success")))
                }
            }
        }
        var paths: [String] = []
        for f in 0..<files {
            let path = dir.path(String(format: "h%02d.json", 8 + f))
            try MergeFixture.write(contents[f].sorted { $0.0 < $1.0 }.map(\.1).joined(separator: "\n") + "\n", to: path)
            paths.append(path)
        }
        return paths
    }

    /// Replays `paths`; with `stopAfter`, the state is left as a kill right after that many files
    /// were finished leaves it (the run goes on in a throw-away copy).
    static func replay(_ paths: [String], rules: String, state: String, stopAfter: Int? = nil, maxProfiles: Int? = nil) throws -> R.Outcome {
        guard let stopAfter else { return try R.replay(paths, rules: rules, state: state, maxProfiles: maxProfiles) }
        let scratch = state + ".run"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.copyItem(atPath: state, toPath: scratch)
        let database = try StateDatabase(path: scratch)
        let pipeline = try R.pipeline(paths, rules: rules, database: database, maxProfiles: maxProfiles)
        let cut = state + ".cut"
        try? FileManager.default.removeItem(atPath: cut)
        var copied = false
        _ = try pipeline.run { progress in
            guard !copied, progress.filesDone >= stopAfter else { return }
            copied = true
            try? database.connection.execute("VACUUM INTO '\(cut)'")
        }
        try database.close()
        if copied {
            try FileManager.default.removeItem(atPath: state)
            try FileManager.default.moveItem(atPath: cut, toPath: state)
        }
        return try R.replay([], rules: rules, state: state)
    }

    static func ensureState(_ path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { try StateDatabase(path: path).close() }
    }

    /// What differs between two outcomes' baselines (marks aside).
    static func differences(_ a: R.Outcome, _ b: R.Outcome, scopes: ([String], [String]) = ([], [])) -> [String] {
        let x = Set(a.learned + scopes.0), y = Set(b.learned + scopes.1)
        return x.symmetricDifference(y).sorted().map { (x.contains($0) ? "got " : "want ") + $0 }
    }

    static func scopeRecords(_ path: String) throws -> [String] {
        let db = try StateDatabase(path: path)
        defer { try? db.close() }
        return try db.connection.query("SELECT key || ' ' || CAST(value AS TEXT) FROM baselines WHERE namespace = 'anomaly.scope' ORDER BY key") { $0.string(0) }
    }

    /// `vigil baseline learn` over `paths`.
    static func learn(_ paths: [String], rules: String, state: String) throws {
        let detections = PackageRoot.url.appendingPathComponent("detections")
        let setup = try RuleSetup.load(ruleDirectories: [rules], fieldMapPath: detections.path + "/fieldmap.yml", database: nil)
        let database = try StateDatabase(path: state)
        defer { try? database.close() }
        let detector = AnomalyDetector(rules: setup.anomalyRules, store: database, configuration: .init(latenessSeconds: 900), mode: .learnOnly)
        _ = try BaselineLearning.run(paths: paths, detector: detector, latenessSeconds: 900, onDiagnostic: { _ in })
    }

    static func scenario(seed: UInt64, dir: TemporaryFolder, paths: [String], rules: String, clean: R.Outcome, cleanState: String,
                         maxProfiles: Int?, inOrder: Bool, learning: Bool = false, countsOnly: Bool = false) throws -> (String, [String], Bool) {
        var rng = Rng(state: seed &* 7919)
        let state = dir.path("s\(seed).db")
        try ensureState(state)
        var log: [String] = []
        var start = 0
        for _ in 0..<(2 + rng.int(3)) {
            var a = rng.int(paths.count), b = a + rng.int(paths.count - a)
            if inOrder {
                guard start < paths.count else { break }
                a = start; b = min(paths.count - 1, start + rng.int(3))
            }
            var chosen = Array(paths[a...b])
            for i in stride(from: chosen.count - 1, to: 0, by: -1) { chosen.swapAt(i, rng.int(i + 1)) }
            let stop: Int? = rng.int(3) == 0 && chosen.count > 1 ? 1 + rng.int(chosen.count - 1) : nil
            if learning && rng.int(3) == 0 {
                try learn(chosen, rules: rules, state: state)
                log.append("learn [\(a)...\(b)]")
                continue
            }
            _ = try replay(chosen, rules: rules, state: state, stopAfter: stop, maxProfiles: maxProfiles)
            log.append("[\(a)...\(b)]" + (stop.map { " stopped after \($0) files" } ?? ""))
            if stop != nil && rng.int(2) == 0 {
                _ = try replay(chosen, rules: rules, state: state, maxProfiles: maxProfiles)
                log.append("[\(a)...\(b)] again")
            }
            if inOrder { start = stop != nil ? a : b + 1 }
        }
        let final = try replay(paths, rules: rules, state: state, maxProfiles: maxProfiles)
        log.append("all")
        let diff = countsOnly ? Set(final.counts).symmetricDifference(clean.counts).sorted()
            : differences(final, clean, scopes: (try scopeRecords(state), try scopeRecords(cleanState)))
        let alertsSame = final.alerts == clean.alerts
        if !alertsSame { log.append("alerts got-want: \(Set(final.alerts).subtracting(clean.alerts).sorted()) want-got: \(Set(clean.alerts).subtracting(final.alerts).sorted())") }
        return (log.joined(separator: ", "), diff, alertsSame)
    }

    /// Runs `scenario` (seed, folder, input files, clean run over them) for `seeds` on each of three
    /// generated inputs; returns what every failing scenario said.
    static func failures(seeds: ClosedRange<UInt64>, straddling: Bool = false,
                         _ scenario: (UInt64, TemporaryFolder, [String], String, R.Outcome) throws -> [String]) throws -> [String] {
        let dir = TemporaryFolder(prefix: "vigil-seq")
        let rules = try R.rules(in: dir)
        var failures: [String] = []
        for inputSeed in UInt64(1)...3 {
            let sub = TemporaryFolder(prefix: "vigil-seq-in")
            let paths = try Self.input(in: sub, seed: inputSeed, straddling: straddling)
            let clean = try R.replay(paths, rules: rules, state: sub.path("clean.db"))
            for seed in seeds {
                failures += try scenario(seed, sub, paths, rules, clean).map { "input \(inputSeed) seed \(seed): \($0)" }
            }
        }
        return failures
    }

    /// Contiguous ranges of whole files, any order, stops: the final full replay ends as a clean run.
    @Test(arguments: [false, true]) func rangesOfFilesInAnyOrderEndAsACleanRun(tight: Bool) throws {
        let failures = try Self.failures(seeds: 1...12) { seed, sub, paths, rules, clean in
            let (log, diff, _) = try Self.scenario(seed: seed, dir: sub, paths: paths, rules: rules, clean: clean, cleanState: sub.path("clean.db"),
                                                   maxProfiles: tight ? 2 : nil, inOrder: false, learning: true)
            return diff.isEmpty ? [] : ["\(log)\n  " + diff.joined(separator: "\n  ")]
        }
        #expect(failures.isEmpty, "\(failures.count) scenarios differ:\n\(failures.prefix(4).joined(separator: "\n"))")
    }

    /// As above, with operations whose Success falls in the next file: the same counts. (An
    /// operation read in pieces is learned from the record met first, so its hour and first use
    /// may be the Success's where a clean run has the Start's.)
    @Test func rangesOfFilesWithOperationsAcrossFilesCountAsACleanRun() throws {
        let failures = try Self.failures(seeds: 1...12, straddling: true) { seed, sub, paths, rules, clean in
            let (log, diff, _) = try Self.scenario(seed: seed, dir: sub, paths: paths, rules: rules, clean: clean, cleanState: sub.path("clean.db"),
                                                   maxProfiles: nil, inOrder: false, countsOnly: true)
            return diff.isEmpty ? [] : ["\(log)\n  " + diff.joined(separator: "\n  ")]
        }
        #expect(failures.isEmpty, "\(failures.count) scenarios differ:\n\(failures.prefix(2).joined(separator: "\n"))")
    }

    /// Runs that follow each other in time (each from where the last stopped): also the same alerts.
    @Test func runsInTimeOrderEndWithTheAlertsOfACleanRun() throws {
        let failures = try Self.failures(seeds: 1...8) { seed, sub, paths, rules, clean in
            let (log, diff, alertsSame) = try Self.scenario(seed: seed, dir: sub, paths: paths, rules: rules, clean: clean,
                                                            cleanState: sub.path("clean.db"), maxProfiles: nil, inOrder: true)
            return diff.isEmpty && alertsSame ? [] : ["\(log) alerts same: \(alertsSame)\n  " + diff.joined(separator: "\n  ")]
        }
        #expect(failures.isEmpty, "\(failures.count) scenarios differ:\n\(failures.prefix(4).joined(separator: "\n"))")
    }
}

extension ReplayLearningTests {
    /// The fixture's replay under a tight memory bound, stopped after a save and run again: the
    /// scope records (`anomaly.scope`: first and last seen, identities) must end as a clean run's
    /// too. A new identity's baseline written back at the bound is durable at once, before the
    /// scope record that counted it; the scope's identities are therefore counted from the stored
    /// profiles whenever it is written.
    @Test func aResumedTightReplayCountsTheScopesIdentitiesOnce() throws {
        let dir = TemporaryFolder(prefix: "vigil-r3-scope")
        // The fixture's rules with a learning period: no alert, so no early save either.
        let rules = try R.rules(in: dir)
        for file in try FileManager.default.contentsOfDirectory(atPath: rules) {
            let path = rules + "/" + file
            try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "learning_days: 0", with: "learning_days: 30")
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        // A new identity early in the first file, which ends before the first regular save (100 events).
        let paths = [dir.path("a.json"), dir.path("b.json")]
        let intruder = MergeFixture.read(30, tag: "x").replacingOccurrences(of: "reader@", with: "intruder@")
        try MergeFixture.write(MergeFixture.lines(from: 0, to: 60, step: 1, tag: "a", extra: [(30, intruder)]), to: paths[0])
        try MergeFixture.write(MergeFixture.lines(from: 60, to: 200, step: 1, tag: "b"), to: paths[1])
        _ = try R.replay(paths, rules: rules, state: dir.path("clean.db"))
        _ = try R.replay(paths, rules: rules, state: dir.path("first.db"), snapshot: dir.path("cut.db"), maxProfiles: 2)
        _ = try R.replay(paths, rules: rules, state: dir.path("cut.db"), maxProfiles: 2)
        let clean = try ReplaySequenceTests.scopeRecords(dir.path("clean.db"))
        let resumed = try ReplaySequenceTests.scopeRecords(dir.path("cut.db"))
        #expect(resumed == clean)
        #expect(try ReplaySequenceTests.differences(R.replay([], rules: rules, state: dir.path("cut.db")),
                                                     R.replay([], rules: rules, state: dir.path("clean.db"))).isEmpty)
    }
}

extension ReplayLearningTests {
    /// Two exports overlapping in time, read in separate runs, the later one first: B holds the
    /// reader's reads from 09:30 and the Success (09:50) of an operation whose Start (09:40) is in
    /// A. The first run learns the operation at 09:50, past the head window of its stretch
    /// (09:30-09:45); the head lists a second window too, so the Start, read later with A inside
    /// the first, where events are told by id, finds the operation's key: learned once.
    @Test func anOperationStraddlingTheHeadWindowIsLearnedOnce() throws {
        let dir = TemporaryFolder(prefix: "vigil-r3-head-op")
        let rules = try R.rules(in: dir)
        let a = dir.path("a.json"), b = dir.path("b.json")
        try MergeFixture.write(MergeFixture.lines(from: 540, to: 586, step: 2, tag: "a",
                                                  extra: [(580, Self.lifecycle(580, correlationId: "long", result: "Start"))]), to: a)
        try MergeFixture.write(MergeFixture.lines(from: 571, to: 700, step: 2, tag: "b",
                                                  extra: [(590, Self.lifecycle(590, correlationId: "long", result: "Success"))]), to: b)
        let (clean, split) = try Self.oneRunAndOnePerFile([b, a], rules: rules, in: dir)
        #expect(Self.readerCounts(split) == Self.readerCounts(clean), "B then A: \(Self.readerCounts(split)) vs one run: \(Self.readerCounts(clean))")
    }
}

extension ReplaySequenceTests {
    /// Rewrites every stored mark in the old form (`floor` and `recent` only, as `learned`: no source).
    static func oldMarks(_ path: String) throws {
        let db = try StateDatabase(path: path)
        defer { try? db.close() }
        for key in try db.baselineKeys(namespace: AnomalyDetector.profileNamespace) {
            guard let bytes = try db.baselineValue(namespace: AnomalyDetector.profileNamespace, key: key),
                  var object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                  let marks = object["learnedBySource"] as? [[String: Any]], var mark = marks.first else { continue }
            for k in ["since", "head", "headUntil", "earlier", "source"] { mark[k] = nil }
            object["learned"] = mark
            object["learnedBySource"] = nil
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            try db.setBaselineValue(Array(data), namespace: AnomalyDetector.profileNamespace, key: key)
        }
    }

    /// Baselines stored with old-form marks, then later hours, then earlier and skipped ones, then
    /// everything: the end is a clean run's.
    @Test func oldFormMarksMixedWithNewOnesEndAsACleanRun() throws {
        let dir = TemporaryFolder(prefix: "vigil-r3-old")
        let rules = try R.rules(in: dir)
        var failures: [String] = []
        for inputSeed in UInt64(1)...3 {
            let paths = try Self.input(in: dir, seed: inputSeed)
            let clean = try R.replay(paths, rules: rules, state: dir.path("clean\(inputSeed).db"))
            let plans: [[ClosedRange<Int>]] = [[2...3, 5...6, 0...1, 4...4], [0...2, 4...5, 3...3], [3...4, 0...0, 6...7, 1...2]]
            for (p, plan) in plans.enumerated() {
                let state = dir.path("old\(inputSeed)-\(p).db")
                try Self.ensureState(state)
                for (k, range) in plan.enumerated() {
                    _ = try R.replay(Array(paths[range]), rules: rules, state: state)
                    if k == 0 { try Self.oldMarks(state) }
                }
                let final = try R.replay(paths, rules: rules, state: state)
                let diff = Self.differences(final, clean, scopes: (try Self.scopeRecords(state), try Self.scopeRecords(dir.path("clean\(inputSeed).db"))))
                if !diff.isEmpty { failures.append("input \(inputSeed) plan \(plan):\n  " + diff.joined(separator: "\n  ")) }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) differ:\n\(failures.prefix(2).joined(separator: "\n"))")
    }
}

extension ReplayLearningTests {
    /// Nine hours replayed one per run, every other hour (09:00, 11:00, … 01:00): the reader's
    /// baselines keep the newest as `since` and eight `earlier` stretches, the cap. Then every
    /// hour is replayed in one run, under a tight memory bound, so the baselines are written back
    /// while the run is inside the first skipped hour: this run's stretch of learning there is a
    /// ninth. The cap must not join it with the hour after it (the closest pair): the run has not
    /// read the rest of the skipped hour yet, which would then be skipped as learned. It keeps a
    /// stretch more instead, joined once the run has read through the gap.
    @Test func theStretchCapDoesNotSwallowTheGapARunIsReadingThrough() throws {
        let dir = TemporaryFolder(prefix: "vigil-r3-cap")
        let rules = try R.rules(in: dir)
        var paths: [String] = []
        for h in 0..<18 {
            let path = dir.path(String(format: "h%02d.json", h))
            try MergeFixture.write(MergeFixture.lines(from: 480 + h * 60, to: 540 + h * 60, step: 2, tag: "h\(h)"), to: path)
            paths.append(path)
        }
        let clean = try R.replay(paths, rules: rules, state: dir.path("clean.db"))
        for h in stride(from: 1, to: 18, by: 2) { _ = try R.replay([paths[h]], rules: rules, state: dir.path("s.db")) }
        let pieces = try R.replay([], rules: rules, state: dir.path("s.db"))
        #expect(pieces.baselines.allSatisfy { !$0.contains("reader@") || $0.components(separatedBy: #""first":"#).count == 9 },
                "eight earlier stretches")
        let tight = try R.replay(paths, rules: rules, state: dir.path("s.db"), maxProfiles: 1)
        #expect(Self.readerCounts(tight) == Self.readerCounts(clean), "\(Self.readerCounts(tight)) vs \(Self.readerCounts(clean))")
    }

    /// The same with the default memory bound, stopped right after a save inside the first
    /// skipped hour and run again: the resumed run still learns the rest of that hour.
    @Test func aStopInsideTheGapARunIsReadingThroughLosesNothingAtTheStretchCap() throws {
        let dir = TemporaryFolder(prefix: "vigil-r3-cap-stop")
        let rules = try R.rules(in: dir)
        /// Reads each minute by the reader and three others (a save comes every 100 events).
        func busy(_ from: Int, _ to: Int) -> String {
            (from..<to).flatMap { m in
                [MergeFixture.read(m, tag: "h0")] + (1...3).map { k in
                    MergeFixture.read(m, tag: "h0-\(k)").replacingOccurrences(of: "reader@", with: "other\(k)@")
                }
            }.joined(separator: "\n") + "\n"
        }
        var paths = [dir.path("h00a.json"), dir.path("h00b.json")]
        try MergeFixture.write(busy(480, 510), to: paths[0])
        try MergeFixture.write(busy(510, 540), to: paths[1])
        for h in 1..<18 {
            let path = dir.path(String(format: "h%02d.json", h))
            try MergeFixture.write(MergeFixture.lines(from: 480 + h * 60, to: 540 + h * 60, step: 1, tag: "h\(h)"), to: path)
            paths.append(path)
        }
        let clean = try R.replay(paths, rules: rules, state: dir.path("clean.db"))
        for h in stride(from: 2, to: 19, by: 2) { _ = try R.replay([paths[h]], rules: rules, state: dir.path("s.db")) }
        _ = try R.replay(paths, rules: rules, state: dir.path("s.db"), snapshot: dir.path("cut.db"))
        let resumed = try R.replay(paths, rules: rules, state: dir.path("cut.db"))
        #expect(Self.readerCounts(resumed) == Self.readerCounts(clean), "\(Self.readerCounts(resumed)) vs \(Self.readerCounts(clean))")
        // Without the stop, the same runs end as the clean one.
        #expect(Self.readerCounts(try R.replay([], rules: rules, state: dir.path("s.db"))) == Self.readerCounts(clean))
    }
}
