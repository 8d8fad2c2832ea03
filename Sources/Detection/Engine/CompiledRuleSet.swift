// The immutable output of the compiler: rules, shared predicates, field slots, regexes, the
// kind/operation index and the equality groups. Built once; shared by every engine (Sendable).
import EventModel

public final class CompiledRuleSet: Sendable {
    public let rules: [CompiledRule]
    public let predicates: [Predicate]
    public let slots: [FieldSource]
    public let regexes: [SafeRegex]
    /// Sigma correlation rules over these rules (Correlation/).
    public let correlations: CorrelationSet

    /// Rules an event of a kind may meet: by exact lower-cased operation, and the rest.
    struct Bucket: Sendable {
        var byOperation: [String: [Int]] = [:]
        var unconstrained: [Int] = []
    }
    let buckets: [EventKind: Bucket]
    let allRules: [Int]

    /// Many `equals` tests on one field answered by one hash lookup per value.
    struct EqualityGroup: Sendable {
        var slot: Int
        var members: [Int]
        var table: [[UInt8]: [Int]]
    }
    let groups: [EqualityGroup]
    /// Predicate → its group, -1 when it is tested alone.
    let groupOf: [Int]

    /// Equality tests on one field are grouped from this many on.
    public static let groupThreshold = 3

    /// Many `cidr` tests on one field answered by one hash lookup per prefix length and address
    /// (a pack's IP allow/deny lists: hundreds of ranges, a handful of prefix lengths).
    struct CIDRGroup: Sendable {
        var slot: Int
        var members: [Int]
        /// Prefix length (over the 16-byte form) → masked network address → predicates.
        var byPrefix: [(prefix: Int, table: [[UInt8]: [Int]])]
    }
    let cidrGroups: [CIDRGroup]
    /// Predicate → its CIDR group, -1 when it is tested alone.
    let cidrGroupOf: [Int]

    /// Per rule, predicates it cannot match without (the predicate conjuncts of its top-level
    /// `and`, nested `and`s included), cheapest first: rule `i` has
    /// `guardList[guardStart[i]..<guardStart[i + 1]]`. The engine tests them (memoised, shared by
    /// rules) before walking the plan, so a rule that fails a shared test costs array lookups.
    let guardStart: [Int]
    let guardList: [Int]
    /// At most this many guards per rule.
    static let maxGuards = 4

    public init(rules: [CompiledRule], predicates: [Predicate], slots: [FieldSource], regexes: [SafeRegex],
                correlations: CorrelationSet = CorrelationSet()) {
        self.correlations = correlations
        self.rules = rules
        self.predicates = predicates
        self.slots = slots
        self.regexes = regexes
        var buckets: [EventKind: Bucket] = [:]
        for (i, r) in rules.enumerated() {
            for k in r.kinds {
                if let ops = r.operations {
                    for op in ops { buckets[k, default: Bucket()].byOperation[op, default: []].append(i) }
                } else {
                    buckets[k, default: Bucket()].unconstrained.append(i)
                }
            }
        }
        self.buckets = buckets
        self.allRules = Array(rules.indices)

        var bySlot: [Int: [Int]] = [:]
        for (i, p) in predicates.enumerated() {
            if case .equals(_, false) = p.test, p.slot >= 0 { bySlot[p.slot, default: []].append(i) }
        }
        var groups: [EqualityGroup] = []
        var groupOf = Array(repeating: -1, count: predicates.count)
        for (slot, members) in bySlot.sorted(by: { $0.key < $1.key }) where members.count >= CompiledRuleSet.groupThreshold {
            var table: [[UInt8]: [Int]] = [:]
            for m in members {
                if case .equals(let b, _) = predicates[m].test { table[b, default: []].append(m) }
                groupOf[m] = groups.count
            }
            groups.append(EqualityGroup(slot: slot, members: members, table: table))
        }
        self.groups = groups
        self.groupOf = groupOf

        var cidrBySlot: [Int: [Int]] = [:]
        for (i, p) in predicates.enumerated() {
            if case .cidr = p.test, p.slot >= 0 { cidrBySlot[p.slot, default: []].append(i) }
        }
        var cidrGroups: [CIDRGroup] = []
        var cidrGroupOf = Array(repeating: -1, count: predicates.count)
        for (slot, members) in cidrBySlot.sorted(by: { $0.key < $1.key }) where members.count >= CompiledRuleSet.groupThreshold {
            var byPrefix: [Int: [[UInt8]: [Int]]] = [:]
            for m in members {
                if case .cidr(let net) = predicates[m].test { byPrefix[net.prefix, default: [:]][net.address, default: []].append(m) }
                cidrGroupOf[m] = cidrGroups.count
            }
            cidrGroups.append(CIDRGroup(slot: slot, members: members,
                                        byPrefix: byPrefix.sorted { $0.key < $1.key }.map { (prefix: $0.key, table: $0.value) }))
        }
        self.cidrGroups = cidrGroups
        self.cidrGroupOf = cidrGroupOf

        var guardStart: [Int] = [0]
        var guardList: [Int] = []
        for rule in rules {
            var conjuncts: [Int] = []
            func collect(_ n: MatchNode) {
                switch n {
                case .predicate(let i): if !conjuncts.contains(i) { conjuncts.append(i) }
                case .and(let xs): xs.forEach(collect)
                default: break
                }
            }
            collect(rule.root)
            conjuncts.sort { predicates[$0].test.cost < predicates[$1].test.cost }
            guardList += conjuncts.prefix(CompiledRuleSet.maxGuards)
            guardStart.append(guardList.count)
        }
        self.guardStart = guardStart
        self.guardList = guardList
    }

