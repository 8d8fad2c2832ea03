// YAML files → `ParsedRule`s, with every problem reported (never the first one only).
//
// What the loader checks: YAML syntax, required keys and their types, the condition (syntax,
// undefined and unused selections), `%placeholder%` expansion, the `vigil:` block, duplicate ids,
// and multi-document files (`action: global | reset | repeat`). What it leaves to the compiler:
// modifiers, field names, regexes, CIDRs: everything that depends on the field map or lowering.
import EventModel
import Foundation

public enum RuleLoader {
    /// Loads rule files and directories (recursively: `*.yml`/`*.yaml`, except `*.tests.yml`
    /// and `fieldmap.yml`). `placeholders` gives the values `|expand` substitutes for `%name%`.
    public static func load(paths: [String], placeholders: [String: [String]] = [:]) -> (RuleSet, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var rules: [ParsedRule] = []
        var anomalies: [AnomalyRule] = []
        for file in ruleFiles(paths, diagnostics: &diagnostics) {
            guard let data = FileManager.default.contents(atPath: file) else {
                diagnostics.append(Diagnostic(.error, code: "rule.unreadable", "cannot read file", at: SourceLocation(file: file)))
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            // Anomaly rules are Vigil's own rule type, not Sigma: their parser owns them.
            if AnomalyRuleParser.isAnomalyRule(text) {
                let result = AnomalyRuleParser.parse(text, file: file)
                anomalies += result.rules
                diagnostics += result.diagnostics
                continue
            }
            let (r, d) = parse(text: text, file: file, placeholders: placeholders)
            rules += r
            diagnostics += d
        }
        diagnostics += duplicateIds(rules)
        return (RuleSet(rules: rules, anomalyRules: anomalies), diagnostics)
    }

    /// Parses one file's text (every YAML document in it).
    public static func parse(text: String, file: String, placeholders: [String: [String]] = [:]) -> ([ParsedRule], [Diagnostic]) {
        var diags: [Diagnostic] = []
        let docs: [YAMLTree]
        do {
            docs = try YAMLTree.documents(text)
        } catch {
            return ([], [Diagnostic(.error, code: "rule.yaml-syntax", error.message, at: SourceLocation(file: file, line: error.line, column: error.column))])
        }
        var out: [ParsedRule] = []
        var global: YAMLTree?
        var previous: YAMLTree?
        for (index, doc) in docs.enumerated() {
            guard doc.mapping != nil else {
                diags.append(Diagnostic(.error, code: "rule.invalid-value", "a rule document must be a mapping, found \(doc.kindName)", at: doc.location(file)))
                continue
            }
            var effective = doc
            if let action = doc["action"] {
                switch action.scalar?.lowercased() {
                case "global":
                    global = YAMLTree.removing("action", from: doc)
                    continue
                case "reset":
                    global = nil
                    continue
                case "repeat":
                    guard let prev = previous else {
                        diags.append(Diagnostic(.error, code: "rule.invalid-value", "'action: repeat' needs a previous document", at: action.location(file)))
                        continue
                    }
                    effective = YAMLTree.merge(prev, YAMLTree.removing("action", from: doc))
                default:
                    diags.append(Diagnostic(.error, code: "rule.invalid-value", "unknown action '\(action.scalar ?? action.kindName)' (global, reset or repeat)", at: action.location(file)))
                    continue
                }
            } else if let g = global {
                effective = YAMLTree.merge(g, doc)
            }
            previous = effective
            var p = DocumentParser(file: file, placeholders: placeholders)
            if let rule = p.parse(effective, index: index) { out.append(rule) }
            out += p.extra
            diags += p.diagnostics
        }
        return (out, diags)
    }

    static func ruleFiles(_ paths: [String], diagnostics: inout [Diagnostic]) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                diagnostics.append(Diagnostic(.error, code: "rule.unreadable", "no such file or directory", at: SourceLocation(file: path)))
                continue
            }
            if !isDir.boolValue { out.append(path); continue }
            guard let e = fm.enumerator(atPath: path) else { continue }
            var found: [String] = []
            for case let rel as String in e {
                let name = (rel as NSString).lastPathComponent
                if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                guard name.hasSuffix(".yml") || name.hasSuffix(".yaml") else { continue }
                if isAuxiliary(name) { continue }
                found.append(path.hasSuffix("/") ? path + rel : path + "/" + rel)
            }
            out += found.sorted()
        }
        return out
    }

    /// Files in a rules directory that are not rules: tests beside rules and the field map.
    public static func isAuxiliary(_ name: String) -> Bool {
        name.hasSuffix(".tests.yml") || name.hasSuffix(".tests.yaml") || name == "fieldmap.yml" || name == "fieldmap.yaml"
    }

    static func duplicateIds(_ rules: [ParsedRule]) -> [Diagnostic] {
        var first: [String: SourceLocation] = [:]
        var out: [Diagnostic] = []
        for r in rules {
            guard let id = r.id else { continue }
            let key = id.value.lowercased()
            if let prev = first[key] {
                out.append(Diagnostic(.error, code: "rule.duplicate-id", "id '\(id.value)' is already used at \(prev)", at: id.location))
            } else {
                first[key] = id.location
            }
        }
        return out
    }
}

