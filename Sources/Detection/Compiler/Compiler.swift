// ParsedRule → CompiledRule: resolves field names through the field map once, lowers modifiers and
// values to predicates (shared between rules), orders cheap tests before regex, applies Sigma
// meta-filters, and builds the kind/operation index. Every problem is a located diagnostic; a
// rule with an error is left out of the set, the others still compile.
import EventModel

/// A rule ready to run.
public struct CompiledRule: Sendable {
    public var id: String
    public var title: String
    public var description: String?
    public var severity: Severity
    public var tactics: [String]
    public var techniques: [String]
    public var entities: [(kind: Entity.Kind, source: FieldSource)]
    public var groupBy: [Entity.Kind]
    public var groupByAll: Bool
    public var baselineControls: [String]
    public var kinds: [EventKind]
    /// Lower-cased operation names the rule requires (one of), nil when it has no such constraint.
    public var operations: [String]?
    public var root: MatchNode
    public var location: SourceLocation
    public var logsource: String
    public var filters: [String]
    /// The description's first paragraph on one line, what its alerts start with (worked out once).
    public var summary: String?
}

public enum Compiler {
    public static let knownModifiers: Set<String> = [
        "contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr", "base64", "base64offset",
        "utf16le", "utf16be", "utf16", "wide", "windash", "exists", "cased", "gt", "gte", "lt", "lte", "neq",
        "fieldref", "expand",
    ]

    public static func compile(_ set: RuleSet, fieldMap: FieldMap) -> (CompiledRuleSet, [Diagnostic]) {
        var b = Builder(fieldMap: fieldMap)
        // Filters by the rule id or name they target.
        var filtersByTarget: [String: [ParsedRule]] = [:]
        var targetsSeen = Set<String>()
        let ruleKeys = Set(set.detectionRules.flatMap { r in [r.id?.value.lowercased(), r.name?.lowercased(), r.title.lowercased()].compactMap { $0 } })
        for f in set.filters where f.isValid {
            guard let filter = f.filter else { continue }
            for t in filter.rules {
                filtersByTarget[t.value.lowercased(), default: []].append(f)
                targetsSeen.insert(t.value.lowercased())
                if !ruleKeys.contains(t.value.lowercased()) {
                    b.diagnostics.append(Diagnostic(.warning, code: "rule.filter-unknown-target", "filter '\(f.title)' names rule '\(t.value)', which is not loaded", at: t.location))
                }
            }
        }
        for r in set.detectionRules where r.isValid {
            var filters: [ParsedRule] = []
            for key in [r.id?.value.lowercased(), r.name?.lowercased(), r.title.lowercased()].compactMap({ $0 }) {
                for f in filtersByTarget[key] ?? [] where !filters.contains(where: { $0.location == f.location }) { filters.append(f) }
            }
            b.compile(r, filters: filters)
        }
        // Correlations (Correlation/CorrelationCompiler.swift) read the compiled base rules.
        let base = b.finish()
        if set.correlations.isEmpty { return (base, b.diagnostics) }
        let (correlations, cd) = CorrelationCompiler.compile(set, rules: base.rules, fieldMap: fieldMap)
        return (base.with(correlations: correlations), b.diagnostics + cd)
    }

    /// `attack.t1098.003` → technique `T1098.003`; `attack.privilege-escalation` → tactic.
    /// Group/software/data-source tags (`attack.g0016`, `attack.s0002`, `attack.ds…`) are neither.
    static func attack(_ tags: [String]) -> (tactics: [String], techniques: [String]) {
        var tactics: [String] = [], techniques: [String] = []
        for tag in tags {
            let t = tag.lowercased()
            guard t.hasPrefix("attack.") else { continue }
            let rest = String(t.dropFirst(7))
            if rest.first == "t", rest.dropFirst().first?.isNumber == true {
                let tech = "T" + rest.dropFirst()
                if !techniques.contains(tech) { techniques.append(tech) }
            } else if let f = rest.first, (f == "g" || f == "s"), rest.dropFirst().allSatisfy(\.isNumber) {
                continue
            } else if rest.hasPrefix("ds"), rest.dropFirst(2).allSatisfy(\.isNumber) {
                continue
            } else if !tactics.contains(rest) {
                tactics.append(rest)
            }
        }
        return (tactics, techniques)
    }

