// Reads `vigil_rule: anomaly` YAML documents. Every problem is a located Diagnostic (file:line:col);
// the parser reports all of them and keeps every rule that had no error.
import EventModel
import Yams

public enum AnomalyRuleParser {
    public struct Result: Sendable {
        public var rules: [AnomalyRule] = []
        public var diagnostics: [Diagnostic] = []
        public var hasErrors: Bool { diagnostics.contains { $0.level == .error } }
    }

    static let topKeys: Set<String> = [
        "vigil_rule", "id", "title", "description", "level", "tags", "status", "author", "date", "modified",
        "references", "falsepositives", "anomaly", "vigil",
    ]
    static let anomalyKeys: Set<String> = ["kind", "subject", "scope", "learning_days", "operations", "categories", "events", "threshold"]
    static let thresholdKeys: Set<String> = [
        "ipv4_prefix", "ipv6_prefix", "max_share", "tolerance_hours", "min_events", "factor", "minimum", "history_days",
    ]
    static let vigilKeys: Set<String> = ["entities", "baseline"]

    /// True when the text declares `vigil_rule: anomaly` (so a Sigma loader can leave it to us).
    public static func isAnomalyRule(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            let t = line.drop(while: { $0 == " " })
            return t.hasPrefix("vigil_rule:") && t.dropFirst("vigil_rule:".count).trimmingCharacters() == "anomaly"
        }
    }

    /// Parses every YAML document in `text`; documents without `vigil_rule: anomaly` are skipped.
    public static func parse(_ text: String, file: String) -> Result {
        var result = Result()
        var nodes: [Node] = []
        do {
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() { nodes.append(node) }
        } catch let error as YamlError {
            result.diagnostics.append(yamlDiagnostic(error, file: file))
        } catch {
            result.diagnostics.append(Diagnostic(.error, code: "rule.yaml", "\(error)", at: SourceLocation(file: file, line: 1, column: 1)))
        }
        for node in nodes {
            var ctx = Context(file: file)
            if let rule = ctx.rule(node) { result.rules.append(rule) }
            result.diagnostics.append(contentsOf: ctx.diagnostics)
        }
        return result
    }

    static func yamlDiagnostic(_ error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return Diagnostic(.error, code: "rule.yaml", "invalid YAML: \(problem)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
        default:
            return Diagnostic(.error, code: "rule.yaml", "invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    struct Context {
        let file: String
        var diagnostics: [Diagnostic] = []
        var failed = false

        init(file: String) { self.file = file }

        func loc(_ node: Node?) -> SourceLocation {
            SourceLocation(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
        }

        mutating func error(_ code: String, _ message: String, _ node: Node?) {
            failed = true
            diagnostics.append(Diagnostic(.error, code: code, message, at: loc(node)))
        }

        mutating func warning(_ code: String, _ message: String, _ node: Node?) {
            diagnostics.append(Diagnostic(.warning, code: code, message, at: loc(node)))
        }

        /// Members of a mapping, warning about keys not in `known`.
        mutating func members(_ node: Node, known: Set<String>, what: String) -> [String: (key: Node, value: Node)] {
            guard let mapping = node.mapping else {
                error("rule.type", "\(what) must be a mapping", node)
                return [:]
            }
            var out: [String: (Node, Node)] = [:]
            for (k, v) in mapping {
                guard let name = k.string else { error("rule.type", "\(what): keys must be strings", k); continue }
                if !known.contains(name) {
                    warning("rule.unknown-key", "unknown key '\(name)' in \(what) (known: \(known.sorted().joined(separator: ", ")))", k)
                }
                out[name] = (k, v)
            }
            return out
        }

        mutating func string(_ m: [String: (key: Node, value: Node)], _ name: String, required: Bool, in what: String, at node: Node) -> String? {
            guard let (_, v) = m[name] else {
                if required { error("rule.missing-field", "\(what) needs '\(name)'", node) }
                return nil
            }
            guard let s = v.scalar?.string, !s.isEmpty else {
                error("rule.type", "'\(name)' must be a non-empty string", v)
                return nil
            }
            return s
        }

        mutating func strings(_ m: [String: (key: Node, value: Node)], _ name: String) -> [String] {
            guard let (_, v) = m[name] else { return [] }
            if let s = v.scalar?.string { return [s] }
            guard let seq = v.sequence else { error("rule.type", "'\(name)' must be a string or a list of strings", v); return [] }
            var out: [String] = []
            for item in seq {
                guard let s = item.scalar?.string else { error("rule.type", "'\(name)' items must be strings", item); continue }
                out.append(s)
            }
            return out
        }

        mutating func int(_ m: [String: (key: Node, value: Node)], _ name: String, range: ClosedRange<Int>) -> Int? {
            guard let (_, v) = m[name] else { return nil }
            guard let i = v.scalar.flatMap({ Int($0.string) }), range.contains(i) else {
                error("rule.bad-value", "'\(name)' must be a whole number in \(range.lowerBound)…\(range.upperBound)", v)
                return nil
            }
            return i
        }

        mutating func double(_ m: [String: (key: Node, value: Node)], _ name: String, range: ClosedRange<Double>) -> Double? {
            guard let (_, v) = m[name] else { return nil }
            guard let d = v.scalar.flatMap({ Double($0.string) }), range.contains(d) else {
                error("rule.bad-value", "'\(name)' must be a number in \(range.lowerBound)…\(range.upperBound)", v)
                return nil
            }
            return d
        }

        mutating func rule(_ root: Node) -> AnomalyRule? {
            guard let mapping = root.mapping else { return nil }
            guard mapping["vigil_rule"]?.string == "anomaly" else { return nil }
            let top = members(root, known: AnomalyRuleParser.topKeys, what: "rule")
            let id = string(top, "id", required: true, in: "rule", at: root)
            let title = string(top, "title", required: true, in: "rule", at: root)
            let description = string(top, "description", required: false, in: "rule", at: root)
            var level = Severity.medium
            if let (_, v) = top["level"] {
                if let s = v.string, let l = Severity(lenient: s) { level = l } else {
                    error("rule.bad-value", "'level' must be informational, low, medium, high or critical", v)
                }
            }
            let tags = strings(top, "tags")
            if let (_, v) = top["tags"] {
                for (i, t) in tags.enumerated() where !t.lowercased().hasPrefix("attack.") {
                    warning("rule.tag", "tag '\(t)' is not an attack.* tag", v.sequence.map { $0[i] } ?? v)
                }
            }
            guard let (_, anomalyNode) = top["anomaly"] else {
                error("rule.missing-field", "rule needs an 'anomaly' block", root)
                return nil
            }
            let a = members(anomalyNode, known: AnomalyRuleParser.anomalyKeys, what: "anomaly")
            var kind: AnomalyRule.Kind?
            if let k = string(a, "kind", required: true, in: "anomaly", at: anomalyNode) {
                kind = AnomalyRule.Kind(rawValue: k)
                if kind == nil {
                    error("rule.unknown-anomaly-kind",
                          "unknown anomaly kind '\(k)' (known: \(AnomalyRule.Kind.allCases.map(\.rawValue).joined(separator: ", ")))", a["kind"]?.value)
                }
            }
            let subject = string(a, "subject", required: false, in: "anomaly", at: anomalyNode) ?? "vigil.caller"
            var scope = AnomalyRule.Scope.workspace
            if let s = string(a, "scope", required: false, in: "anomaly", at: anomalyNode) {
                switch s.lowercased() {
                case "workspace": scope = .workspace
                case "global", "none": scope = .global
                default: scope = .path(s)
                }
            }
            let learningDays = int(a, "learning_days", range: 0...3650) ?? 14
            let operations = strings(a, "operations").map { $0.lowercased() }
            let categories = strings(a, "categories").map { $0.lowercased() }
            var kinds = AnomalyRule.defaultEventKinds
            if a["events"] != nil {
                kinds = []
                for name in strings(a, "events") {
                    if let k = EventKind.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) {
                        kinds.insert(k)
                    } else {
                        error("rule.bad-value", "unknown event kind '\(name)' (known: \(EventKind.allCases.map(\.rawValue).joined(separator: ", ")))", a["events"]?.value)
                    }
                }
            }
            var t = AnomalyRule.Thresholds()
            if let (_, tn) = a["threshold"] {
                let tm = members(tn, known: AnomalyRuleParser.thresholdKeys, what: "threshold")
                t.ipv4Prefix = int(tm, "ipv4_prefix", range: 1...32) ?? t.ipv4Prefix
                t.ipv6Prefix = int(tm, "ipv6_prefix", range: 1...128) ?? t.ipv6Prefix
                t.maxShare = double(tm, "max_share", range: 0...1) ?? t.maxShare
                t.toleranceHours = int(tm, "tolerance_hours", range: 0...12) ?? t.toleranceHours
                t.minEvents = int(tm, "min_events", range: 1...10_000_000) ?? t.minEvents
                t.factor = double(tm, "factor", range: 1...1_000_000) ?? t.factor
                t.minimum = int(tm, "minimum", range: 1...100_000_000) ?? t.minimum
                t.historyDays = int(tm, "history_days", range: 1...60) ?? t.historyDays
            }
            if kind == .firstSensitiveOperation, operations.isEmpty {
                error("rule.missing-field", "first_sensitive_operation needs 'operations'", anomalyNode)
            }
            if kind == .volumeSpike, operations.isEmpty, categories.isEmpty {
                error("rule.missing-field", "volume_spike needs 'operations' or 'categories' (what to count)", anomalyNode)
            }

            var entities: [(kind: Entity.Kind, path: String)] = []
            var area: String?
            var controls: [String] = []
            if let (_, vn) = top["vigil"] {
                let vm = members(vn, known: AnomalyRuleParser.vigilKeys, what: "vigil")
                if let (_, en) = vm["entities"] { entities = entityList(en) }
                if let (_, bn) = vm["baseline"] {
                    let bm = members(bn, known: ["area", "controls"], what: "vigil.baseline")
                    area = string(bm, "area", required: false, in: "vigil.baseline", at: bn)
                    controls = strings(bm, "controls")
                }
            }
            if entities.isEmpty {
                entities = [(.account, subject), (.ip, "vigil.callerip"), (.azureResource, "vigil.resource.id")]
            }
            guard !failed, let id, let title, let kind else { return nil }
            return AnomalyRule(id: id, title: title, description: description, level: level, tags: tags, kind: kind,
                               subject: subject, scope: scope, learningDays: learningDays, operations: operations,
                               categories: categories, eventKinds: kinds, thresholds: t, entities: entities,
                               baselineArea: area, baselineControls: controls, file: file, location: loc(root))
        }

        /// `{Account: vigil.caller, IP: vigil.callerip}` or `[{Account: vigil.caller}, …]`.
        mutating func entityList(_ node: Node) -> [(kind: Entity.Kind, path: String)] {
            var pairs: [(Node, Node)] = []
            if let m = node.mapping {
                pairs = m.map { ($0.key, $0.value) }
            } else if let seq = node.sequence {
                for item in seq {
                    guard let m = item.mapping else { error("rule.type", "each entity must be a 'Kind: path' mapping", item); continue }
                    for (k, v) in m { pairs.append((k, v)) }
                }
            } else {
                error("rule.type", "'entities' must map entity kinds to event paths", node)
            }
            var out: [(kind: Entity.Kind, path: String)] = []
            for (k, v) in pairs {
                guard let name = k.string, let kind = Entity.Kind(lenient: name) else {
                    error("rule.unknown-entity", "unknown entity kind '\(k.string ?? "?")' (known: \(Entity.Kind.allCases.map(\.rawValue).joined(separator: ", ")))", k)
                    continue
                }
                guard let path = v.string, !path.isEmpty else { error("rule.type", "entity path must be a string", v); continue }
                out.append((kind, path))
            }
            return out
        }
    }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\"" || f == "'" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\"" || l == "'" { s = s.dropLast() }
        return s
    }
}
