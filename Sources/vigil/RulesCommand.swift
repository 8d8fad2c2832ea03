import ArgumentParser
import Detection
import EventDecoding
import EventModel
import FastJSON
import Foundation
import Pipeline

/// `vigil rules check|test|explain`: the rule author's tools.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, test and explain Sigma rules; show baseline coverage.",
        subcommands: [Check.self, Test.self, Explain.self, Coverage.self, Bench.self]
    )

    struct Common: ParsableArguments {
        @Option(name: .long, help: "Field map file (default: fieldmap.yml in the first rules directory, else detections/fieldmap.yml).")
        var fieldmap: String?

        @Option(name: .long, parsing: .singleValue, help: "Placeholder values for |expand, as name=v1,v2 (repeatable).")
        var placeholder: [String] = []

        var placeholders: [String: [String]] {
            var out: [String: [String]] = [:]
            for p in placeholder {
                let parts = p.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                out[String(parts[0]), default: []] += parts[1].split(separator: ",").map(String.init)
            }
            return out
        }

        func loadFieldMap(rulePaths: [String]) -> (FieldMap, [Diagnostic]) {
            let fm = FileManager.default
            if let fieldmap { return FieldMap.load(path: fieldmap) }
            var candidates: [String] = []
            for p in rulePaths {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: p, isDirectory: &isDir) {
                    let dir = isDir.boolValue ? p : (p as NSString).deletingLastPathComponent
                    var d = dir.isEmpty ? "." : dir
                    // Walk up from the rules to find the pack's field map.
                    for _ in 0..<4 {
                        candidates.append((d as NSString).appendingPathComponent("fieldmap.yml"))
                        d = (d as NSString).appendingPathComponent("..")
                    }
                }
            }
            candidates.append("detections/fieldmap.yml")
            for c in candidates where fm.fileExists(atPath: c) { return FieldMap.load(path: (c as NSString).standardizingPath) }
            return (FieldMap(), [Diagnostic(.warning, code: "fieldmap.missing", "no fieldmap.yml found: every field is read as a raw record path and rules meet every event kind", at: SourceLocation(file: rulePaths.first ?? "detections"))])
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load and compile rules; print every problem. Exits 1 on any error.")
        @OptionGroup var common: Common
        @Argument(help: "Rule files or directories (default: detections/).") var paths: [String] = []

        func run() throws {
            let paths = paths.isEmpty ? ["detections"] : paths
            let (map, d0) = common.loadFieldMap(rulePaths: paths)
            let (set, d1) = RuleLoader.load(paths: paths, placeholders: common.placeholders)
            let (compiled, d2) = Compiler.compile(set, fieldMap: map)
            let diags = d0 + d1 + d2
            if !diags.isEmpty { print(DiagnosticRenderer.render(all: diags)) }
            print("\(set.rules.count) document(s), \(compiled.rules.count) rule(s) compiled; \(DiagnosticRenderer.summary(diags))")
            if diags.contains(where: { $0.level == .error }) { throw ExitCode(1) }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the X.tests.yml cases beside each rule X.yml. Exits 1 on any failure.",
            discussion: """
            A case is one raw record (event:) or a sequence (events:) replayed as `vigil replay` would: in event \
            time, with Activity Log records of one operation (Start, Accept, Succeeded/Failed/Canceled by \
            correlationId) assembled into one `operation` event, Incomplete when no final record came. Rules of \
            the assembled-operation log source (service activitylogs, category operation) are tested that way.
            """)
        @OptionGroup var common: Common
        @Argument(help: "Rule files or directories (default: detections/).") var paths: [String] = []

        func run() throws {
            let paths = paths.isEmpty ? ["detections"] : paths
            let (map, d0) = common.loadFieldMap(rulePaths: paths)
            let normalizer = Normalizer()
            var counter: UInt64 = 0
            let (results, diags) = RuleTestRunner.run(paths: paths, fieldMap: map, placeholders: common.placeholders) { doc, pos in
                counter += 1
                return try normalizer.normalize(doc, position: pos, id: counter)
            }
            let all = d0 + diags
            if !all.isEmpty { print(DiagnosticRenderer.render(all: all)) }
            var failed = 0
            for r in results {
                let tag = r.passed ? "PASS" : "FAIL"
                print("\(tag) \(r.ruleId ?? r.ruleFile) — \(r.testCase.expectMatch ? "match" : "no_match"): \(r.testCase.name) (\(r.testCase.location))")
                if let d = r.detail, !r.passed { print("     \(d)") }
                if !r.passed { failed += 1 }
            }
            print("\(results.count - failed) passed, \(failed) failed")
            if failed > 0 || all.contains(where: { $0.level == .error }) { throw ExitCode(1) }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the compiled plan of one rule: index keys, field paths, matcher tree.")
        @OptionGroup var common: Common
        @Argument(help: "Rule id (or title).") var id: String
        @Option(name: .long, help: "Rules directory (default: detections/).") var rules: [String] = []

        func run() throws {
            let paths = rules.isEmpty ? ["detections"] : rules
            let (map, _) = common.loadFieldMap(rulePaths: paths)
            let (set, _) = RuleLoader.load(paths: paths, placeholders: common.placeholders)
            let (compiled, diags) = Compiler.compile(set, fieldMap: map)
            if let c = compiled.correlations.correlation(id: id) { print(compiled.explain(c), terminator: ""); return }
            guard let rule = compiled.rule(id: id) ?? compiled.rules.first(where: { $0.title.lowercased() == id.lowercased() }) else {
                let related = diags.filter { $0.message.contains(id) }
                if !related.isEmpty { print(DiagnosticRenderer.render(all: related)) }
                throw ValidationError("no compiled rule with id or title '\(id)'")
            }
            print(compiled.explain(rule), terminator: "")
        }
    }

    /// `vigil rules coverage`: baseline areas and controls against the rules (`vigil.baseline`) that guard them.
    struct Coverage: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Baseline areas × MCSB controls × the rules guarding them; gaps and process-only controls marked.")
        @Option(name: .long, help: "Rules directory or file (repeatable; default: detections/).") var rules: [String] = []
        @Option(name: .long, help: "Output: text or json.") var format: Format = .text

        enum Format: String, ExpressibleByArgument { case text, json }

        func run() throws {
            let paths = rules.isEmpty ? ["detections"] : rules
            for p in paths where !FileManager.default.fileExists(atPath: p) { throw ValidationError("no rules at \(p)") }
            let (set, diags) = RuleLoader.load(paths: paths)
            let errors = diags.filter { $0.level == .error }
            if !errors.isEmpty { FileHandle.standardError.write(Data((DiagnosticRenderer.render(all: errors) + "\n").utf8)) }
            var entries: [CoverageMatrix.Rule] = []
            for r in set.rules {
                guard let area = r.vigil.baselineArea else { continue }
                entries.append(.init(id: r.id?.value ?? r.title, title: r.title, area: area, controls: r.vigil.baselineControls, file: r.file))
            }
            for r in set.anomalyRules {
                guard let area = r.baselineArea else { continue }
                entries.append(.init(id: r.id, title: r.title, area: area, controls: r.baselineControls))
            }
            let matrix = CoverageMatrix(rules: entries)
            switch format {
            case .text: print(matrix.renderText(), terminator: "")
            case .json: print(Self.json(matrix))
            }
        }

        /// `{"summary":…, "areas":[{"name":…, "controls":[{"id","title","status","rules":[{"id","title"}]}]}]}`
        static func json(_ m: CoverageMatrix) -> String {
            let areas: [[String: Any]] = m.areas.map { a in
                ["name": a.name, "controls": a.controls.map { c -> [String: Any] in
                    ["id": c.id, "title": c.title, "status": c.status.rawValue, "visibleInLogs": c.visibleInLogs,
                     "rules": c.rules.map { ["id": $0.id, "title": $0.title] }]
                }]
            }
            let object: [String: Any] = ["summary": m.summaryLine, "rules": m.rules.count, "areas": areas]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Micro-benchmark of the engine alone: synthetic events × generated rule sets.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Engine micro-benchmark (synthetic events, generated rules).", shouldDisplay: false)
        @Option var events = 100_000
        @Option var rules = "10,100,1000"

        func run() throws {
            let sizes = rules.split(separator: ",").compactMap { Int($0) }
            let evs = EngineBench.events(count: events)
            var base: Double?
            for n in sizes {
                let set = EngineBench.ruleSet(count: n)
                let engine = Engine(rules: set)
                let t0 = DispatchTime.now().uptimeNanoseconds
                var alerts = 0
                for e in evs { alerts += engine.matchingRules(e).count }
                let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                if base == nil { base = secs }
                let s = engine.stats
                print("rules=\(n) events=\(evs.count) time=\(String(format: "%.3f", secs))s rate=\(Int(Double(evs.count) / secs))/s ratio=\(String(format: "%.2f", secs / base!)) alerts=\(alerts) rulesEvaluated=\(s.rulesEvaluated) predicates=\(s.predicatesEvaluated)")
            }
        }
    }
}
