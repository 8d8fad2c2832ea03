import Detection
import EventDecoding
import EventModel
import FastJSON
import Foundation
import TestSupport
import Testing

/// `RuleTestRunner` on rules of the assembled-operation log source (detections/fieldmap.yml,
/// `service: activitylogs, category: operation`): cases are lifecycles of raw records, assembled
/// by an OperationAssembler before the engine sees them.
@Suite struct RuleTestRunnerTests {
    static let rule = """
    title: Storage account allows anonymous blob access (test)
    id: 0b5c3f1e-8d2a-4e6b-9c71-5a4f3e2d1c0b
    logsource: {product: azure, service: activitylogs, category: operation}
    detection:
      selection:
        operationName: Microsoft.Storage/storageAccounts/write
        status: Succeeded
        requestBody.properties.allowBlobPublicAccess: true
      condition: selection
    level: high
    """

    /// One Activity Log export record of the operation `corr`.
    static func record(_ result: String, second: Int, corr: String = "c0ffee00-0000-4000-8000-00000000a001", body: Bool = false) -> String {
        var props = #""eventCategory":"Administrative""#
        if body { props += #","requestbody":"{\"properties\":{\"allowBlobPublicAccess\":true}}""# }
        return """
        {"time":"2026-11-20T10:00:\(String(format: "%02d", second)).0000000Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/ST1",\
        "operationName":"MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE","category":"Administrative","resultType":"\(result)",\
        "correlationId":"\(corr)","callerIpAddress":"203.0.113.9",\
        "identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"dev1@contoso.example"}},\
        "properties":{\(props)}}
        """
    }

    static func events(_ records: [String]) -> String {
        "    events:\n" + records.map { "      - '\($0)'\n" }.joined()
    }

    func run(_ tests: String) throws -> [RuleTestResult] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.rule.write(to: dir.appendingPathComponent("r.yml"), atomically: true, encoding: .utf8)
        try tests.write(to: dir.appendingPathComponent("r.tests.yml"), atomically: true, encoding: .utf8)
        let (map, mapDiags) = FieldMap.load(path: PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path)
        #expect(mapDiags.isEmpty, "\(mapDiags)")
        let normalizer = Normalizer()
        var counter: UInt64 = 0
        let (results, diags) = RuleTestRunner.run(paths: [dir.path], fieldMap: map) { doc, pos in
            counter += 1
            return try normalizer.normalize(doc, position: pos, id: counter)
        }
        #expect(diags.filter { $0.level != .note }.isEmpty, "\(diags)")
        return results
    }

    @Test func everyLifecycleOfTheOperation() throws {
        typealias S = RuleTestRunnerTests
        let start = S.record("Start", second: 0, body: true), accept = S.record("Accept", second: 1)
        let tests = """
        match:
          - name: succeeded
        \(S.events([start, accept, S.record("Success", second: 5)]))
          - name: succeeded, written Success first (replayed in event time)
        \(S.events([S.record("Success", second: 5), accept, start]))
        no_match:
          - name: failed
        \(S.events([start, S.record("Failure", second: 2)]))
          - name: canceled
        \(S.events([start, accept, S.record("Canceled", second: 9)]))
          - name: start only (Incomplete at the end of input)
        \(S.events([start]))
          - name: accepted, never completed
        \(S.events([start, accept]))
          - name: completion only, no request body
        \(S.events([S.record("Success", second: 5)]))
          - name: a single Start record is a one-record lifecycle too
            event: '\(start)'
          - name: wrongly expected (to see the failure message)
        \(S.events([start, accept, S.record("Success", second: 5)]))
        """
        let results = try run(tests)
        #expect(results.map(\.testCase.name).count == 9)
        #expect(results.map(\.passed) == [true, true, true, true, true, true, true, true, false], "\(results.map { "\($0.testCase.name): \($0.detail ?? "")" })")
        #expect(results.last?.detail?.contains("expected no alert, got 1") == true, "\(results.last?.detail ?? "")")
    }

    @Test func aMissedMatchSaysWhatWasAssembled() throws {
        let tests = """
        match:
          - name: start only, wrongly expected to match
        \(Self.events([Self.record("Start", second: 0, body: true)]))
          - name: single Failure record, wrongly expected to match
            event: '\(Self.record("Failure", second: 3))'
        """
        let results = try run(tests)
        #expect(results.map(\.passed) == [false, false])
        #expect(results[0].detail?.contains("operations assembled: Incomplete x1") == true, "\(results[0].detail ?? "")")
        #expect(results[1].detail?.contains("operations assembled: Failed x1") == true, "\(results[1].detail ?? "")")
    }
}
