import Foundation
import TestSupport
import Testing

/// Regex rules cannot hang the engine: SafeRegex is linear-time, so catastrophic-backtracking
/// patterns run over a 1 MB field through `vigil replay` end to end in seconds.
@Suite(.enabled(if: Chaos.hasVigil, Chaos.noVigil))
struct ChaosRegexTests {
    static func rule(_ id: String, _ title: String, _ pattern: String) -> String {
        """
        title: \(title)
        id: \(id)
        status: test
        logsource:
          product: azure
          service: activitylogs
        detection:
          selection:
            operationName|re: '\(pattern)'
          condition: selection
        level: low
        """
    }

    @Test(.timeLimit(.minutes(2)))
    func pathologicalPatternsOverAMegabyte() throws {
        let dir = try Chaos.temporaryDirectory("regex")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rules = dir.appendingPathComponent("rules")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        // Exponential for a backtracking engine on "aaaa…a!": none of these three matches.
        try Self.rule("0c0ffee0-0000-4000-8000-000000000001", "Nested plus", "(a+)+$")
            .write(to: rules.appendingPathComponent("nested.yml"), atomically: true, encoding: .utf8)
        try Self.rule("0c0ffee0-0000-4000-8000-000000000002", "Alternation", "^(a|aa)+$")
            .write(to: rules.appendingPathComponent("alternation.yml"), atomically: true, encoding: .utf8)
        try Self.rule("0c0ffee0-0000-4000-8000-000000000003", "Star star", "(a*)*b")
            .write(to: rules.appendingPathComponent("starstar.yml"), atomically: true, encoding: .utf8)
        // …and this one does, so the rules are known to run.
        try Self.rule("0c0ffee0-0000-4000-8000-000000000004", "Matches", "^(a|aa)+!$")
            .write(to: rules.appendingPathComponent("matches.yml"), atomically: true, encoding: .utf8)
        let big = String(repeating: "a", count: 1 << 20) + "!"
        let record = """
        {"time":"2026-11-20T10:00:00Z","resourceId":"/SUBSCRIPTIONS/3F2A1B0C-9D8E-4F7A-8B6C-5D4E3F2A1B0C/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/ST1",\
        "operationName":"\(big)","category":"Administrative","resultType":"Success","callerIpAddress":"198.51.100.1",\
        "correlationId":"00000000-0000-4000-8000-000000000001","identity":{"claims":{"appid":"11111111-1111-4111-8111-111111111111"}}}
        """
        let input = dir.appendingPathComponent("big.json")
        try (record + "\n").write(to: input, atomically: true, encoding: .utf8)
        let sink = dir.appendingPathComponent("out.jsonl").path
        let started = Date()
        let r = try Chaos.vigil(Chaos.replayArguments(input: input.path, state: dir.appendingPathComponent("s.db").path,
                                                      sink: sink, rules: rules.path), in: dir)
        let seconds = Date().timeIntervalSince(started)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(seconds < 90, "replay took \(seconds) s")
        let lines = (try? String(contentsOfFile: sink, encoding: .utf8))?.split(separator: "\n") ?? []
        let alerts = lines.filter { $0.contains("\"type\":\"alert\"") }
        #expect(alerts.count == 1, "\(r.stderr)")
        #expect(alerts.first?.contains("0c0ffee0-0000-4000-8000-000000000004") == true)
        print("chaos regex: 4 rules over a 1 MiB field in \(String(format: "%.2f", seconds)) s")
    }
}
