@testable import Detection
import EventModel
import Foundation
import TestSupport
import Testing

/// Every SigmaHQ rule in the shared corpus loads: it compiles, or is rejected for a specific reason.
@Suite struct CorpusTests {
    @Test func everySigmaRuleLoads() throws {
        guard let root = Corpus.file("rules/sigma") else {
            print(Corpus.skipReason)
            return
        }
        let map = FieldMap.load(path: PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path)
        #expect(map.1.isEmpty, "\(map.1)")
        let (set, d1) = RuleLoader.load(paths: [root.path])
        let (compiled, d2) = Compiler.compile(set, fieldMap: map.0)
        let diags = d1 + d2
        #expect(set.rules.count == 91)
        // The six rules in rules-placeholder need site values; everything else compiles.
        #expect(compiled.rules.count == 85)
        let errors = diags.filter { $0.level == .error }
        #expect(Set(errors.map(\.code)) == ["rule.placeholder-without-value"])
        let rejectedFiles = Set(errors.map(\.location.file))
        #expect(rejectedFiles.count == 6)
        #expect(rejectedFiles.allSatisfy { $0.contains("/rules-placeholder/") })
        // Every diagnostic is located at a line and column.
        #expect(diags.allSatisfy { $0.location.line != nil && $0.location.column != nil })

        // With placeholder values every rule compiles.
        let values: [String: [String]] = ["ApprovedUserUpn": ["admin@contoso.com"], "Approved_Inviters": ["a@b"],
                                          "Important_AppIds": ["1"], "Known_Location": ["GB"], "UnLegitCountries": ["XX"],
                                          "UnApprovedIp": ["1.2.3.4"], "UnApprovedDevice": ["d"], "HomeTenantID": ["t"]]
        let (set2, _) = RuleLoader.load(paths: [root.path], placeholders: values)
        let (compiled2, d3) = Compiler.compile(set2, fieldMap: map.0)
        #expect(compiled2.rules.count == 91, "\(d3.filter { $0.level == .error })")
    }

    @Test func activityRulesAreIndexedByOperation() throws {
        guard let root = Corpus.file("rules/sigma/rules/cloud/azure/activity_logs") else {
            print(Corpus.skipReason)
            return
        }
        let map = FieldMap.load(path: PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path).0
        let (set, _) = RuleLoader.load(paths: [root.path])
        let (compiled, _) = Compiler.compile(set, fieldMap: map)
        let indexed = compiled.rules.filter { $0.operations != nil }
        // Keyword rules and the one on properties.message have no operation constraint.
        #expect(indexed.count >= 15)
        #expect(compiled.rules.allSatisfy { $0.kinds == [.activity] })
    }
}