    /// Levenshtein distance (for "did you mean" hints).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var prev = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return a.isEmpty ? b.count : prev[b.count]
    }

    /// ` (did you mean 'x'?)` for the candidate nearest `name`, if within `distance` edits; else "".
    static func didYouMean(_ name: String, among candidates: some Sequence<String>, within distance: Int) -> String {
        let guess = candidates.min { Compiler.distance($0, name) < Compiler.distance($1, name) }
        return guess.flatMap { Compiler.distance($0, name) <= distance ? " (did you mean '\($0)'?)" : nil } ?? ""
    }
}

/// Accumulates interned slots, predicates and regexes while rules compile.
struct Builder {
    let fieldMap: FieldMap
    var diagnostics: [Diagnostic] = []
    var slots: [FieldSource] = []
    var slotIndex: [FieldSource: Int] = [:]
    var predicates: [Predicate] = []
    var predicateIndex: [Predicate: Int] = [:]
    var regexes: [SafeRegex] = []
    var regexIndex: [String: Int] = [:]
    var rules: [CompiledRule] = []
    /// Set while compiling one rule: any error drops the rule.
    var failed = false

    init(fieldMap: FieldMap) { self.fieldMap = fieldMap }

    mutating func error(_ code: String, _ message: String, at loc: SourceLocation) {
        diagnostics.append(Diagnostic(.error, code: code, message, at: loc))
        failed = true
    }

    mutating func slot(_ s: FieldSource) -> Int {
        if let i = slotIndex[s] { return i }
        slots.append(s)
        slotIndex[s] = slots.count - 1
        return slots.count - 1
    }

    mutating func predicate(_ slot: Int, _ test: ValueTest) -> MatchNode {
        let p = Predicate(slot: slot, test: test)
        if let i = predicateIndex[p] { return .predicate(i) }
        predicates.append(p)
        predicateIndex[p] = predicates.count - 1
        return .predicate(predicates.count - 1)
    }

    func source(for field0: String, _ mapping: FieldMap.LogSourceMapping?) -> FieldSource {
        // `a{}.b` (array marker some SIEM field names carry): arrays fan out anyway.
        let field = field0.replacingOccurrences(of: "{}", with: "")
        if let m = mapping?.fields[field.lowercased()] { return m }
        if !field.lowercased().hasPrefix("vigil."), let u = mapping?.unmapped.source(for: field) { return u }
        return FieldSource(FieldPath(field))
    }

