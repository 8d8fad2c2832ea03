import Foundation
import TestSupport
import Testing

/// `vigil replay` merges its inputs by event time, through the built binary: the sample day's
/// categories and captures overlap in time, and no event of them is late any more.
@Suite(.serialized) struct ReplayMergeCLITests {
    static let detections = PackageRoot.url.appendingPathComponent("detections").path
    static func sample(_ path: String) -> String { PackageRoot.url.appendingPathComponent("samples/" + path).path }

    struct Outcome {
        var summary: [String: Any]
        var alertIds: Set<String>
        var late: Int { summary["late_events"] as? Int ?? -1 }
    }

    func replay(_ paths: [String], extra: [String] = [], stdin: Data? = nil) throws -> Outcome {
        let dir = TemporaryFolder(prefix: "vigil-merge-cli")
        let sink = dir.path("sink.jsonl")
        let r = try VigilBinary.run(["replay"] + paths + extra + [
            "--rules", Self.detections, "--state", dir.path("state.db"), "--output", "jsonl:" + sink,
            "--summary", "json", "--quiet",
        ], stdin: stdin)
        #expect(r.status == 0, "replay failed: \(r.stderr)")
        let rows = try String(contentsOfFile: sink, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
        let ids = rows.filter { $0["type"] as? String == "alert" }.compactMap { $0["id"] as? String }
        return Outcome(summary: try json(try #require(r.lines.last)), alertIds: Set(ids))
    }

    /// The sample export tree has five categories per hour, and the Event Hubs captures span the day.
    @Test func samplesReplayWithoutLateEvents() throws {
        let all = ["export", "eventhub", "defender"].map(Self.sample)
        let merged = try replay(all)
        #expect(merged.late == 0)
        #expect(merged.summary["files_joined_behind"] as? Int == 0)
        #expect(merged.alertIds.count >= 10)
        // One file at a time (the old read order) leaves a thousand events behind the watermark.
        let sequential = try replay(all, extra: ["--max-open-files", "1"])
        #expect(sequential.late > 100)
    }

    /// Standard input is one more stream of the merge: the same alerts as when the file is named.
    @Test func standardInputIsMergedLikeAFile() throws {
        let capture = Self.sample("eventhub/mlw-prod-audit.json")
        let others = [Self.sample("export"), Self.sample("eventhub/entra-signin-capture.json.gz"),
                      Self.sample("eventhub/entra-auditlogs.json"), Self.sample("defender")]
        let named = try replay(others + [capture])
        let piped = try replay(others + ["-"], stdin: try Data(contentsOf: URL(fileURLWithPath: capture)))
        #expect(piped.late == 0)
        #expect(piped.alertIds == named.alertIds)
        #expect(piped.summary["events"] as? Int == named.summary["events"] as? Int)
    }
}
