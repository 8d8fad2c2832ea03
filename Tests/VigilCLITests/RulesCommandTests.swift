import Foundation
import TestSupport
import Testing

/// `vigil rules test|check|coverage` through the built binary.
@Suite(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
final class RulesCommandTests {
    let dir: URL
    let detections = PackageRoot.url.appendingPathComponent("detections").path

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Every `*.tests.yml` in detections/ passes (anomaly rules have no Sigma tests: the runner skips them).
    @Test func everyDetectionRuleTestPasses() throws {
        let r = try VigilBinary.run(["rules", "test", detections])
        #expect(r.status == 0, "\(r.stdout.suffix(2000))")
        #expect(!r.lines.contains { $0.hasPrefix("FAIL") }, "\(r.lines.filter { $0.hasPrefix("FAIL") })")
        let summary = try #require(r.lines.last)
        let passed = Int(summary.split(separator: " ").first ?? "") ?? 0
        #expect(summary.hasSuffix(" passed, 0 failed"))
        // Each of the ~60 Sigma rules has at least one match and one no-match case.
        #expect(passed >= 120, "\(summary)")
        #expect(!r.stdout.contains("test.missing"), "a rule in detections/ has no tests")
    }

    /// The SigmaHQ corpus through `vigil rules check`: 85 compile, the 6 in rules-placeholder are rejected
    /// for their unset placeholders (and nothing else); with values, all 91 compile.
    @Test func everyCorpusSigmaRuleLoadsOrHasASpecificReason() throws {
        guard let root = Corpus.file("rules/sigma") else {
            print(Corpus.skipReason)
            return
        }
        let fieldmap = ["--fieldmap", PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path]
        let r = try VigilBinary.run(["rules", "check", root.path] + fieldmap)
        #expect(r.status == 1)
        #expect(r.stdout.contains("91 document(s), 85 rule(s) compiled"), "\(r.stdout.suffix(500))")
        let errors = r.lines.filter { $0.contains(": error[") }
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.contains("error[rule.placeholder-without-value]") && $0.contains("/rules-placeholder/") }, "\(errors)")

        let values = ["ApprovedUserUpn=admin@contoso.com", "Approved_Inviters=a@b", "Important_AppIds=1", "Known_Location=GB",
                      "UnLegitCountries=XX", "UnApprovedIp=1.2.3.4", "UnApprovedDevice=d", "HomeTenantID=t"]
        let r2 = try VigilBinary.run(["rules", "check", root.path] + fieldmap + values.flatMap { ["--placeholder", $0] })
        #expect(r2.status == 0, "\(r2.stdout.suffix(1000))")
        #expect(r2.stdout.contains("91 document(s), 91 rule(s) compiled"))
    }

    @Test func coverageTextListsAreasControlsAndRules() throws {
        let r = try VigilBinary.run(["rules", "coverage", "--rules", detections])
        #expect(r.status == 0, "\(r.stderr)")
        let first = try #require(r.lines.first)
        #expect(first.hasPrefix("Baseline coverage: "))
        #expect(first.contains("process-only control"))
        for area in ["identity", "network", "data-protection", "logging", "governance", "backup", "containers", "threat-protection"] {
            #expect(r.lines.contains(area), "area \(area) missing")
        }
        #expect(r.lines.contains { $0.contains("process-only (not visible in logs)") })
        #expect(r.lines.contains { $0.hasPrefix("  IM-8") && $0.contains("guarded") })
        #expect(r.stdout.contains("Recovery Services Vault Deleted (d0a9385a-7c1b-4734-9da4-3d4d8a19eb80)"))
    }

    @Test func coverageJSONCountsRulesAndMarksProcessOnlyControls() throws {
        let r = try VigilBinary.run(["rules", "coverage", "--rules", detections, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try json(r.stdout)
        let areas = try #require(object["areas"] as? [[String: Any]])
        let controls = areas.flatMap { ($0["controls"] as? [[String: Any]]) ?? [] }
        let statuses = Set(controls.compactMap { $0["status"] as? String })
        #expect(statuses == ["guarded", "gap", "process-only"])
        #expect(controls.filter { $0["status"] as? String == "process-only" }.allSatisfy { $0["visibleInLogs"] as? Bool == false })
        // Every rule with a vigil.baseline block is counted (Sigma and anomaly rules).
        let ruleCount = try #require(object["rules"] as? Int)
        let files = try FileManager.default.subpathsOfDirectory(atPath: detections)
            .filter { $0.hasSuffix(".yml") && !$0.hasSuffix(".tests.yml") && $0 != "fieldmap.yml" }
        let withBaseline = try files.filter {
            try String(contentsOfFile: detections + "/" + $0, encoding: .utf8).contains("baseline: {area:")
        }
        #expect(ruleCount == withBaseline.count)
    }

    @Test func coverageOfAFolderShowsItsOwnRuleAndGaps() throws {
        try """
        title: Test Rule Guarding NS-2
        id: 00000000-0000-4000-8000-000000000001
        logsource: {product: azure, service: activitylogs}
        detection:
          selection: {operationName: Microsoft.Network/privateEndpoints/delete}
          condition: selection
        level: low
        vigil:
          baseline: {area: network, controls: [NS-2]}
        """.write(to: dir.appendingPathComponent("r.yml"), atomically: true, encoding: .utf8)
        let r = try VigilBinary.run(["rules", "coverage", "--rules", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.lines.first?.hasPrefix("Baseline coverage: 1 rule guard 1 of ") == true, "\(r.lines.first ?? "")")
        let ns2 = try #require(r.lines.firstIndex { $0.hasPrefix("  NS-2") })
        #expect(r.lines[ns2].contains("guarded"))
        #expect(r.lines[ns2 + 1].contains("Test Rule Guarding NS-2 (00000000-0000-4000-8000-000000000001)"))
        #expect(r.lines.contains { $0.hasPrefix("  IM-8") && $0.contains("gap") })

        let missing = try VigilBinary.run(["rules", "coverage", "--rules", dir.appendingPathComponent("nope").path])
        #expect(missing.status != 0)
    }
}