    mutating func compile(_ r: ParsedRule, filters: [ParsedRule]) {
        failed = false
        let mapping = fieldMap.mapping(for: r.logsource)
        if mapping == nil {
            diagnostics.append(Diagnostic(.warning, code: "rule.unknown-logsource", "no field mapping for log source (\(r.logsource.description)): the rule meets events of every kind and its fields are raw record paths", at: r.logsource.location))
        }
        guard let condition = r.condition else { return }   // the loader already reported why
        var root = lower(condition, selections: r.selections, mapping: mapping)
        var filterNames: [String] = []
        for f in filters {
            guard let filter = f.filter else { continue }
            if let fm = fieldMap.mapping(for: f.logsource), let m = mapping, fm.name != m.name {
                diagnostics.append(Diagnostic(.warning, code: "rule.filter-logsource", "filter '\(f.title)' is for log source (\(f.logsource.description)) but rule '\(r.title)' reads (\(r.logsource.description))", at: f.logsource.location))
            }
            root = .and([root, lower(filter.condition, selections: filter.selections, mapping: mapping)])
            filterNames.append(f.id?.value ?? f.title)
        }
        if let cf = mapping?.categoryField, let cat = r.logsource.category {
            let p = predicate(slot(FieldSource(cf)), .equals(Bytes.fold(Array(cat.utf8)), cased: false))
            root = .and([p, root])
        }
        if failed { return }
        root = order(simplify(root))
        let (tactics, techniques0) = Compiler.attack(r.tags.map(\.value))
        var techniques = techniques0
        for t in r.vigil.attackV19 where !techniques.contains(t.uppercased()) { techniques.append(t.uppercased()) }
        var entities: [(kind: Entity.Kind, source: FieldSource)] = r.vigil.entities.map { ($0.kind, source(for: $0.path, mapping)) }
        if entities.isEmpty {
            entities = [(.account, FieldSource(FieldPath("vigil.caller"))), (.ip, FieldSource(FieldPath("vigil.callerIp"))),
                        (.azureResource, FieldSource(FieldPath("vigil.resource.id")))]
        }
        var baseline = r.vigil.baselineControls
        if let area = r.vigil.baselineArea { baseline.insert(area, at: 0) }
        let kinds = mapping?.kinds.isEmpty == false ? mapping!.kinds : EventKind.allCases
        rules.append(CompiledRule(id: r.key, title: r.title, description: r.description, severity: r.severity, tactics: tactics,
                                  techniques: techniques, entities: entities, groupBy: r.vigil.groupBy, groupByAll: r.vigil.groupMatchAll,
                                  baselineControls: baseline, kinds: kinds, operations: requiredOperations(root).map { $0.sorted() },
                                  root: root, location: r.id?.location ?? r.location, logsource: r.logsource.description, filters: filterNames,
                                  summary: r.description.map(Engine.firstParagraph)))
    }

    mutating func lower(_ e: ConditionExpr, selections: [SigmaSelection], mapping: FieldMap.LogSourceMapping?) -> MatchNode {
        switch e {
        case .selection(let name, _):
            guard let s = selections.first(where: { $0.name == name }) else { return .constant(false) }
            return lower(s, mapping: mapping)
        case .and(let xs): return .and(xs.map { lower($0, selections: selections, mapping: mapping) })
        case .or(let xs): return .or(xs.map { lower($0, selections: selections, mapping: mapping) })
        case .not(let x): return .not(lower(x, selections: selections, mapping: mapping))
        case .quantified(let all, _, let terms, _):
            let nodes = terms.map { lower(.selection($0, SourceLocation(file: "")), selections: selections, mapping: mapping) }
            return all ? .and(nodes) : .or(nodes)
        }
    }

    mutating func lower(_ s: SigmaSelection, mapping: FieldMap.LogSourceMapping?) -> MatchNode {
        switch s.body {
        case .keywords(let values):
            return .or(values.map { keyword($0) })
        case .fieldMaps(let maps):
            return .or(maps.map { items in .and(items.map { lower($0, mapping: mapping) }) })
        }
    }

    mutating func keyword(_ v: SigmaValue) -> MatchNode {
        if v.kind == .null { return .constant(false) }
        let toks = wildcardTokens(v.text, cased: false)
        return predicate(Predicate.keywordSlot, classify([.star] + toks + [.star], cased: false))
    }

    // MARK: field items

    enum MatchKind: String { case equals, contains, startswith, endswith, re, cidr, gt, gte, lt, lte, exists, neq }

