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
//
// Every case also goes through an `OperationAssembler`, as in a replay: an Activity Log lifecycle
// record becomes an assembled `operation` event too (at `finish()`, Incomplete when it is not a final
// record), so rules of the `category: operation` log source can be tested. Their cases are usually
// `events:` sequences (below): Start, Accept, Succeeded/Failed/Canceled sharing one correlationId.
import EventModel
import FastJSON
import Foundation

public struct RuleTestCase: Sendable {
    public var name: String
    public var expectMatch: Bool
    public var eventJSON: String
    public var location: SourceLocation
    /// `events:` (a sequence, for correlations): each event's JSON text, in the order written.
    public var sequenceJSON: [String]? = nil
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
                if let seq = c["events"] {
                    out.append(sequenceCase(seq, name: c["name"]?.scalar ?? "\(key)[\(i)]", expectMatch: key == "match", at: c.location(file)))
                    continue
                }
                guard let ev = c["event"] else {
                    diags.append(Diagnostic(.error, code: "test.missing-key", "test case needs an 'event' (or 'events', a sequence)", at: c.location(file)))
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
        var library: RuleSet?
        for file in RuleLoader.ruleFiles(paths, diagnostics: &diags) {
            let tests = testsFile(for: file)
            var (set, d1) = RuleLoader.load(paths: [file], placeholders: placeholders)
            diags += d1
            addReferencedBaseRules(to: &set, paths: paths + packRoot(of: file), placeholders: placeholders, library: &library)
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
            let ruleId = compiled.correlations.correlations.first?.id ?? compiled.rules.first?.id
            let engine = Engine(rules: compiled)
            for c in cases {
                var r = RuleTestResult(ruleFile: file, ruleId: ruleId, testCase: c, passed: false)
                if compiled.rules.isEmpty {
                    r.detail = "the rule did not compile"
                    results.append(r)
                    continue
                }
                if c.sequenceJSON != nil {
                    results.append(runSequence(c, result: r, compiled: compiled, testsFile: tests, normalize: normalize))
                    continue
                }
                do {
                    let doc = try JSONDocument.parse(c.eventJSON)
                    let event = try normalize(doc, SourcePosition(source: tests, line: c.location.line))
                    // The record, and the operation assembled from it alone (a one-record lifecycle).
                    var assembler = OperationAssembler()
                    let operations = assembler.process(event) + assembler.finish()
                    let matched = ([event] + operations).contains { !engine.matchingRules($0).isEmpty }
                    r.passed = matched == c.expectMatch
                    if !r.passed {
                        r.detail = c.expectMatch
                            ? "expected a match, got none (event kind \(event.kind.rawValue), shape \(event.shape.rawValue)\(Self.describe(operations)))"
                            : "expected no match, but the rule matched"
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

// MARK: sequences (correlation tests)
//
//   match:
//     - name: three deletions by one caller
//       events: [ {…}, {…}, {…} ]      # raw records, any order: they are replayed in event time
//   no_match:
//     - name: two deletions only
//       events: [ {…}, {…} ]
//
// A sequence runs the way a replay does (DetectionStage): an EventTimeBuffer (15 min lateness; late
// records reach stateless rules only), then an OperationAssembler (15 min timeout, `finish()` at the
// end, so a Start with no final record becomes an Incomplete operation), into a fresh engine
// compiled from the file (plus the base rules it references from other files under the tested
// paths) that sees every released record and every assembled operation. It "matches" when a
// correlation of the file raises an alert (any alert when the file has no correlation).
//
//   match:
//     - name: rule written and succeeded
//       events: [ {…Start with properties.requestbody…}, {…Accept…}, {…Success…} ]   # one correlationId
//   no_match:
//     - name: rule write failed
//       events: [ {…Start…}, {…Failure…} ]
//     - name: start only (never completed)
//       events: [ {…Start…} ]
extension RuleTestRunner {
    static func sequenceCase(_ seq: YAMLTree, name: String, expectMatch: Bool, at location: SourceLocation) -> RuleTestCase {
        let items = seq.sequence ?? [seq]
        return RuleTestCase(name: name, expectMatch: expectMatch, eventJSON: "", location: location,
                            sequenceJSON: items.map { $0.scalar.map { $0 } ?? $0.jsonText })
    }

    /// Correlations may name base rules in other files: load those from the tested paths.
    static func addReferencedBaseRules(to set: inout RuleSet, paths: [String], placeholders: [String: [String]], library: inout RuleSet?) {
        let have = Set(set.rules.flatMap { r in [r.id?.value, r.name, r.title].compactMap { $0?.lowercased() } })
        let missing = Set(set.correlations.flatMap { $0.correlation?.rules.map { $0.value.lowercased() } ?? [] }).subtracting(have)
        guard !missing.isEmpty else { return }
        if library == nil { library = RuleLoader.load(paths: paths, placeholders: placeholders).0 }
        var added = Set<String>()
        for r in library!.rules where r.kind == .rule {
            let keys = [r.id?.value, r.name, r.title].compactMap { $0?.lowercased() }
            let key = ((r.file as NSString).standardizingPath) + "#\(r.document)"
            if keys.contains(where: missing.contains), added.insert(key).inserted { set.rules.append(r) }
        }
    }

    /// The rule pack a file belongs to: the nearest directory above it holding `fieldmap.yml`.
    static func packRoot(of file: String) -> [String] {
        var dir = (file as NSString).deletingLastPathComponent
        for _ in 0..<4 {
            let d = dir.isEmpty ? "." : dir
            if FileManager.default.fileExists(atPath: (d as NSString).appendingPathComponent("fieldmap.yml")) { return [d] }
            dir = (d as NSString).appendingPathComponent("..")
        }
        return []
    }

    static func runSequence(_ c: RuleTestCase, result: RuleTestResult, compiled: CompiledRuleSet, testsFile: String,
                            normalize: (JSONDocument, SourcePosition) throws -> Event) -> RuleTestResult {
        var r = result
        var engine = Engine(rules: compiled)
        var buffer = EventTimeBuffer(latenessSeconds: Self.latenessSeconds)
        var assembler = OperationAssembler(configuration: .init(timeoutSeconds: Self.latenessSeconds))
        var alerts: [Alert] = []
        var operations: [Event] = []
        // In event-time order, as DetectionStage does: the record, then the operations it completed.
        func released(_ e: Event) {
            alerts += engine.process(e)
            for op in assembler.process(e) {
                operations.append(op)
                alerts += engine.process(op)
            }
        }
        do {
            for (i, json) in (c.sequenceJSON ?? []).enumerated() {
                let doc = try JSONDocument.parse(json)
                var pos = SourcePosition(source: testsFile, line: c.location.line)
                pos.recordIndex = i
                for e in buffer.push(try normalize(doc, pos)) { released(e) }
                for l in buffer.drainLate() { alerts += engine.processLate(l.event) }
            }
            for e in buffer.flush() { released(e) }
            for op in assembler.finish() {
                operations.append(op)
                alerts += engine.process(op)
            }
            alerts += engine.finish()
        } catch {
            r.detail = "event could not be read: \(error)"
            return r
        }
        let ids = Set(compiled.correlations.correlations.map(\.id))
        let hits = ids.isEmpty ? alerts : alerts.filter { ids.contains($0.ruleId) }
        r.passed = hits.isEmpty != c.expectMatch
        if !r.passed {
            let what = ids.isEmpty ? "alert" : "correlation alert"
            r.detail = c.expectMatch ? "expected a \(what), got none (\(alerts.count) other alert(s)\(Self.describe(operations)))"
                : "expected no \(what), got \(hits.count): \(hits.first?.description ?? "")"
        }
        return r
    }

    /// The lateness of the replay a sequence imitates (the default `--lateness`).
    static let latenessSeconds: Int64 = 900

    /// ", assembled: Succeeded x1, Incomplete x1" for a failure message; empty when none were.
    static func describe(_ operations: [Event]) -> String {
        guard !operations.isEmpty else { return "" }
        var counts: [String: Int] = [:]
        for op in operations { counts[op.result ?? "?", default: 0] += 1 }
        return "; operations assembled: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
    }
}