extension YAMLTree {
    static func removing(_ key: String, from doc: YAMLTree) -> YAMLTree {
        var d = doc
        if let m = doc.mapping { d.value = .mapping(m.filter { $0.key.scalar != key }) }
        return d
    }

    /// Deep merge for `action: global`: mappings merge key by key, `b` wins for everything else.
    static func merge(_ a: YAMLTree, _ b: YAMLTree) -> YAMLTree {
        guard let ma = a.mapping, let mb = b.mapping else { return b }
        var pairs = ma
        for (k, v) in mb {
            if let i = pairs.firstIndex(where: { $0.key.scalar == k.scalar }) {
                pairs[i] = (k, merge(pairs[i].value, v))
            } else {
                pairs.append((k, v))
            }
        }
        var out = b
        out.value = .mapping(pairs)
        return out
    }
}

/// Parses one (merged) document. Collects diagnostics instead of stopping.
struct DocumentParser {
    let file: String
    let placeholders: [String: [String]]
    var diagnostics: [Diagnostic] = []
    /// Documents a document turned into besides itself (a Sigma 1 aggregation's correlation).
    var extra: [ParsedRule] = []
    /// The Sigma 1 aggregation of the condition being parsed, and where the condition is.
    var aggregation: (Sigma1Aggregation, YAMLTree)?
    /// The text after `|` was not an aggregation (already reported).
    var aggregationUnreadable = false

    init(file: String, placeholders: [String: [String]]) {
        self.file = file
        self.placeholders = placeholders
    }

    mutating func error(_ code: String, _ message: String, _ node: YAMLTree) {
        diagnostics.append(Diagnostic(.error, code: code, message, at: node.location(file)))
    }

    mutating func warning(_ code: String, _ message: String, _ node: YAMLTree) {
        diagnostics.append(Diagnostic(.warning, code: code, message, at: node.location(file)))
    }