    mutating func lower(_ item: SigmaFieldItem, mapping: FieldMap.LogSourceMapping?) -> MatchNode {
        var kind = MatchKind.equals
        var kindSet: Located<String>?
        var all = false, cased = false
        var flags = RegexFlags()
        var transforms: [Located<String>] = []
        var fieldref: Located<String>?
        for m in item.modifiers {
            let name = m.value
            guard Compiler.knownModifiers.contains(name) else {
                let hint = Compiler.didYouMean(name, among: Compiler.knownModifiers, within: 2)
                error("rule.unknown-modifier", "unknown modifier '\(name)'\(hint)", at: m.location)
                continue
            }
            switch name {
            case "all": all = true
            case "cased": cased = true
            case "expand": break   // applied by the loader
            case "i", "m", "s":
                guard kind == .re else {
                    error("rule.modifier-combination", "modifier '\(name)' is a regex flag: it must follow 're'", at: m.location)
                    continue
                }
                if name == "i" { flags.caseInsensitive = true } else if name == "m" { flags.multiline = true } else { flags.dotAll = true }
            case "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide", "windash":
                transforms.append(m)
            case "fieldref":
                // The values name fields; `contains`/`startswith`/`endswith` say how to compare (pySigma).
                fieldref = m
            default:
                let k = MatchKind(rawValue: name)!
                if let prev = kindSet {
                    error("rule.modifier-combination", "modifier '\(name)' conflicts with '\(prev.value)': a value has one match type", at: m.location)
                    continue
                }
                kind = k
                kindSet = m
            }
        }
        if let utf = transforms.first(where: { ["utf16le", "utf16be", "utf16", "wide"].contains($0.value) }),
           !transforms.contains(where: { $0.value == "base64" || $0.value == "base64offset" }) {
            error("rule.unsupported-feature", "modifier '\(utf.value)' only has a meaning before 'base64'/'base64offset' (event text is UTF-8 JSON, not UTF-16)", at: utf.location)
        }
        if let b = transforms.first(where: { $0.value == "base64offset" }), kind != .contains {
            diagnostics.append(Diagnostic(.warning, code: "rule.modifier-combination", "'base64offset' finds a value inside a longer base64 text: 'contains' is implied", at: b.location))
            kind = .contains
        }
        if !transforms.isEmpty, ![.equals, .contains, .startswith, .endswith].contains(kind) {
            error("rule.modifier-combination", "'\(transforms[0].value)' cannot be combined with '\(kind.rawValue)'", at: transforms[0].location)
        }
        if let f = fieldref {
            if let t = transforms.first {
                error("rule.modifier-combination", "'\(t.value)' cannot be combined with 'fieldref'", at: t.location)
            } else if FieldRefMatch(rawValue: kind.rawValue) == nil {
                error("rule.modifier-combination", "'fieldref' compares with another field's value: it combines with contains, startswith or endswith, not '\(kind.rawValue)'", at: f.location)
            }
        }

        let isKeyword = item.field.isEmpty
        let slotIndex: Int
        if isKeyword {
            slotIndex = Predicate.keywordSlot
            if kind == .equals { kind = .contains }
        } else {
            if let m = mapping, !m.knownFields.isEmpty, m.fields[item.field.lowercased()] == nil,
               !Self.isKnown(item.field, m.knownFields), !item.field.lowercased().hasPrefix("vigil.") {
                diagnostics.append(Diagnostic(.warning, code: "rule.unknown-field", "field '\(item.field)' is not known for log source '\(m.name)': it is read as a raw record path", at: item.fieldLocation))
            }
            if item.field.lowercased().hasPrefix("vigil."), FieldPath(item.field).typedField == nil {
                error("rule.unknown-field", "'\(item.field)' is not a Vigil typed field (\(TypedField.allCases.map { "vigil." + $0.rawValue }.joined(separator: ", ")))", at: item.fieldLocation)
            }
            slotIndex = slot(source(for: item.field, mapping))
        }

        var nodes: [MatchNode] = []
        if let f = fieldref {
            guard !isKeyword else {
                error("rule.invalid-value", "'fieldref' needs a field", at: f.location)
                return .constant(false)
            }
            let match = FieldRefMatch(rawValue: kind.rawValue) ?? .equals
            for v in item.values {
                guard v.kind != .null else {
                    error("rule.invalid-value", "null cannot be used with 'fieldref': it names a field", at: v.location)
                    continue
                }
                nodes.append(predicate(slotIndex, .fieldRef(slot: slot(source(for: v.text, mapping)), cased: cased, match: match)))
            }
            if nodes.isEmpty { return .constant(false) }
            return all ? .and(nodes) : .or(nodes)
        }
        let aliases = isKeyword ? nil : mapping?.valueAliases[item.field.lowercased()]
        for v in item.values {
            guard let n = lowerValue(v, kind: kind, cased: cased, flags: flags, transforms: transforms, slot: slotIndex, mapping: mapping, item: item) else {
                continue
            }
            // The field map's other spellings of this value (`value_aliases`), for the string kinds:
            // any spelling matches; under `neq`, none may (the nodes of `neq` are all required).
            guard let spellings = aliases?[v.text.lowercased()], v.kind == .string,
                  [.equals, .contains, .startswith, .endswith, .neq].contains(kind) else {
                nodes.append(n)
                continue
            }
            var alternatives = [n]
            for text in spellings {
                var alias = v
                alias.text = text
                if let a = lowerValue(alias, kind: kind, cased: cased, flags: flags, transforms: transforms, slot: slotIndex, mapping: mapping, item: item) {
                    alternatives.append(a)
                }
            }
            if kind == .neq { nodes += alternatives } else { nodes.append(.or(alternatives)) }
        }
        if nodes.isEmpty { return .constant(false) }
        if kind == .neq { return .and(nodes) }
        return all ? .and(nodes) : .or(nodes)
    }

