import Foundation
import TestSupport
import Testing

/// A folder of rules with one broken rule: replay reports it at file:line:column, leaves it out and
/// runs the others; `--strict` refuses to start; a folder with no usable rule stops the run.
@Suite(.serialized) struct ReplayBadRulesTests {
    static let good = """
        title: Key Vault secret read
        id: 0b7d4c8e-1111-4a2b-9c3d-5e6f7a8b9c0d
        status: test
        logsource:
          product: azure
          service: activitylogs
        detection:
          selection:
            operationName: MICROSOFT.KEYVAULT/VAULTS/SECRETS/READ
          condition: selection
        level: medium

        """
    static let bad = """
        title: Broken condition
        id: 0b7d4c8e-2222-4a2b-9c3d-5e6f7a8b9c0d
        status: test
        logsource:
          product: azure
          service: activitylogs
        detection:
          selection:
            operationName: x
          condition: selection and and not
        level: low

        """
    static let record = #"{"time": "2026-11-21T10:00:00Z", "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV1", "operationName": "MICROSOFT.KEYVAULT/VAULTS/SECRETS/READ", "category": "Administrative", "resultType": "Success", "callerIpAddress": "203.0.113.9", "correlationId": "c1", "level": "Information", "properties": {}}"#

    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func aBadRuleIsReportedAndLeftOutTheOthersRun() throws {
        let dir = TemporaryFolder(prefix: "vigil-badrules")
        let rules = dir.path("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try Self.good.write(toFile: "\(rules)/good.yml", atomically: true, encoding: .utf8)
        try Self.bad.write(toFile: "\(rules)/bad.yml", atomically: true, encoding: .utf8)
        let fieldmap = PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path
        try FileManager.default.copyItem(atPath: fieldmap, toPath: "\(rules)/fieldmap.yml")
        try (Self.record + "\n").write(toFile: dir.path("in.json"), atomically: true, encoding: .utf8)

        let lenient = try VigilBinary.run(["replay", "--quiet", "--rules", rules, "--state", dir.path("a.db"), "--output", "jsonl:-", dir.path("in.json")])
        #expect(lenient.status == 0, "stderr: \(lenient.stderr)")
        #expect(lenient.stderr.contains("bad.yml:10:28:"), "the error names file:line:column: \(lenient.stderr)")
        #expect(lenient.stderr.contains("left out"))
        #expect(lenient.lines.contains { $0.contains("\"type\":\"alert\"") && $0.contains("0b7d4c8e-1111") }, "the good rule still alerts")

        let strict = try VigilBinary.run(["replay", "--quiet", "--strict", "--rules", rules, "--state", dir.path("b.db"), "--output", "jsonl:-", dir.path("in.json")])
        #expect(strict.status == 1)
        #expect(!strict.lines.contains { $0.contains("\"type\":\"alert\"") })

        try FileManager.default.removeItem(atPath: "\(rules)/good.yml")
        let none = try VigilBinary.run(["replay", "--quiet", "--rules", rules, "--state", dir.path("c.db"), "--output", "jsonl:-", dir.path("in.json")])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no usable rule"))
    }
}
