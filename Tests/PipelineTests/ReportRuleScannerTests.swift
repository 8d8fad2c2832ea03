import EventModel
import Foundation
import Pipeline
import Testing

@Suite struct ReportRuleScannerTests {
    @Test func readsTheBaselineBlockOfEveryRuleButNotTests() throws {
        let folder = ReportTemporaryFolder()
        try folder.write("""
            title: Secrets Listed
            id: 11111111-1111-4111-8111-111111111111
            logsource: {product: azure, service: activitylogs}
            detection: {selection: {operationName: X}, condition: selection}
            vigil:
              entities: {Account: vigil.caller}
              baseline: {area: identity, controls: [IM-8, PA-7]}
            """, to: "identity/secrets.yml")
        try folder.write("""
            title: Test file
            detection: {}
            vigil: {baseline: {area: identity, controls: [IM-1]}}
            """, to: "identity/secrets.tests.yml")
        try folder.write("""
            title: No Baseline
            detection: {selection: {a: b}, condition: selection}
            """, to: "network/plain.yaml")
        try folder.write("""
            title: Missing Area
            detection: {selection: {a: b}, condition: selection}
            vigil:
              baseline:
                controls: NS-1
            """, to: "network/noarea.yml")
        try folder.write("title: [unclosed\n", to: "broken.yml")
        try folder.write("fieldmap: {a: b}\n", to: "fieldmap.yml")

        let result = try RuleBaselineScanner.scan(folder: folder.url.path)
        #expect(result.rules.count == 1)
        let rule = try #require(result.rules.first)
        #expect(rule.id == "11111111-1111-4111-8111-111111111111" && rule.title == "Secrets Listed")
        #expect(rule.area == "identity" && rule.controls == ["IM-8", "PA-7"])
        #expect(result.rulesWithoutBaseline.map { ($0 as NSString).lastPathComponent } == ["plain.yaml"])
        let codes = Set(result.diagnostics.map(\.code))
        #expect(codes == ["rule.baseline-area", "rule.yaml"])
        let noArea = try #require(result.diagnostics.first { $0.code == "rule.baseline-area" })
        #expect(noArea.location.file.hasSuffix("network/noarea.yml") && noArea.location.line == 5)
        let broken = try #require(result.diagnostics.first { $0.code == "rule.yaml" })
        #expect(broken.location.file.hasSuffix("broken.yml") && broken.location.line != nil)
    }

    @Test func aMissingFolderIsALocatedError() {
        #expect(throws: Diagnostic.self) { try RuleBaselineScanner.scan(folder: "/nonexistent/rules") }
    }

    @Test func scalarControlsAreAccepted() {
        var result = RuleBaselineScanner.Result()
        RuleBaselineScanner.scan(text: "title: T\ndetection: {}\nvigil: {baseline: {area: backup, controls: BR-2}}\n",
                                 file: "x.yml", into: &result)
        #expect(result.rules.first?.controls == ["BR-2"])
    }
}
