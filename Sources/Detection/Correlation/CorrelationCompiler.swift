// ParsedRule (kind .correlation) → CompiledCorrelation. Resolves `rules:` against the loaded base
// rules and correlations (by id, name or title; same file or another), parses the timespan and the
// condition, and resolves every group-by field (and `condition.field`) per base rule: aliases
// first, then the base rule's log-source field map, like any other field. A reference to another
// correlation chains on it (its alerts are this one's events, keyed by the fields it grouped by);
// correlations are compiled inputs first, and a cycle is an error. Every problem is a located
// diagnostic; a correlation with an error is left out (and so are those chained on it), the rest
// still run.
import EventModel

public enum CorrelationCompiler {
    public static let diagnosticCodes = [
        "correlation.unknown-rule", "correlation.base-rule-invalid", "correlation.bad-timespan", "correlation.bad-condition",
        "correlation.missing-condition", "correlation.missing-field", "correlation.bad-alias", "correlation.unknown-field",
        "correlation.cycle", "correlation.ambiguous-rule", "correlation.duplicate-rule",
    ]

    public static func compile(_ set: RuleSet, rules: [CompiledRule], fieldMap: FieldMap) -> (CorrelationSet, [Diagnostic]) {
        let (byKey, sharedNames) = references(set)
        var compiledIndex: [String: Int] = [:]
        for (i, r) in rules.enumerated() where compiledIndex[r.id.lowercased()] == nil { compiledIndex[r.id.lowercased()] = i }
        var out: [CompiledCorrelation] = []
        var diags: [Diagnostic] = []
        // Parsed key → index in `out` (nil: did not compile); `visiting`: on the current path.
        var done: [String: Int?] = [:]
        var visiting = Set<String>()
        func visit(_ c: ParsedRule) {
            let key = c.key.lowercased()
            guard done[key] == nil, !visiting.contains(key) else { return }
            visiting.insert(key)
            for ref in c.correlation?.rules ?? [] {
                if let dep = byKey[ref.value.lowercased()], dep.kind == .correlation, dep.isValid { visit(dep) }
            }
            var u = Unit(rule: c, byKey: byKey, sharedNames: sharedNames, compiledIndex: compiledIndex, rules: rules, fieldMap: fieldMap) { ref in
                let k = ref.key.lowercased()
                if visiting.contains(k) { return .cycle }
                guard let i = done[k] ?? nil else { return .failed }
                return .compiled(i, out[i])
            }
            let compiled = u.compile()
            diags += u.diagnostics
            visiting.remove(key)
            if let compiled {
                done[key] = .some(out.count)
                out.append(compiled)
            } else {
                done[key] = .some(nil)
            }
        }
        for c in set.correlations where c.isValid { visit(c) }
        return (CorrelationSet(out), diags)
    }

    /// What each lower-cased reference resolves to. The spec refers to rules by `id` or `name`
    /// (titles are Vigil's fallback), so an id wins over a name and a name over a title, whatever
    /// order the rules were loaded in. Also returns the names several rules carry, with where: the
    /// spec makes a name unique, and a reference to a shared one would pick a rule by load order.
    static func references(_ set: RuleSet) -> ([String: ParsedRule], [String: [SourceLocation]]) {
        let candidates = set.rules.filter { $0.kind != .filter }
        var byKey: [String: ParsedRule] = [:]
        let keys: [(ParsedRule) -> String?] = [{ $0.id?.value }, { $0.name }, { $0.title }]
        for key in keys {
            for r in candidates { if let k = key(r)?.lowercased(), byKey[k] == nil { byKey[k] = r } }
        }
        var named: [String: [SourceLocation]] = [:]
        for r in candidates { if let n = r.name?.lowercased() { named[n, default: []].append(r.location) } }
        return (byKey, named.filter { $0.value.count > 1 && byKey[$0.key]?.name?.lowercased() == $0.key })
    }

    /// What a correlation referenced by another has become.
    enum Chained {
        case compiled(Int, CompiledCorrelation)
        case failed
        /// It is still being compiled further up: the references form a cycle.
        case cycle
    }