    mutating func lowerValue(_ v: SigmaValue, kind: MatchKind, cased: Bool, flags: RegexFlags, transforms: [Located<String>],
                             slot: Int, mapping: FieldMap.LogSourceMapping?, item: SigmaFieldItem) -> MatchNode? {
        if v.kind == .null {
            switch kind {
            case .equals: return predicate(slot, .isNull)
            default:
                error("rule.invalid-value", "null cannot be used with '\(kind.rawValue)'", at: v.location)
                return nil
            }
        }
        switch kind {
        case .exists:
            guard v.kind == .bool || ["true", "false"].contains(v.text.lowercased()) else {
                error("rule.invalid-value", "'exists' takes true or false, found '\(v.text)'", at: v.location)
                return nil
            }
            return predicate(slot, .exists(["true", "yes", "on"].contains(v.text.lowercased())))
        case .gt, .gte, .lt, .lte:
            guard let d = Double(v.text) else {
                error("rule.invalid-value", "'\(kind.rawValue)' compares numbers, found '\(v.text)'", at: v.location)
                return nil
            }
            return predicate(slot, .compare(CompareOp(rawValue: kind.rawValue)!, d))
        case .re:
            do {
                let re = try SafeRegex(v.text, flags: flags)
                let key = re.description
                let idx: Int
                if let i = regexIndex[key] { idx = i } else {
                    regexes.append(re)
                    idx = regexes.count - 1
                    regexIndex[key] = idx
                }
                return predicate(slot, .regex(idx))
            } catch {
                var loc = v.location
                loc.column = (loc.column ?? 1) + error.offset
                self.error(error.code, "\(error.code == "rule.bad-regex" ? "bad regex: " : "")\(error.message)", at: loc)
                return nil
            }
        case .cidr:
            guard let c = CIDR(v.text) else {
                error("rule.bad-cidr", "'\(v.text)' is not an IPv4 or IPv6 network (a.b.c.d/n or x:y::/n)", at: v.location)
                return nil
            }
            return predicate(slot, .cidr(c))
        case .neq:
            let b = Array(v.text.utf8)
            return predicate(slot, .notEquals(cased ? b : Bytes.fold(b), cased: cased))
        case .equals, .contains, .startswith, .endswith:
            break
        }
        // String matching, after transforms.
        if !transforms.isEmpty {
            var variants: [[UInt8]] = [Array(v.text.utf8)]
            for t in transforms {
                switch t.value {
                case "windash": variants = variants.flatMap { ValueEncodings.windash(String(decoding: $0, as: UTF8.self)).map { Array($0.utf8) } }
                case "utf16le", "wide": variants = variants.map { ValueEncodings.utf16($0, .le) }
                case "utf16be": variants = variants.map { ValueEncodings.utf16($0, .be) }
                case "utf16": variants = variants.map { ValueEncodings.utf16($0, .leWithBOM) }
                case "base64": variants = variants.map(ValueEncodings.base64)
                case "base64offset": variants = variants.flatMap(ValueEncodings.base64Offsets)
                default: break
                }
            }
            // base64 output is case-sensitive text; windash keeps the usual case-insensitivity.
            let isB64 = transforms.contains { $0.value.hasPrefix("base64") }
            let c = cased || isB64
            let nodes = variants.map { bytes -> MatchNode in
                if isB64 {
                    return predicate(slot, classify(wrap([.literal(bytes)], kind), cased: c))
                }
                return predicate(slot, classify(wrap(wildcardTokens(String(decoding: bytes, as: UTF8.self), cased: c), kind), cased: c))
            }
            return nodes.count == 1 ? nodes[0] : .or(nodes)
        }
        if v.kind == .number, kind == .equals, let d = Double(v.text) {
            return predicate(slot, .numberEquals(d, text: Bytes.fold(Array(v.text.utf8))))
        }
        let toks = wildcardTokens(v.text, cased: cased)
        return predicate(slot, classify(wrap(toks, kind), cased: cased))
    }

