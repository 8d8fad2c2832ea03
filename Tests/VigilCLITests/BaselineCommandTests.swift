import Foundation
import TestSupport
import Testing

/// `vigil baseline learn` then `vigil baseline show`, through the built binary: Activity Log
/// lifecycles (Start + Success sharing a correlationId) are learned once per operation and kept
/// in the state database.
@Suite struct BaselineCommandTests {
    static let workspace = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"

    /// One record of an operation's lifecycle, as an Activity Log export writes it.
    static func record(day: Int, corr: String, result: String, second: Int = 0, minute: Int = 0, caller: String, ip: String) -> String {
        let time = String(format: "2025-03-%02dT10:%02d:%02d.0000000Z", 3 + day, minute, second)
        return """
        {"time":"\(time)","resourceId":"\(workspace)","operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/LISTKEYS/ACTION",\
        "category":"Administrative","resultType":"\(result)","resultSignature":"\(result).","correlationId":"\(corr)",\
        "callerIpAddress":"\(ip)","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)"}},\
        "level":"Information","properties":{"eventCategory":"Administrative"}}
        """
    }

    /// `baseline learn` over `input` into a state database in `dir`, then `baseline show` of
    /// `identity`: learn's result and that identity's profiles.
    static func learnThenShow(_ input: String, identity: String, in dir: URL, options: [String] = []) throws
        -> (learn: VigilBinary.Result, profiles: [[String: Any]]) {
        let state = dir.appendingPathComponent("state.db").path
        let rules = PackageRoot.url.appendingPathComponent("detections/anomaly").path
        let learn = try VigilBinary.run(["baseline", "learn", "--state", state, "--rules", rules] + options + [input])
        let show = try VigilBinary.run(["baseline", "show", "--state", state, "--identity", identity, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        return (learn, show.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
    }

    static func workspaceProfile(_ profiles: [[String: Any]]) -> [String: Any]? {
        profiles.first { ($0["scope"] as? String)?.hasSuffix("/workspaces/mlw-prod") == true }
    }

    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func learnTakesEachOperationOnceAndShowReadsItBack() throws {
        let folder = TemporaryFolder(prefix: "vigil-baseline"), dir = folder.url
        defer { withExtendedLifetime(folder) {} }   // removed with it, at the end
        // Three days of listKeys by alice (Start + Success each), one lone Success by bob.
        var lines: [String] = []
        for day in 0..<3 {
            let corr = "c0ffee00-0000-4000-8000-00000000000\(day)"
            lines.append(Self.record(day: day, corr: corr, result: "Start", caller: "alice@contoso.example", ip: "203.0.113.10"))
            lines.append(Self.record(day: day, corr: corr, result: "Success", second: 3, caller: "alice@contoso.example", ip: "203.0.113.10"))
            if day == 1 {
                lines.append(Self.record(day: 1, corr: "c0ffee00-0000-4000-8000-0000000000b0", result: "Success", second: 5,
                                         caller: "bob@contoso.example", ip: "198.51.100.7"))
            }
        }
        let input = dir.appendingPathComponent("history.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)

        let (learn, profiles) = try Self.learnThenShow(input.path, identity: "alice", in: dir)
        #expect(learn.status == 0, "\(learn.stderr)")
        // 7 records, 4 operations: alice's three lifecycles and bob's lone Success.
        #expect(learn.stdout.contains("0 late, 0 unreadable, 4 operations)"), "\(learn.stdout)")
        #expect(!profiles.isEmpty)
        #expect(profiles.allSatisfy { ($0["subject"] as? String) == "alice@contoso.example" }, "\(profiles)")
        #expect(profiles.allSatisfy { $0["learned"] == nil }, "show leaves the mark of learned ids out")
        // The workspace baseline counts three active days from three operations (not six records).
        let workspace = try #require(Self.workspaceProfile(profiles), "\(profiles)")
        #expect((workspace["activeDays"] as? [Any])?.count == 3, "\(workspace)")
        #expect((workspace["events"] as? Int) == 3, "\(workspace)")

        // The same history learned again changes nothing: every operation was learned already.
        let (again, profilesAgain) = try Self.learnThenShow(input.path, identity: "alice", in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("learned from 0 event×baseline updates"), "\(again.stdout)")
        #expect(again.stdout.contains("event×baseline updates skipped"), "\(again.stdout)")
        #expect((Self.workspaceProfile(profilesAgain)?["events"] as? Int) == 3, "\(profilesAgain)")
    }

    /// `--rules` may name the whole pack: its anomaly rules are found in their subfolder; a folder
    /// without any is refused (learning would learn nothing).
    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func learnFindsTheAnomalyRulesOfAPackAndRefusesAFolderWithout() throws {
        let folder = TemporaryFolder(prefix: "vigil-baseline"), dir = folder.url
        defer { withExtendedLifetime(folder) {} }
        let input = dir.appendingPathComponent("history.jsonl")
        try (Self.record(day: 0, corr: "c0ffee00-0000-4000-8000-0000000000c1", result: "Success", caller: "alice@contoso.example",
                         ip: "203.0.113.10") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let state = dir.appendingPathComponent("state.db").path
        let pack = PackageRoot.url.appendingPathComponent("detections").path
        let learn = try VigilBinary.run(["baseline", "learn", "--state", state, "--rules", pack, input.path])
        #expect(learn.status == 0, "\(learn.stderr)")
        #expect(!learn.stdout.contains("learned from 0 event×baseline updates"), "\(learn.stdout)")
        let none = try VigilBinary.run(["baseline", "learn", "--state", state, "--rules",
                                        PackageRoot.url.appendingPathComponent("detections/network").path, input.path])
        #expect(none.status != 0)
        #expect(none.stderr.contains("no anomaly rules under"), "\(none.stderr)")
    }

    /// Priming after the fact: baselines a later period started (a live run, say) still learn the
    /// history older than what they learned when it is read afterwards, once; the period they
    /// learned is skipped, and the whole read again changes nothing.
    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func historyOlderThanWhatWasLearnedIsLearnedOnce() throws {
        let folder = TemporaryFolder(prefix: "vigil-baseline"), dir = folder.url
        defer { withExtendedLifetime(folder) {} }   // removed with it, at the end
        func days(_ range: Range<Int>) -> String {
            range.map { Self.record(day: $0, corr: "c0ffee00-0000-4000-8000-0000000000a\($0)", result: "Success",
                                    caller: "alice@contoso.example", ip: "203.0.113.10") }.joined(separator: "\n") + "\n"
        }
        let recent = dir.appendingPathComponent("recent.jsonl"), history = dir.appendingPathComponent("history.jsonl")
        try days(4..<7).write(to: recent, atomically: true, encoding: .utf8)
        try days(0..<7).write(to: history, atomically: true, encoding: .utf8)

        let (first, _) = try Self.learnThenShow(recent.path, identity: "alice", in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        // The older days are new to the baseline; the three it learned are skipped.
        let (primed, profiles) = try Self.learnThenShow(history.path, identity: "alice", in: dir)
        #expect(primed.status == 0, "\(primed.stderr)")
        let workspace = try #require(Self.workspaceProfile(profiles), "\(profiles)")
        #expect((workspace["events"] as? Int) == 7 && (workspace["activeDays"] as? [Any])?.count == 7, "\(workspace)")
        #expect(workspace["firstSeen"] as? Int == 1_740_996_000, "\(workspace)")   // 2025-03-03T10:00:00Z, day 0
        #expect(primed.stdout.contains("event×baseline updates skipped"), "\(primed.stdout)")

        let (again, profilesAgain) = try Self.learnThenShow(history.path, identity: "alice", in: dir)
        #expect(again.stdout.contains("learned from 0 event×baseline updates"), "\(again.stdout)")
        #expect((Self.workspaceProfile(profilesAgain)?["events"] as? Int) == 7, "\(profilesAgain)")
    }

    /// One AML data-plane read, as the `AmlDataStoreEvent` diagnostic export writes it (a storage
    /// container of its own, apart from the Activity Log's).
    static func dataStoreRead(day: Int, minute: Int, caller: String, ip: String) -> String {
        let time = String(format: "2025-03-%02dT11:%02d:00.0000000Z", 3 + day, minute)
        return """
        {"time":"\(time)","resourceId":"\(workspace.uppercased())","category":"AmlDataStoreEvent",\
        "operationName":"Microsoft.MachineLearningServices/workspaces/datastores/read","resultType":"Succeeded",\
        "callerIpAddress":"\(ip)","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)"}},\
        "properties":{"AmlDatastoreName":"ds\(day)"}}
        """
    }

    /// The Activity Log export learned, then the data-plane export of the same days by another
    /// `baseline learn`: each stream keeps its own mark, so the second is learned too (with one
    /// mark per baseline it was skipped as learned), and neither is learned twice.
    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func anotherExportOfTheSameDaysIsLearnedByALaterRun() throws {
        let folder = TemporaryFolder(prefix: "vigil-baseline"), dir = folder.url
        defer { withExtendedLifetime(folder) {} }   // removed with it, at the end
        let activity = dir.appendingPathComponent("activity.jsonl"), reads = dir.appendingPathComponent("datastore.jsonl")
        try ((0..<6).map { Self.record(day: $0, corr: "c0ffee00-0000-4000-8000-0000000000a\($0)", result: "Success",
                                       caller: "alice@contoso.example", ip: "203.0.113.10") }.joined(separator: "\n") + "\n")
            .write(to: activity, atomically: true, encoding: .utf8)
        try ((0..<6).flatMap { d in [5, 40].map { Self.dataStoreRead(day: d, minute: $0, caller: "alice@contoso.example", ip: "203.0.113.10") } }
            .joined(separator: "\n") + "\n").write(to: reads, atomically: true, encoding: .utf8)

        let both = dir.appendingPathComponent("both")
        try FileManager.default.createDirectory(at: both, withIntermediateDirectories: true)
        let (_, clean) = try Self.learnThenShow(activity.path, identity: "alice", in: both, options: [reads.path])
        let cleanWorkspace = try #require(Self.workspaceProfile(clean), "\(clean)")
        #expect(cleanWorkspace["events"] as? Int == 18, "\(cleanWorkspace)")

        _ = try Self.learnThenShow(activity.path, identity: "alice", in: dir)
        let (second, profiles) = try Self.learnThenShow(reads.path, identity: "alice", in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stdout.contains("event×baseline updates skipped"), "\(second.stdout)")
        let workspace = try #require(Self.workspaceProfile(profiles), "\(profiles)")
        #expect(NSDictionary(dictionary: workspace) == NSDictionary(dictionary: cleanWorkspace), "\(workspace) vs \(cleanWorkspace)")

        // `baseline show` says what each source's mark speaks for.
        let table = try VigilBinary.run(["baseline", "show", "--state", dir.appendingPathComponent("state.db").path, "--identity", "alice",
                                         "--workspace", "mlw-prod"])
        #expect(table.stdout.contains("learned from: activity@11111111-2222-3333-4444-555555555555 2025-03-03T10:00:00Z … 2025-03-08T10:00:00Z"), "\(table.stdout)")
        #expect(table.stdout.contains("resourceLog/amldatastoreevent@11111111-2222-3333-4444-555555555555 2025-03-03T11:05:00Z … 2025-03-08T11:40:00Z"), "\(table.stdout)")

        let (again, profilesAgain) = try Self.learnThenShow(reads.path, identity: "alice", in: dir, options: [activity.path])
        #expect(again.stdout.contains("learned from 0 event×baseline updates"), "\(again.stdout)")
        #expect((Self.workspaceProfile(profilesAgain)?["events"] as? Int) == 18, "\(profilesAgain)")
    }

    /// An operation whose Success follows its Start by 20 minutes, past the 15-minute lateness:
    /// with `--operation-timeout` as long as `vigil run` has it, it is one operation, learned once
    /// (its key remembered that long), also when the history is learned again; without, two.
    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func operationTimeoutKeepsASlowOperationOne() throws {
        let folder = TemporaryFolder(prefix: "vigil-baseline"), dir = folder.url
        defer { withExtendedLifetime(folder) {} }   // removed with it, at the end
        let corr = "c0ffee00-0000-4000-8000-0000000000c1"
        let lines = [Self.record(day: 0, corr: corr, result: "Start", caller: "alice@contoso.example", ip: "203.0.113.10"),
                     Self.record(day: 0, corr: corr, result: "Success", minute: 20, caller: "alice@contoso.example", ip: "203.0.113.10")]
        let input = dir.appendingPathComponent("slow.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        for (options, events) in [([String](), 2), (["--operation-timeout", "1800"], 1)] {
            let sub = dir.appendingPathComponent(options.isEmpty ? "default" : "timeout")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            let (learn, profiles) = try Self.learnThenShow(input.path, identity: "alice", in: sub, options: options)
            #expect(learn.status == 0, "\(learn.stderr)")
            #expect((Self.workspaceProfile(profiles)?["events"] as? Int) == events, "\(options): \(profiles)")
            let (_, again) = try Self.learnThenShow(input.path, identity: "alice", in: sub, options: options)
            #expect((Self.workspaceProfile(again)?["events"] as? Int) == events, "read again, \(options)")
        }
    }

    /// `baseline learn` refuses to start while another process holds the state database's
    /// baselines (`vigil run`, `tail`, `replay`: here `flock -s` on the lock file stands for one),
    /// and `replay` refuses while `baseline learn` holds them (`flock -x`); each says why, exit 2.
    @Test(.enabled(if: VigilBinary.exists && FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"),
                   "needs the vigil binary and flock(1)"))
    func learnAndReplayDoNotWriteBaselinesAtTheSameTime() throws {
        let folder = TemporaryFolder(prefix: "vigil-baseline"), dir = folder.url
        defer { withExtendedLifetime(folder) {} }   // removed with it, at the end
        let state = dir.appendingPathComponent("state.db").path, lock = state + ".baselines.lock"
        let input = dir.appendingPathComponent("history.jsonl")
        try (Self.record(day: 0, corr: "c0ffee00-0000-4000-8000-0000000000d1", result: "Success", caller: "alice@contoso.example",
                         ip: "203.0.113.10") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let rules = PackageRoot.url.appendingPathComponent("detections/anomaly").path
        let learn = ["baseline", "learn", "--state", state, "--rules", rules, input.path]

        let refused = try VigilBinary.run(learn, under: ["/usr/bin/flock", "-s", lock])
        #expect(refused.status == 2 && refused.stderr.contains("another vigil process (run, tail or replay) holds the anomaly baselines"),
                "\(refused.status) \(refused.stderr)")
        let replay = try VigilBinary.run(["replay", "--state", state, "--rules", rules, "--quiet", input.path], under: ["/usr/bin/flock", "-x", lock])
        #expect(replay.status == 2 && replay.stderr.contains("vigil baseline learn is writing the anomaly baselines"), "\(replay.stderr)")
        // Side by side, two holders of the shared kind are fine; alone, learn runs.
        let shared = try VigilBinary.run(["replay", "--state", state, "--rules", rules, "--quiet", input.path], under: ["/usr/bin/flock", "-s", lock])
        #expect(shared.status == 0, "\(shared.stderr)")
        let alone = try VigilBinary.run(learn)
        #expect(alone.status == 0, "\(alone.stderr)")
    }

    /// A folder with two files over the same days, one of them a gzipped `{"records":[…]}`
    /// envelope: read like replay reads it, merged by event time, so nothing is late (read one
    /// file after the other, the second file's first days would be behind the watermark).
    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func learnReadsEveryFormatAndMergesFilesByTime() throws {
        let folder = TemporaryFolder(prefix: "vigil-baseline"), dir = folder.url
        defer { withExtendedLifetime(folder) {} }   // removed with it, at the end
        let history = dir.appendingPathComponent("history")
        try FileManager.default.createDirectory(at: history, withIntermediateDirectories: true)
        var alice: [String] = [], bob: [String] = []
        for day in 0..<4 {
            alice.append(Self.record(day: day, corr: "c0ffee00-0000-4000-8000-0000000000a\(day)", result: "Success",
                                     caller: "alice@contoso.example", ip: "203.0.113.10"))
            bob.append(Self.record(day: day, corr: "c0ffee00-0000-4000-8000-0000000000b\(day)", result: "Success", second: 30,
                                   caller: "bob@contoso.example", ip: "198.51.100.7"))
        }
        try (alice.joined(separator: "\n") + "\n").write(to: history.appendingPathComponent("a.jsonl"), atomically: true, encoding: .utf8)
        let envelope = history.appendingPathComponent("b.json")
        try ("{\"records\":[" + bob.joined(separator: ",") + "]}").write(to: envelope, atomically: true, encoding: .utf8)
        _ = try VigilBinary.runTool("/bin/gzip", [envelope.path])
        #expect(FileManager.default.fileExists(atPath: envelope.path + ".gz"))

        let (learn, profiles) = try Self.learnThenShow(history.path, identity: "bob", in: dir)
        #expect(learn.status == 0, "\(learn.stderr)")
        #expect(learn.stdout.contains("0 late, 0 unreadable, 8 operations)"), "\(learn.stdout)")
        let workspace = try #require(Self.workspaceProfile(profiles), "\(profiles)")
        #expect((workspace["events"] as? Int) == 4 && (workspace["activeDays"] as? [Any])?.count == 4, "\(workspace)")
    }
}