    /// `30s`, `10m`, `1h`, `2d`, `1w`, and pySigma's `1M` (30 days) and `1y` (365 days) → seconds.
    public static func parseTimespan(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: " ")
        // Digits only: `Int64` would also take a sign (`+10m`), which the spec's "number + letter" does not.
        guard let unit = t.last, t.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(t.dropLast()), n > 0 else { return nil }
        let mult: Int64
        switch unit {
        case "s": mult = 1
        case "m": mult = 60
        case "h": mult = 3600
        case "d": mult = 86400
        case "w": mult = 604_800
        case "M": mult = 2_592_000
        case "y": mult = 31_536_000
        default: return nil
        }
        return n.multipliedReportingOverflow(by: mult).overflow ? nil : n * mult
    }

    /// One correlation being compiled.
    struct Unit {
        let rule: ParsedRule
        let byKey: [String: ParsedRule]
        let sharedNames: [String: [SourceLocation]]
        let compiledIndex: [String: Int]
        let rules: [CompiledRule]
        let fieldMap: FieldMap
        let chained: (ParsedRule) -> Chained
        var diagnostics: [Diagnostic] = []
        var failed = false

        init(rule: ParsedRule, byKey: [String: ParsedRule], sharedNames: [String: [SourceLocation]], compiledIndex: [String: Int],
             rules: [CompiledRule], fieldMap: FieldMap, chained: @escaping (ParsedRule) -> Chained) {
            self.rule = rule
            self.byKey = byKey
            self.sharedNames = sharedNames
            self.compiledIndex = compiledIndex
            self.rules = rules
            self.fieldMap = fieldMap
            self.chained = chained
        }

        mutating func error(_ code: String, _ message: String, at loc: SourceLocation) {
            diagnostics.append(Diagnostic(.error, code: code, message, at: loc))
            failed = true
        }

        func loc(_ node: YAMLTree) -> SourceLocation {
            SourceLocation(file: rule.file, line: node.line, column: node.column + (node.quoted ? 1 : 0))
        }

        mutating func compile() -> CompiledCorrelation? {
            guard let corr = rule.correlation, let node = corr.node, let type = CorrelationType(rawValue: corr.type.value) else { return nil }
            // Referenced rules, in order: base rules (index into `rules`) and correlations (index
            // into the correlations compiled so far, with the compiled correlation).
            var bases: [(ref: String, parsed: ParsedRule, index: Int, inner: CompiledCorrelation?)] = []
            var referenced: [String: String] = [:]
            for ref in corr.rules {
                guard let parsed = byKey[ref.value.lowercased()] else {
                    let hint = Compiler.didYouMean(ref.value.lowercased(), among: byKey.keys, within: 3)
                    error("correlation.unknown-rule", "correlation '\(rule.title)' references rule '\(ref.value)', which is not loaded\(hint)", at: ref.location)
                    continue
                }
                if let places = sharedNames[ref.value.lowercased()] {
                    error("correlation.ambiguous-rule", "'\(ref.value)' is the name of \(places.count) rules (\(places.map(\.description).joined(separator: ", "))): a rule's name must be unique, or refer to it by id", at: ref.location)
                    continue
                }
                // The same rule twice would count each of its events twice (and alone make a temporal correlation).
                if let first = referenced.updateValue(ref.value, forKey: parsed.key.lowercased()) {
                    error("correlation.duplicate-rule", "'\(ref.value)' is the rule '\(first)' already names: each rule is referenced once", at: ref.location)
                    continue
                }
                if parsed.kind == .correlation {
                    switch chained(parsed) {
                    case .compiled(let index, let inner): bases.append((ref.value, parsed, index, inner))
                    case .failed:
                        error("correlation.base-rule-invalid", "correlation '\(ref.value)' did not compile (see its own diagnostics), so this correlation cannot run", at: ref.location)
                    case .cycle:
                        error("correlation.cycle", "'\(ref.value)' leads back to '\(rule.title)': correlations that chain on each other in a cycle never start", at: ref.location)
                    }
                    continue
                }
                guard let index = compiledIndex[parsed.key.lowercased()] else {
                    error("correlation.base-rule-invalid", "rule '\(ref.value)' did not compile (see its own diagnostics), so this correlation cannot run", at: ref.location)
                    continue
                }
                bases.append((ref.value, parsed, index, nil))
            }
            if corr.rules.isEmpty { error("correlation.unknown-rule", "'correlation.rules' names no rule", at: corr.location) }
            if type == .temporal || type == .temporalOrdered, corr.rules.count < 2 {
                error("correlation.bad-condition", "a \(type.rawValue) correlation needs at least two rules", at: corr.location)
            }
            // Timespan.
            var seconds: Int64 = 0
            if let ts = corr.timespan {
                if let s = CorrelationCompiler.parseTimespan(ts.value) { seconds = s } else {
                    error("correlation.bad-timespan", "timespan '\(ts.value)' is not a number followed by s, m, h, d, w, M or y (e.g. 10m, 1h)", at: ts.location)
                }
            }
            // Condition.
            let condition = parseCondition(node["condition"], type: type, steps: corr.rules.count, at: corr.location)
            // Aliases: alias → (lower-cased rule reference → field).
            var aliases: [String: [String: String]] = [:]
            if let a = node["aliases"] {
                if let m = a.mapping {
                    for (k, v) in m {
                        guard let name = k.scalar, let vm = v.mapping else {
                            error("correlation.bad-alias", "an alias maps rule references to field names", at: loc(k)); continue
                        }
                        for (rk, rv) in vm {
                            guard let ref = rk.scalar, let field = rv.scalar else { error("correlation.bad-alias", "alias '\(name)': a rule reference maps to a field name", at: loc(rk)); continue }
                            let known = bases.contains { b in [b.ref, b.parsed.id?.value, b.parsed.name, b.parsed.title].compactMap { $0?.lowercased() }.contains(ref.lowercased()) }
                            if !known, corr.rules.contains(where: { $0.value.lowercased() == ref.lowercased() }) == false {
                                error("correlation.bad-alias", "alias '\(name)' names rule '\(ref)', which this correlation does not reference", at: loc(rk))
                            }
                            aliases[name, default: [:]][ref.lowercased()] = field
                        }
                    }
                } else {
                    error("correlation.bad-alias", "'aliases' must be a mapping, found \(a.kindName)", at: loc(a))
                }
            }
            // Group-by: node items carry locations.
            var groupBy: [(name: String, at: SourceLocation)] = []
            if let g = node["group-by"] {
                for item in g.sequence ?? [g] {
                    if let s = item.scalar { groupBy.append((s, loc(item))) } else { error("rule.invalid-value", "group-by entries must be field names", at: loc(item)) }
                }
            }
            if let a = node["aliases"]?.mapping {
                warnUnusedAliases(a, used: Set(groupBy.map(\.name) + [condition?.field].compactMap { $0 } + rule.vigil.entities.map(\.path)))
            }
            var generate = false
            if let g = node["generate"] {
                switch g.scalar?.lowercased() {
                case "true", "yes": generate = true
                case "false", "no": generate = false
                default: error("rule.invalid-value", "'generate' must be true or false", at: loc(g))
                }
            }
            // Per-step field resolution.
            var steps: [CorrelationStep] = []
            for b in bases {
                if let inner = b.inner {
                    steps.append(chainedStep(b.ref, b.parsed, index: b.index, inner: inner, groupBy: groupBy, aliases: aliases,
                                             valueField: condition?.field, at: corr.location))
                    continue
                }
                let mapping = fieldMap.mapping(for: b.parsed.logsource)
                let keys = [b.ref, b.parsed.id?.value, b.parsed.name, b.parsed.title].compactMap { $0?.lowercased() }
                func field(_ name: String) -> String {
                    for k in keys { if let f = aliases[name]?[k] { return f } }
                    return name
                }
                var groupSources: [FieldSource] = []
                for g in groupBy {
                    let f = field(g.name)
                    checkField(f, mapping: mapping, base: b.ref, at: g.at)
                    groupSources.append(source(f, mapping))
                }
                var valueSource: FieldSource?
                if let f = condition?.field {
                    valueSource = source(field(f), mapping)
                }
                let base = rules[b.index]
                let entities: [(kind: Entity.Kind, source: FieldSource)] =
                    rule.vigil.entities.isEmpty ? base.entities : rule.vigil.entities.map { ($0.kind, source(field($0.path), mapping)) }
                steps.append(CorrelationStep(reference: b.ref, ruleIndex: b.index, ruleId: base.id, groupSources: groupSources,
                                             valueSource: valueSource, entities: entities))
            }
            guard !failed, let condition else { return nil }
            let (tactics, techniques0) = Compiler.attack(rule.tags.map(\.value))
            var techniques = techniques0
            for t in rule.vigil.attackV19 where !techniques.contains(t.uppercased()) { techniques.append(t.uppercased()) }
            var baseline = rule.vigil.baselineControls
            if let area = rule.vigil.baselineArea { baseline.insert(area, at: 0) }
            return CompiledCorrelation(id: rule.key, title: rule.title, description: rule.description, severity: rule.severity,
                                       tactics: tactics, techniques: techniques, type: type, steps: steps, groupBy: groupBy.map(\.name),
                                       timespanSeconds: seconds, timespanText: corr.timespan?.value ?? "", condition: condition,
                                       generate: generate, entityGroupBy: rule.vigil.groupBy, entityGroupByAll: rule.vigil.groupMatchAll,
                                       baselineControls: baseline, location: rule.id?.location ?? rule.location)
        }

        /// An alias that no group-by field, `condition.field` or entity path names changes nothing:
        /// most likely the entry meant for it is spelt differently (names are matched exactly).
        mutating func warnUnusedAliases(_ aliases: [(key: YAMLTree, value: YAMLTree)], used: Set<String>) {
            for (k, _) in aliases {
                guard let name = k.scalar, !used.contains(name) else { continue }
                let hint = Compiler.didYouMean(name, among: used, within: 2)
                diagnostics.append(Diagnostic(.warning, code: "correlation.bad-alias", "alias '\(name)' is named by no group-by field, condition.field or entity, so it is not used\(hint)", at: loc(k)))
            }
        }

        /// A step fed by another correlation's alerts: each group-by field (and `condition.field`)
        /// must be one that correlation grouped by, since its alerts carry only those values.
        mutating func chainedStep(_ ref: String, _ parsed: ParsedRule, index: Int, inner: CompiledCorrelation,
                                  groupBy: [(name: String, at: SourceLocation)], aliases: [String: [String: String]],
                                  valueField: String?, at: SourceLocation) -> CorrelationStep {
            let keys = [ref, parsed.id?.value, parsed.name, parsed.title].compactMap { $0?.lowercased() }
            func position(_ name: String, at loc: SourceLocation) -> Int? {
                var f = name
                for k in keys { if let a = aliases[name]?[k] { f = a; break } }
                if let p = inner.groupBy.firstIndex(where: { $0.lowercased() == f.lowercased() }) { return p }
                let known = inner.groupBy.isEmpty ? "none" : inner.groupBy.joined(separator: ", ")
                error("correlation.unknown-field", "'\(f)' is not a group-by field of correlation '\(ref)' (\(known)): a correlation that chains on another reads only the fields that one groups by", at: loc)
                return nil
            }
            var positions: [Int] = []
            var sources: [FieldSource] = []
            for g in groupBy {
                guard let p = position(g.name, at: g.at) else { continue }
                positions.append(p)
                sources.append(inner.steps.first?.groupSources[p] ?? FieldSource(FieldPath(g.name)))
            }
            let valuePosition = valueField.flatMap { position($0, at: at) }
            return CorrelationStep(reference: ref, ruleIndex: -1, ruleId: inner.id, chained: (index, positions, valuePosition),
                                   groupSources: sources, valueSource: nil, entities: [])
        }

        func source(_ field: String, _ mapping: FieldMap.LogSourceMapping?) -> FieldSource {
            mapping?.fields[field.lowercased()] ?? FieldSource(FieldPath(field))
        }

        mutating func checkField(_ f: String, mapping: FieldMap.LogSourceMapping?, base: String, at: SourceLocation) {
            if f.lowercased().hasPrefix("vigil."), FieldPath(f).typedField == nil {
                error("correlation.unknown-field", "'\(f)' is not a Vigil typed field", at: at)
            } else if let m = mapping, !m.knownFields.isEmpty, m.fields[f.lowercased()] == nil, !m.knownFields.contains(f.lowercased()),
                      !f.lowercased().hasPrefix("vigil.") {
                diagnostics.append(Diagnostic(.warning, code: "correlation.unknown-field", "group-by field '\(f)' is not known for log source '\(m.name)' of rule '\(base)': it is read as a raw record path", at: at))
            }
        }

        mutating func parseCondition(_ node: YAMLTree?, type: CorrelationType, steps: Int, at: SourceLocation) -> CorrelationCondition? {
            guard let node else {
                if type == .temporal || type == .temporalOrdered { return .allRules(steps) }
                error("correlation.missing-condition", "a \(type.rawValue) correlation needs a 'condition' (e.g. {gte: 10}\(type.needsField ? ", field: <name>" : ""))", at: at)
                return nil
            }
            guard let m = node.mapping else {
                error("correlation.bad-condition", "'condition' must be a mapping like {gte: 10}, found \(node.kindName)", at: loc(node))
                return nil
            }
            var comparisons: [CorrelationCondition.Comparison] = []
            var field: String?
            for (k, v) in m {
                let key = k.scalar?.lowercased() ?? ""
                if key == "field" {
                    guard let f = v.scalar else { error("correlation.bad-condition", "'condition.field' must be a field name", at: loc(v)); continue }
                    field = f
                    continue
                }
                guard let o = CorrelationCondition.Op(rawValue: key) else {
                    error("correlation.bad-condition", "unknown condition operator '\(k.scalar ?? "")' (\(CorrelationCondition.Op.allCases.map(\.rawValue).joined(separator: ", ")), field)", at: loc(k))
                    continue
                }
                guard let d = v.scalar.flatMap(Double.init), v.scalarKind == .int || v.scalarKind == .float else {
                    error("correlation.bad-condition", "'\(key)' needs a number, found '\(v.scalar ?? v.kindName)'", at: loc(v))
                    continue
                }
                comparisons.append(CorrelationCondition.Comparison(o, d))   // several: a range, all must hold
            }
            if type.needsField, field == nil {
                error("correlation.missing-field", "a \(type.rawValue) correlation needs 'condition.field': the field whose values it \(type == .valueCount ? "counts" : "adds up")", at: loc(node))
            }
            if !type.needsField, let field {
                diagnostics.append(Diagnostic(.warning, code: "correlation.bad-condition", "'condition.field' (\(field)) is ignored by \(type.rawValue)", at: loc(node)))
            }
            guard !comparisons.isEmpty else {
                error("correlation.bad-condition", "'condition' needs one of \(CorrelationCondition.Op.allCases.map(\.rawValue).joined(separator: ", "))", at: loc(node))
                return nil
            }
            return checkRulesCounted(CorrelationCondition(comparisons, field: type.needsField ? field : nil), type: type, steps: steps, at: loc(node))
        }

        /// temporal and temporal_ordered count the referenced rules that matched: 1 to `steps`.
        /// temporal_ordered runs the chain of all of them (a condition used to be half-read: it
        /// picked the window kind, never the count), so any other condition is ignored, loudly; a
        /// temporal condition no count from 1 to `steps` meets would never fire.
        mutating func checkRulesCounted(_ c: CorrelationCondition, type: CorrelationType, steps: Int, at: SourceLocation) -> CorrelationCondition {
            switch type {
            case .temporalOrdered where c != .allRules(steps):
                diagnostics.append(Diagnostic(.warning, code: "correlation.bad-condition", "temporal_ordered needs every rule, in the order listed: condition \(c.summary) is ignored", at: at))
                return .allRules(steps)
            case .temporal where steps > 0 && !(1...steps).contains(where: { c.holds(Double($0)) }):
                diagnostics.append(Diagnostic(.warning, code: "correlation.bad-condition", "condition \(c.summary) never holds: a temporal correlation over \(steps) rules sees 1 to \(steps) of them", at: at))
            default: break
            }
            return c
        }
    }
}
