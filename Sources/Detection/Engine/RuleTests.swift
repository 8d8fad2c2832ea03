// Rule tests: `X.tests.yml` beside `X.yml` lists events the rule must match and must not.
//
//   match:
//     - name: owner granted to a service principal
//       event: { …the raw record as it arrives, any supported shape… }
//   no_match:
//     - name: reader role
//       event: { … }
//
// `event` may also be a string holding the JSON text. Events go through the normaliser the
// caller passes (the CLI and the tests pass `EventDecoding.Normalizer`), then through an engine
// compiled from the rule's own file, so a test checks one rule, not the whole pack.
import EventModel
import FastJSON
import Foundation

public struct RuleTestCase: Sendable {
    public var name: String
    public var expectMatch: Bool
    public var eventJSON: String
    public var location: SourceLocation
}

public struct RuleTestResult: Sendable {
    public var ruleFile: String
    public var ruleId: String?
    public var testCase: RuleTestCase
    public var passed: Bool
    /// Why it failed (mismatch, bad event, rule did not compile).
    public var detail: String?
}

public enum RuleTestRunner {
    /// `X.tests.yml` for `X.yml`.
    public static func testsFile(for ruleFile: String) -> String {
        let base = ruleFile.hasSuffix(".yaml") ? String(ruleFile.dropLast(5)) : ruleFile.hasSuffix(".yml") ? String(ruleFile.dropLast(4)) : ruleFile
        return base + ".tests.yml"
    }

    /// Parses a tests file.
    public static func cases(file: String) -> ([RuleTestCase], [Diagnostic]) {
        guard let data = FileManager.default.contents(atPath: file) else {
            return ([], [Diagnostic(.error, code: "test.unreadable", "cannot read tests file", at: SourceLocation(file: file))])
        }
        let root: YAMLTree
        do {
            guard let r = try YAMLTree.documents(String(decoding: data, as: UTF8.self)).first else { return ([], []) }
            root = r
        } catch {
            return ([], [Diagnostic(.error, code: "test.yaml-syntax", error.message, at: SourceLocation(file: file, line: error.line, column: error.column))])
        }
        var out: [RuleTestCase] = []
        var diags: [Diagnostic] = []
        for (k, v) in root.mapping ?? [] {
            guard let key = k.scalar, key == "match" || key == "no_match" else {
                diags.append(Diagnostic(.error, code: "test.unknown-key", "unknown key '\(k.scalar ?? "")' (match, no_match)", at: k.location(file)))
                continue
            }
            for (i, c) in (v.sequence ?? []).enumerated() {
                guard let ev = c["event"] else {
                    diags.append(Diagnostic(.error, code: "test.missing-key", "test case needs an 'event'", at: c.location(file)))
                    continue
                }
                let json = ev.scalar.map { $0 } ?? ev.jsonText
                out.append(RuleTestCase(name: c["name"]?.scalar ?? "\(key)[\(i)]", expectMatch: key == "match", eventJSON: json, location: c.location(file)))
            }
            if v.sequence == nil { diags.append(Diagnostic(.error, code: "test.invalid-value", "'\(key)' must be a list of cases", at: v.location(file))) }
        }
        return (out, diags)
    }

    /// Runs the tests beside every rule file under `paths`. Rules without tests are reported
    /// as `test.missing` warnings.
    public static func run(paths: [String], fieldMap: FieldMap, placeholders: [String: [String]] = [:],
                           normalize: (JSONDocument, SourcePosition) throws -> Event) -> ([RuleTestResult], [Diagnostic]) {
        var diags: [Diagnostic] = []
        var results: [RuleTestResult] = []
        for file in RuleLoader.ruleFiles(paths, diagnostics: &diags) {
            let tests = testsFile(for: file)
            let (set, d1) = RuleLoader.load(paths: [file], placeholders: placeholders)
            diags += d1
            guard FileManager.default.fileExists(atPath: tests) else {
                if !set.detectionRules.isEmpty {
                    diags.append(Diagnostic(.warning, code: "test.missing", "rule has no tests (\((tests as NSString).lastPathComponent))", at: SourceLocation(file: file, line: 1, column: 1)))
                }
                continue
            }
            let (cases, d2) = self.cases(file: tests)
            diags += d2
            let (compiled, d3) = Compiler.compile(set, fieldMap: fieldMap)
            diags += d3
            let ruleId = compiled.rules.first?.id
            var engine = Engine(rules: compiled)
            for c in cases {
                var r = RuleTestResult(ruleFile: file, ruleId: ruleId, testCase: c, passed: false)
                if compiled.rules.isEmpty {
                    r.detail = "the rule did not compile"
                    results.append(r)
                    continue
                }
                do {
                    let doc = try JSONDocument.parse(c.eventJSON)
                    let event = try normalize(doc, SourcePosition(source: tests, line: c.location.line))
                    let matched = !engine.matchingRules(event).isEmpty
                    r.passed = matched == c.expectMatch
                    if !r.passed {
                        r.detail = c.expectMatch ? "expected a match, got none (event kind \(event.kind.rawValue), shape \(event.shape.rawValue))" : "expected no match, but the rule matched"
                    }
                } catch {
                    r.detail = "event could not be read: \(error)"
                }
                _ = engine.stats
                results.append(r)
            }
        }
        return (results, diags)
    }
}