    /// A field is known when its name, its name without a leading `properties.`, or the first
    /// segment of that (`DeviceDetail` of `DeviceDetail.isCompliant`, also spelled `DeviceDetail_dynamic`)
    /// is listed.
    static func isKnown(_ field: String, _ known: Set<String>) -> Bool {
        var name = field.lowercased().replacingOccurrences(of: "{}", with: "")
        if known.contains(name) { return true }
        if name.hasPrefix("properties.") { name.removeFirst(11) }
        let head = String(name.split(separator: ".", maxSplits: 1).first ?? "")
        let base = head.hasSuffix("_dynamic") ? String(head.dropLast(8)) : head.hasSuffix("_string") ? String(head.dropLast(7)) : head
        return known.contains(name) || known.contains(head) || known.contains(base)
    }

    func wrap(_ toks: [WildcardToken], _ kind: MatchKind) -> [WildcardToken] {
        switch kind {
        case .contains: return [.star] + toks + [.star]
        case .startswith: return toks + [.star]
        case .endswith: return [.star] + toks
        default: return toks
        }
    }

    /// Sigma value text → tokens: `*` and `?` are wildcards; `\*`, `\?`, `\\` are literals; any
    /// other backslash is itself. Literals are folded unless `cased`.
    func wildcardTokens(_ text: String, cased: Bool) -> [WildcardToken] {
        var toks: [WildcardToken] = []
        var lit: [UInt8] = []
        func flush() {
            if !lit.isEmpty { toks.append(.literal(cased ? lit : Bytes.fold(lit))); lit = [] }
        }
        let b = Array(text.utf8)
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\\"), i + 1 < b.count, [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "\\")].contains(b[i + 1]) {
                lit.append(b[i + 1]); i += 2; continue
            }
            if c == UInt8(ascii: "*") { flush(); if toks.last != .star { toks.append(.star) }; i += 1; continue }
            if c == UInt8(ascii: "?") { flush(); toks.append(.one); i += 1; continue }
            lit.append(c); i += 1
        }
        flush()
        return toks
    }

    /// The cheapest test for a token list: equals / contains / startswith / endswith, else a wildcard.
    func classify(_ toks0: [WildcardToken], cased: Bool) -> ValueTest {
        var toks: [WildcardToken] = []
        for t in toks0 where !(t == .star && toks.last == .star) { toks.append(t) }
        switch toks.count {
        case 0: return .equals([], cased: cased)
        case 1:
            if case .literal(let l) = toks[0] { return .equals(l, cased: cased) }
            if toks[0] == .star { return .exists(true) }
        case 2:
            if case .literal(let l) = toks[0], toks[1] == .star { return .startsWith(l, cased: cased) }
            if case .literal(let l) = toks[1], toks[0] == .star { return .endsWith(l, cased: cased) }
        case 3:
            if case .literal(let l) = toks[1], toks[0] == .star, toks[2] == .star { return .contains(l, cased: cased) }
        default: break
        }
        return .wildcard(toks, cased: cased)
    }

    // MARK: plan shaping

    func simplify(_ n: MatchNode) -> MatchNode {
        switch n {
        case .and(let xs):
            var out: [MatchNode] = []
            for x in xs.map(simplify) {
                if case .and(let inner) = x { out += inner }
                else if case .constant(true) = x { continue }
                else if case .constant(false) = x { return .constant(false) }
                else { out.append(x) }
            }
            return out.isEmpty ? .constant(true) : out.count == 1 ? out[0] : .and(out)
        case .or(let xs):
            var out: [MatchNode] = []
            for x in xs.map(simplify) {
                if case .or(let inner) = x { out += inner }
                else if case .constant(false) = x { continue }
                else if case .constant(true) = x { return .constant(true) }
                else { out.append(x) }
            }
            return out.isEmpty ? .constant(false) : out.count == 1 ? out[0] : .or(out)
        case .not(let x):
            let s = simplify(x)
            if case .not(let y) = s { return y }
            if case .constant(let b) = s { return .constant(!b) }
            return .not(s)
        default: return n
        }
    }

    func cost(_ n: MatchNode) -> Int {
        switch n {
        case .predicate(let i):
            let p = predicates[i]
            return p.test.cost * (p.slot == Predicate.keywordSlot ? 20 : 1)
        case .constant: return 0
        case .not(let x): return cost(x)
        case .and(let xs), .or(let xs): return xs.reduce(0) { $0 + cost($1) }
        }
    }

    /// Cheap tests first; regex and keyword scans last (short-circuiting makes this pay).
    func order(_ n: MatchNode) -> MatchNode {
        switch n {
        case .and(let xs): return .and(xs.map(order).sorted { cost($0) < cost($1) })
        case .or(let xs): return .or(xs.map(order).sorted { cost($0) < cost($1) })
        case .not(let x): return .not(order(x))
        default: return n
        }
    }

    func isOperationSlot(_ slot: Int) -> Bool {
        guard slot >= 0 else { return false }
        let s = slots[slot]
        return s.perShape.isEmpty && (s.defaultPath.typedField == .operation || s.defaultPath.typedField == .operationName)
    }

    /// Operation names one of which must be present for the rule to match; nil = unconstrained.
    func requiredOperations(_ n: MatchNode) -> Set<String>? {
        switch n {
        case .predicate(let i):
            let p = predicates[i]
            guard isOperationSlot(p.slot), case .equals(let b, _) = p.test else { return nil }
            return [String(decoding: Bytes.fold(b), as: UTF8.self)]
        case .and(let xs):
            var best: Set<String>?
            for x in xs { if let s = requiredOperations(x), s.count < (best?.count ?? Int.max) { best = s } }
            return best
        case .or(let xs):
            var acc = Set<String>()
            for x in xs { guard let s = requiredOperations(x) else { return nil }; acc.formUnion(s) }
            return acc
        case .not, .constant: return nil
        }
    }

    func finish() -> CompiledRuleSet {
        CompiledRuleSet(rules: rules, predicates: predicates, slots: slots, regexes: regexes)
    }
}