    public func rule(id: String) -> CompiledRule? {
        rules.first { $0.id.lowercased() == id.lowercased() }
    }

    /// Every slot whose path the rules read (for pushing a projection into the decoder).
    public var fieldPaths: [FieldSource] { slots }

    /// The operation the index files `event` under: its lower-cased operation.
    public static func indexedOperation(_ event: Event) -> String? {
        event.operation ?? event.operationName?.lowercased()
    }

    /// Rule indexes an event of this kind and operation meets.
    public func candidates(kind: EventKind, operation: String?, unknownMeetsAll: Bool) -> ([Int], [Int]) {
        if kind == .unknown && unknownMeetsAll { return (allRules, []) }
        guard let b = buckets[kind] else { return ([], []) }
        let byOp = operation.flatMap { b.byOperation[$0] } ?? []
        return (b.unconstrained, byOp)
    }

    /// The compiled plan of one rule, for `vigil rules explain`.
    public func explain(_ rule: CompiledRule) -> String {
        var out = "rule \(rule.id): \(rule.title)\n"
        out += "  defined at: \(rule.location)\n"
        out += "  log source: \(rule.logsource)\n"
        out += "  severity: \(rule.severity.rawValue)\n"
        if !rule.tactics.isEmpty || !rule.techniques.isEmpty {
            out += "  attack: tactics [\(rule.tactics.joined(separator: ", "))], techniques [\(rule.techniques.joined(separator: ", "))]\n"
        }
        out += "  index: kinds [\(rule.kinds.map(\.rawValue).joined(separator: ", "))]"
        if let ops = rule.operations { out += ", operation ∈ {\(ops.joined(separator: ", "))}\n" } else { out += ", any operation (per-kind bucket)\n" }
        if !rule.filters.isEmpty { out += "  filters: \(rule.filters.joined(separator: ", "))\n" }
        var used = Set<Int>()
        func collect(_ n: MatchNode) {
            switch n {
            case .predicate(let i): used.insert(predicates[i].slot); if case .fieldRef(let s, _, _) = predicates[i].test { used.insert(s) }
            case .and(let xs), .or(let xs): xs.forEach(collect)
            case .not(let x): collect(x)
            case .constant: break
            }
        }
        collect(rule.root)
        out += "  fields:\n"
        for s in used.sorted() {
            out += s < 0 ? "    #kw  every string value in the record (keyword search: walks the whole record)\n" : "    #\(s)  \(slots[s])\n"
        }
        out += "  entities: " + rule.entities.map { "\($0.kind.rawValue)=\($0.source)" }.joined(separator: ", ") + "\n"
        out += "  plan (cheapest first):\n"
        func tree(_ n: MatchNode, _ indent: String) {
            switch n {
            case .and(let xs): out += indent + "all of:\n"; xs.forEach { tree($0, indent + "  ") }
            case .or(let xs): out += indent + "any of:\n"; xs.forEach { tree($0, indent + "  ") }
            case .not(let x): out += indent + "not:\n"; tree(x, indent + "  ")
            case .constant(let b): out += indent + "\(b)\n"
            case .predicate(let i):
                let p = predicates[i]
                var desc = p.test.summary
                if case .regex(let r) = p.test { desc = "regex \(regexes[r]) (linear-time, \(regexes[r].instructionCount) states)" }
                let field = p.slot < 0 ? "#kw" : "#\(p.slot)"
                let group = groupOf[i] >= 0 ? "  [equality group \(groupOf[i]): \(groups[groupOf[i]].members.count) literals, one hash lookup]" : ""
                out += indent + "\(field) \(desc)  (p\(i))\(group)\n"
            }
        }
        tree(rule.root, "    ")
        return out
    }
}