    /// Location `offset` characters into a scalar's text (quoted scalars start one column later).
    func location(in node: YAMLTree, offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: node.line, column: node.column + (node.quoted ? 1 : 0) + offset)
    }

    mutating func string(_ doc: YAMLTree, _ key: String, required: Bool) -> Located<String>? {
        guard let node = doc[key] else {
            if required { error("rule.missing-key", "missing required key '\(key)'", doc) }
            return nil
        }
        guard let s = node.scalar, node.scalarKind != .null else {
            error("rule.invalid-value", "'\(key)' must be a string, found \(node.kindName)", node)
            return nil
        }
        return Located(s, at: location(in: node, offset: 0))
    }

    mutating func parse(_ doc: YAMLTree, index: Int) -> ParsedRule? {
        let kind: ParsedRule.Kind = doc["correlation"] != nil ? .correlation : doc["filter"] != nil ? .filter : .rule
        let title = string(doc, "title", required: true)
        let id = string(doc, "id", required: false)
        if id == nil, kind != .filter {
            warning("rule.missing-id", "rule has no 'id': alerts will use its title as the rule id", doc)
        }
        let name = string(doc, "name", required: false)
        let status = string(doc, "status", required: false)
        let description = string(doc, "description", required: false)
        let level = string(doc, "level", required: false)
        if let level, Severity(lenient: level.value) == nil {
            diagnostics.append(Diagnostic(.error, code: "rule.invalid-value", "unknown level '\(level.value)' (informational, low, medium, high, critical)", at: level.location))
        }
        var tags: [Located<String>] = []
        if let t = doc["tags"] {
            if let seq = t.sequence {
                for item in seq {
                    if let s = item.scalar { tags.append(Located(s, at: location(in: item, offset: 0))) } else { error("rule.invalid-value", "a tag must be a string", item) }
                }
            } else {
                error("rule.invalid-value", "'tags' must be a list of strings, found \(t.kindName)", t)
            }
        }
        let falsepositives = doc["falsepositives"]?.stringList ?? []

        var logsource = SigmaLogSource(product: nil, service: nil, category: nil, location: doc.location(file))
        if let ls = doc["logsource"] {
            if ls.mapping != nil {
                logsource = SigmaLogSource(product: ls["product"]?.scalar, service: ls["service"]?.scalar, category: ls["category"]?.scalar, location: ls.location(file))
                if let def = ls["definition"], def.scalar == nil { error("rule.invalid-value", "'logsource.definition' must be a string", def) }
            } else {
                error("rule.invalid-value", "'logsource' must be a mapping, found \(ls.kindName)", ls)
            }
        } else if kind != .correlation {
            error("rule.missing-key", "missing required key 'logsource'", doc)
        }

        var selections: [SigmaSelection] = []
        var condition: ConditionExpr?
        var conditionText = ""
        var filter: SigmaFilter?
        var correlation: SigmaCorrelation?
        var timeframe: (key: YAMLTree, value: YAMLTree)?

        switch kind {
        case .rule:
            if let det = doc["detection"] {
                if let m = det.mapping {
                    for (k, v) in m {
                        guard let name = k.scalar else { error("rule.invalid-value", "selection names must be strings", k); continue }
                        if name == "condition" { continue }
                        if name == "timeframe" { timeframe = (k, v); continue }
                        if let s = selection(name: name, key: k, value: v) { selections.append(s) }
                    }
                    if let c = det["condition"] {
                        (condition, conditionText) = parseCondition(c, selections: selections, allowAggregation: true)
                        if let condition { warnUnused(selections, condition) }
                        checkAggregation(timeframe: timeframe)
                    } else {
                        error("rule.missing-key", "missing required key 'condition' in 'detection'", det)
                    }
                } else {
                    error("rule.invalid-value", "'detection' must be a mapping, found \(det.kindName)", det)
                }
            } else {
                error("rule.missing-key", "missing required key 'detection'", doc)
            }
        case .filter:
            filter = parseFilter(doc["filter"]!)
        case .correlation:
            correlation = parseCorrelation(doc["correlation"]!)
        }

        var vigil = VigilExtension()
        if let v = doc["vigil"] { vigil = parseVigil(v) }

        guard let title else { return nil }
        var rule = ParsedRule(kind: kind, file: file, document: index, location: doc.location(file), id: id, name: name?.value,
                          title: title.value, status: status?.value, description: description?.value, level: level,
                          tags: tags, falsepositives: falsepositives, logsource: logsource, selections: selections,
                          condition: condition, conditionText: conditionText, filter: filter, correlation: correlation, vigil: vigil)
        rule.isValid = !diagnostics.contains { $0.level == .error }
        if rule.isValid, let (agg, node) = aggregation, let tf = timeframe?.value.scalar {
            return splitAggregation(rule, agg, conditionNode: node, timeframe: tf)
        }
        return rule
    }

    /// After the condition: a timeframe needs an aggregation, an aggregation needs a timeframe and
    /// a function a correlation can express.
    mutating func checkAggregation(timeframe: (key: YAMLTree, value: YAMLTree)?) {
        guard let (agg, node) = aggregation else {
            // Older SigmaHQ rules carry one; pySigma ignores it too. Refusing would drop a rule that
            // matches single events as written.
            if let tf = timeframe, !aggregationUnreadable {
                warning("rule.ignored-timeframe",
                        "'detection.timeframe' without an aggregation ('| count() by … > n') is ignored: the rule matches single events; for a count over a window write a correlation rule with 'timespan'",
                        tf.key)
            }
            return
        }
        if agg.correlationType == nil {
            diagnostics.append(Diagnostic(.error, code: "rule.unsupported-feature", "aggregation '\(agg.function)()' has no correlation equivalent (count, sum and avg do): write a correlation rule", at: location(in: node, offset: agg.pipeOffset)))
        }
        guard let tf = timeframe else {
            diagnostics.append(Diagnostic(.error, code: "rule.unsupported-feature", "aggregation '| \(agg.function)(…)' needs 'detection.timeframe' (the window it counts in)", at: location(in: node, offset: agg.pipeOffset)))
            return
        }
        if tf.value.scalar == nil { error("rule.invalid-value", "'detection.timeframe' must be a duration like 10m", tf.value) }
    }

    /// The rule as its search part (`<key>-events`, alerts only through the correlation) plus the
    /// correlation that counts it, which keeps the rule's id, title, level and tags.
    mutating func splitAggregation(_ rule: ParsedRule, _ agg: Sigma1Aggregation, conditionNode: YAMLTree, timeframe: String) -> ParsedRule {
        var base = rule
        let baseKey = rule.key + "-events"
        let at = location(in: conditionNode, offset: agg.pipeOffset)
        base.id = Located(baseKey, at: rule.id?.location ?? rule.location)
        base.name = nil
        base.title = rule.title + " (events)"
        var corr = rule
        corr.kind = .correlation
        corr.selections = []
        corr.condition = nil
        let node = agg.correlationNode(baseRule: baseKey, timespan: timeframe, line: at.line ?? conditionNode.line, column: at.column ?? conditionNode.column)
        corr.correlation = SigmaCorrelation(type: Located(agg.correlationType ?? agg.function, at: at), rules: [Located(baseKey, at: at)],
                                            groupBy: agg.groupBy, timespan: Located(timeframe, at: at), conditionText: node["condition"]?.jsonText,
                                            location: at, node: node)
        extra.append(corr)
        return base
    }

    mutating func parseCondition(_ c: YAMLTree, selections: [SigmaSelection], allowAggregation: Bool = false) -> (ConditionExpr?, String) {
        let names = selections.map(\.name)
        var nodes: [YAMLTree] = []
        if c.scalar != nil, c.scalarKind == .string { nodes = [c] }
        else if let seq = c.sequence, !seq.isEmpty, seq.allSatisfy({ $0.scalar != nil }) { nodes = seq }
        else {
            error("rule.invalid-value", "'condition' must be a string (or a list of strings), found \(c.kindName)", c)
            return (nil, "")
        }
        var exprs: [ConditionExpr] = []
        aggregation = nil
        for node in nodes {
            var text = node.scalar!
            // `search | count(x) by y > n` (Sigma 1): the search is the condition, the rest a correlation.
            if allowAggregation, nodes.count == 1, text.contains("|") {
                let parts = Sigma1Aggregation.split(text)
                if let (message, offset) = parts.error {
                    aggregationUnreadable = true
                    diagnostics.append(Diagnostic(.error, code: "rule.condition-syntax", message, at: location(in: node, offset: offset)))
                    return (nil, "")
                }
                if let agg = parts.aggregation {
                    aggregation = (agg, node)
                    text = parts.search
                }
            }
            var parser = ConditionParser(text, selections: names)
            do {
                exprs.append(try parser.parse { self.location(in: node, offset: $0) })
            } catch {
                diagnostics.append(Diagnostic(.error, code: error.code, error.message, at: location(in: node, offset: error.offset)))
            }
        }
        guard exprs.count == nodes.count else { return (nil, "") }
        let text = nodes.map { $0.scalar! }.joined(separator: " or ")
        return (exprs.count == 1 ? exprs[0] : .or(exprs), text)
    }

    mutating func warnUnused(_ selections: [SigmaSelection], _ condition: ConditionExpr) {
        let used = Set(condition.referencedSelections)
        for s in selections where !used.contains(s.name) {
            diagnostics.append(Diagnostic(.warning, code: "rule.unused-selection", "selection '\(s.name)' is not used by the condition", at: s.location))
        }
    }

    mutating func selection(name: String, key: YAMLTree, value: YAMLTree) -> SigmaSelection? {
        let loc = key.location(file)
        switch value.value {
        case .mapping:
            guard let items = fieldMap(value) else { return nil }
            return SigmaSelection(name: name, location: loc, body: .fieldMaps([items]))
        case .sequence(let seq):
            if seq.isEmpty {
                error("rule.invalid-value", "selection '\(name)' is an empty list", value)
                return nil
            }
            if seq.allSatisfy({ $0.mapping != nil }) {
                var maps: [[SigmaFieldItem]] = []
                for m in seq { if let items = fieldMap(m) { maps.append(items) } }
                guard maps.count == seq.count else { return nil }
                return SigmaSelection(name: name, location: loc, body: .fieldMaps(maps))
            }
            if seq.allSatisfy({ $0.scalar != nil }) {
                return SigmaSelection(name: name, location: loc, body: .keywords(seq.map(sigmaValue)))
            }
            error("rule.invalid-value", "selection '\(name)' mixes maps and plain values in one list", value)
            return nil
        case .scalar:
            return SigmaSelection(name: name, location: loc, body: .keywords([sigmaValue(value)]))
        }
    }

    func sigmaValue(_ node: YAMLTree) -> SigmaValue {
        let kind: SigmaValue.Kind
        switch node.scalarKind {
        case .int?, .float?: kind = .number
        case .bool?: kind = .bool
        case .null?: kind = .null
        default: kind = .string
        }
        return SigmaValue(kind: kind, text: node.scalar ?? "", location: location(in: node, offset: 0))
    }

    mutating func fieldMap(_ node: YAMLTree) -> [SigmaFieldItem]? {
        var items: [SigmaFieldItem] = []
        var ok = true
        for (k, v) in node.mapping! {
            guard let keyText = k.scalar else { error("rule.invalid-value", "field names must be strings", k); ok = false; continue }
            let parts = keyText.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            var modifiers: [Located<String>] = []
            var offset = parts[0].count
            for m in parts.dropFirst() {
                modifiers.append(Located(m, at: location(in: k, offset: offset + 1)))
                offset += m.count + 1
            }
            var values: [SigmaValue] = []
            var wasList = false
            switch v.value {
            case .scalar: values = [sigmaValue(v)]
            case .sequence(let seq):
                wasList = true
                for item in seq {
                    if item.scalar != nil { values.append(sigmaValue(item)) } else {
                        error("rule.invalid-value", "values of '\(keyText)' must be scalars, found \(item.kindName)", item); ok = false
                    }
                }
            case .mapping:
                error("rule.invalid-value", "value of '\(keyText)' must be a scalar or a list, found a mapping", v); ok = false
                continue
            }
            if modifiers.contains(where: { $0.value == "expand" }) {
                values = expand(values, key: keyText)
            }
            items.append(SigmaFieldItem(field: parts[0], fieldLocation: location(in: k, offset: 0), modifiers: modifiers, values: values, valuesWereList: wasList))
        }
        return ok ? items : nil
    }

    /// Replaces every `%name%` with each configured value (a value list multiplies).
    mutating func expand(_ values: [SigmaValue], key: String) -> [SigmaValue] {
        var out: [SigmaValue] = []
        for v in values {
            var partial: [String] = [""]
            let chars = Array(v.text)
            var i = 0
            var failed = false
            while i < chars.count {
                if chars[i] == "%", let close = chars[(i + 1)...].firstIndex(of: "%"), close > i + 1 {
                    let name = String(chars[(i + 1)..<close])
                    if let values = placeholders[name] {
                        partial = partial.flatMap { p in values.map { p + $0 } }
                    } else {
                        var loc = v.location
                        loc.column = (loc.column ?? 1) + i
                        diagnostics.append(Diagnostic(.error, code: "rule.placeholder-without-value", "placeholder '%\(name)%' of '\(key)' has no value: set placeholders.\(name) in the configuration", at: loc))
                        failed = true
                    }
                    i = close + 1
                } else {
                    partial = partial.map { $0 + String(chars[i]) }
                    i += 1
                }
            }
            if failed { continue }
            for p in partial {
                var e = v
                e.text = p
                e.kind = .string
                e.expanded = true
                out.append(e)
            }
        }
        return out
    }

    mutating func parseFilter(_ node: YAMLTree) -> SigmaFilter? {
        guard let m = node.mapping else {
            error("rule.invalid-value", "'filter' must be a mapping, found \(node.kindName)", node)
            return nil
        }
        var targets: [Located<String>] = []
        if let r = node["rules"] {
            let items = r.sequence ?? [r]
            for i in items {
                if let s = i.scalar { targets.append(Located(s, at: location(in: i, offset: 0))) } else { error("rule.invalid-value", "'filter.rules' entries must be rule ids or names", i) }
            }
        } else {
            error("rule.missing-key", "missing required key 'rules' in 'filter'", node)
        }
        var selections: [SigmaSelection] = []
        for (k, v) in m {
            guard let name = k.scalar, name != "rules", name != "condition" else { continue }
            if let s = selection(name: name, key: k, value: v) { selections.append(s) }
        }
        guard let c = node["condition"] else {
            error("rule.missing-key", "missing required key 'condition' in 'filter'", node)
            return nil
        }
        let (cond, _) = parseCondition(c, selections: selections)
        guard let cond else { return nil }
        warnUnused(selections, cond)
        return SigmaFilter(rules: targets, selections: selections, condition: cond, location: node.location(file))
    }

    mutating func parseCorrelation(_ node: YAMLTree) -> SigmaCorrelation? {
        guard node.mapping != nil else {
            error("rule.invalid-value", "'correlation' must be a mapping, found \(node.kindName)", node)
            return nil
        }
        guard let type = string(node, "type", required: true) else { return nil }
        let known = ["event_count", "value_count", "value_sum", "value_avg", "temporal", "temporal_ordered"]
        // pySigma's own types beyond the spec: real rules, not typos, so name them as unsupported.
        if ["value_percentile", "value_median"].contains(type.value) {
            diagnostics.append(Diagnostic(.error, code: "rule.unsupported-feature", "correlation type '\(type.value)' (a pySigma extension) is not supported: Vigil runs \(known.joined(separator: ", "))", at: type.location))
        } else if !known.contains(type.value) {
            diagnostics.append(Diagnostic(.error, code: "rule.invalid-value", "unknown correlation type '\(type.value)' (\(known.joined(separator: ", ")))", at: type.location))
        }
        warnUnknownCorrelationKeys(node)
        var rules: [Located<String>] = []
        if let r = node["rules"] {
            for i in r.sequence ?? [r] {
                if let s = i.scalar { rules.append(Located(s, at: location(in: i, offset: 0))) } else {
                    error("rule.invalid-value", "'correlation.rules' entries must be rule ids or names, found \(i.kindName)", i)
                }
            }
        } else if let c = node["condition"], let expression = c.scalar {
            // pySigma's extended temporal form: a boolean expression over rule names, no `rules`.
            error("rule.unsupported-feature",
                  "a correlation condition written as an expression over rules ('\(expression)', a pySigma extension) is not supported: list the rules in 'rules' (temporal: all of them, or 'condition: {gte: n}')",
                  c)
        } else {
            error("rule.missing-key", "missing required key 'rules' in 'correlation'", node)
        }
        let timespan = string(node, "timespan", required: false) ?? string(node, "timeframe", required: false)
        if timespan == nil { error("rule.missing-key", "missing required key 'timespan' in 'correlation'", node) }
        let groupBy = node["group-by"]?.stringList ?? []
        return SigmaCorrelation(type: type, rules: rules, groupBy: groupBy, timespan: timespan,
                                conditionText: node["condition"]?.jsonText, location: node.location(file), node: node)
    }

    static let correlationKeys = ["type", "rules", "group-by", "timespan", "timeframe", "condition", "generate", "aliases"]

    /// A misspelt key (`group_by`) would otherwise be ignored and change what the correlation
    /// counts without a word.
    mutating func warnUnknownCorrelationKeys(_ node: YAMLTree) {
        for (k, _) in node.mapping ?? [] {
            let name = k.scalar ?? ""
            guard !Self.correlationKeys.contains(name) else { continue }
            let hint = Compiler.didYouMean(name, among: Self.correlationKeys, within: 2)
            warning("rule.unknown-key", "unknown key '\(name)' in 'correlation'\(hint): it is ignored", k)
        }
    }

    mutating func parseVigil(_ node: YAMLTree) -> VigilExtension {
        var v = VigilExtension()
        guard let m = node.mapping else {
            error("rule.invalid-value", "'vigil' must be a mapping, found \(node.kindName)", node)
            return v
        }
        for (k, value) in m {
            switch k.scalar {
            case "entities":
                guard let em = value.mapping else { error("rule.invalid-value", "'vigil.entities' must map entity kinds to field paths", value); continue }
                for (ek, ev) in em {
                    guard let kindText = ek.scalar, let kind = Entity.Kind(lenient: kindText) else {
                        error("rule.invalid-value", "unknown entity kind '\(ek.scalar ?? "")' (\(Entity.Kind.allCases.map(\.rawValue).joined(separator: ", ")))", ek)
                        continue
                    }
                    for p in ev.stringList ?? [] {
                        v.entities.append((kind, p, location(in: ev, offset: 0)))
                    }
                    if ev.stringList == nil { error("rule.invalid-value", "entity '\(kindText)' must name a field path", ev) }
                }
            case "group_by":
                for item in value.sequence ?? [value] {
                    if let s = item.scalar, let kind = Entity.Kind(lenient: s) { v.groupBy.append(kind) } else {
                        error("rule.invalid-value", "unknown entity kind '\(item.scalar ?? item.kindName)' in 'vigil.group_by'", item)
                    }
                }
            case "group_match":
                switch value.scalar?.lowercased() {
                case "any": v.groupMatchAll = false
                case "all": v.groupMatchAll = true
                default: error("rule.invalid-value", "'vigil.group_match' must be 'any' or 'all'", value)
                }
            case "baseline":
                v.baselineArea = value["area"]?.scalar
                v.baselineControls = value["controls"]?.stringList ?? []
                if value.mapping == nil || v.baselineArea == nil {
                    error("rule.invalid-value", "'vigil.baseline' must be {area: <area>, controls: [<MCSB id>…]}", value)
                }
            case "attack_v19":
                v.attackV19 = value.stringList ?? []
            default:
                warning("rule.unknown-key", "unknown key '\(k.scalar ?? "")' in 'vigil' (entities, group_by, group_match, baseline, attack_v19)", k)
            }
        }
        return v
    }
}
