import Foundation
import TestSupport
import Testing

/// `vigil baseline learn` then `vigil baseline show`, through the built binary: Activity Log
/// lifecycles (Start + Success sharing a correlationId) are learned once per operation and kept
/// in the state database.
@Suite struct BaselineCommandTests {
    static let workspace = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"

    /// One record of an operation's lifecycle, as an Activity Log export writes it.
    static func record(day: Int, corr: String, result: String, second: Int = 0, caller: String, ip: String) -> String {
        let time = String(format: "2025-03-%02dT10:00:%02d.0000000Z", 3 + day, second)
        return """
        {"time":"\(time)","resourceId":"\(workspace)","operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/LISTKEYS/ACTION",\
        "category":"Administrative","resultType":"\(result)","resultSignature":"\(result).","correlationId":"\(corr)",\
        "callerIpAddress":"\(ip)","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)"}},\
        "level":"Information","properties":{"eventCategory":"Administrative"}}
        """
    }

    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func learnTakesEachOperationOnceAndShowReadsItBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-baseline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
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
        let state = dir.appendingPathComponent("state.db").path
        let rules = PackageRoot.url.appendingPathComponent("detections/anomaly").path

        let learn = try VigilBinary.run(["baseline", "learn", "--state", state, "--rules", rules, input.path])
        #expect(learn.status == 0, "\(learn.stderr)")
        // 7 records, 4 operations: alice's three lifecycles and bob's lone Success.
        #expect(learn.stdout.contains("0 late, 0 unreadable, 4 operations)"), "\(learn.stdout)")

        let show = try VigilBinary.run(["baseline", "show", "--state", state, "--identity", "alice", "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        let profiles = show.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!profiles.isEmpty, "\(show.stdout)")
        #expect(profiles.allSatisfy { ($0["subject"] as? String) == "alice@contoso.example" }, "\(show.stdout)")
        // The workspace baseline counts three active days from three operations (not six records).
        let workspace = try #require(profiles.first { ($0["scope"] as? String)?.hasSuffix("/workspaces/mlw-prod") == true }, "\(show.stdout)")
        #expect((workspace["activeDays"] as? [Any])?.count == 3, "\(workspace)")
        #expect((workspace["events"] as? Int) == 3, "\(workspace)")
    }
}
