import Foundation
import TestSupport
import Testing

/// `vigil replay` on the bundled samples, through the built binary: the story in
/// samples/README.md must come out as the incidents it describes. The ground truth is
/// samples/expected.json, written by the generator, not by these tests.
@Suite(.serialized) struct ReplaySamplesTests {
    struct Outcome {
        var alerts: [[String: Any]]
        var incidents: [[String: Any]]
        var summary: [String: Any]
    }

    static let sampleDirs = ["samples/export", "samples/eventhub", "samples/defender"].map {
        PackageRoot.url.appendingPathComponent($0).path
    }

    func replay(state: URL, sink: URL) throws -> Outcome {
        let r = try VigilBinary.run(["replay"] + Self.sampleDirs + [
            "--rules", PackageRoot.url.appendingPathComponent("detections").path,
            "--state", state.path, "--output", "jsonl:" + sink.path, "--summary", "json", "--quiet",
        ])
        #expect(r.status == 0, "replay failed: \(r.stderr)")
        let rows = try String(contentsOf: sink, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
        let summary = try json(try #require(r.lines.last))
        return Outcome(alerts: rows.filter { $0["type"] as? String == "alert" },
                       incidents: rows.filter { $0["type"] as? String == "incident" }, summary: summary)
    }

    func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: PackageRoot.url.appendingPathComponent("samples/expected.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every alert's evidence as one text, to look for the correlation ids of the story's steps.
    func evidenceText(_ alert: [String: Any]) -> String {
        ((alert["evidence"] as? [Any]) ?? []).map { "\($0)" }.joined(separator: "\n")
    }

    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func theAttackIsDetectedStepByStepAndBenignLookalikesAreNot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-samples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try replay(state: dir.appendingPathComponent("state.db"), sink: dir.appendingPathComponent("sink.jsonl"))
        let truth = try expected()
        let steps = try #require(truth["steps"] as? [[String: Any]])

        // Control-plane steps carry a correlationId; each must be the evidence of some alert.
        // (D18 Key Vault reads and the D22 burst need baselines learned over weeks: not in one day.)
        var checked = 0
        for step in steps {
            guard let cid = step["correlationId"] as? String else { continue }
            let hit = out.alerts.contains { evidenceText($0).lowercased().contains(cid.lowercased()) }
            #expect(hit, "step \(step["step"] ?? "?") (\(step["name"] ?? "")) raised no alert")
            checked += 1
        }
        #expect(checked >= 12)

        // The benign look-alikes (same operations, harmless bodies) raise nothing.
        for b in try #require(truth["benignLookalikes"] as? [[String: Any]]) {
            let cid = try #require(b["correlationId"] as? String).lowercased()
            let hits = out.alerts.filter { evidenceText($0).lowercased().contains(cid) }
            #expect(hits.isEmpty, "benign look-alike '\(b["name"] ?? "")' raised \(hits.compactMap { $0["ruleTitle"] })")
        }

        // One attacker, one morning: everything lands in a single incident about her.
        let incidentIds = Set(out.incidents.compactMap { $0["id"] as? String })
        #expect(incidentIds.count == 1)
        let entities = out.incidents.last?["entities"] as? [[String: Any]] ?? []
        #expect(entities.contains { ($0["value"] as? String)?.lowercased() == "dana.okafor@contoso-ml.example" })
        #expect(out.incidents.allSatisfy { ($0["severity"] as? String) == "high" })
    }

    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func replayingAgainRaisesNothingNewAndKeepsTheIncidentId() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-samples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("state.db")
        let sink = dir.appendingPathComponent("a.jsonl")
        let first = try replay(state: state, sink: sink)
        // Same database, same sink: the outbox already delivered everything, nothing is re-sent.
        let second = try replay(state: state, sink: sink)
        #expect((first.summary["alerts_new"] as? Int ?? 0) > 10)
        // The anomaly rules hold most events in event time, those they alone want without records.
        let held = first.summary["events_held"] as? Int ?? -1, bare = first.summary["events_held_without_record"] as? Int ?? -1
        #expect(held > 0 && bare > 0 && bare < held, "held \(held), without record \(bare)")
        // The samples' operations have several records each: their later records are not held.
        let repeats = first.summary["operation_repeats_not_held"] as? Int ?? -1
        #expect(repeats > 0 && held + repeats <= first.summary["events"] as? Int ?? 0, "repeats not held: \(repeats)")
        // At their busiest the buffer and the assembler held some of those events, never more.
        let most = first.summary["most_events_held"] as? Int ?? -1, open = first.summary["most_operations_open"] as? Int ?? -1
        #expect(most > 0 && most <= held, "most held at once: \(most) of \(held)")
        #expect(open > 0 && open <= first.summary["operations_assembled"] as? Int ?? 0, "most operations open: \(open)")
        // The samples are far below every cap (the 8 kinds of StatefulStages.Evictions): nothing was let go.
        let bounds = first.summary["state_evictions"] as? [String: Int] ?? [:]
        #expect(bounds.count == 8 && bounds.values.allSatisfy { $0 == 0 }, "\(bounds)")
        #expect(second.summary["alerts_new"] as? Int == 0)
        #expect(second.summary["alerts_duplicate"] as? Int == first.summary["alerts_new"] as? Int)
        #expect(second.alerts.count == first.alerts.count, "the sink grew on a replay of the same input")

        // A fresh database fed the same input derives the same incident id (idempotent Sentinel PUTs).
        let fresh = try replay(state: dir.appendingPathComponent("fresh.db"), sink: dir.appendingPathComponent("c.jsonl"))
        #expect(Set(fresh.incidents.compactMap { $0["id"] as? String }) == Set(first.incidents.compactMap { $0["id"] as? String }))
        #expect(Set(fresh.alerts.compactMap { $0["id"] as? String }) == Set(first.alerts.compactMap { $0["id"] as? String }))
    }
}
