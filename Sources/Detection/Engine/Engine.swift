// The hot loop: one event in, the alerts of the rules it matches out.
//
// Per event: pick the rules of the event's kind (and, for rules that need one, its exact
// operation); evaluate their plans with a memo shared by all rules (a predicate is tested at most
// once per event, a field is extracted at most once per event, an equality group answers all its
// literals with one lookup). Nothing is allocated per rule; the scratch arrays are reused and
// invalidated by bumping a generation counter.
//
// An `Engine` holds mutable scratch: use one engine per thread (they can share a CompiledRuleSet).
import EventModel
import FastJSON

/// Counters for tests, `explain` and metrics.
public struct EngineStats: Sendable, Equatable {
    public var events = 0
    /// Rule plans evaluated (a rule not in the event's bucket is never counted).
    public var rulesEvaluated = 0
    public var predicatesEvaluated = 0
    public var alerts = 0
}

public struct Engine: Detector {
    public let rules: CompiledRuleSet
    /// Events the normaliser could not classify (`.unknown`) meet every rule when true (nothing
    /// rules them out); when false they meet none.
    public var unknownKindMeetsAllRules: Bool
    private let scratch: Scratch
    /// Correlation state (Correlation/Correlator.swift); nil when the set has no correlations.
    public let correlator: Correlator?

    public init(rules: CompiledRuleSet, unknownKindMeetsAllRules: Bool = true, correlation: Correlator.Configuration = .init()) {
        self.rules = rules
        self.unknownKindMeetsAllRules = unknownKindMeetsAllRules
        self.scratch = Scratch(rules)
        self.correlator = rules.correlations.isEmpty ? nil : Correlator(rules.correlations, configuration: correlation)
    }

    public var stats: EngineStats { scratch.stats }
    /// Correlation counters (open and evicted groups, …); zero when there are no correlations.
    public var correlationStats: CorrelationStats { correlator?.stats ?? CorrelationStats() }

    /// Both paths at once: the event's own alerts and the correlation windows it completes. For
    /// events already in event-time order (behind an `EventTimeBuffer`, or assembled operations).
    public mutating func process(_ event: Event) -> [Alert] {
        if let correlator { return correlator.process(event, matched: matchingRules(event), engine: self) }
        return matchingRules(event).map { makeAlert(rules.rules[$0], event) }
    }

    // MARK: the two paths (Pipeline's DetectionStage)

    /// Arrival path, on every event as it arrives, in any order: the alerts of the rules it matches
    /// (ids from rule + event, so order does not matter), and the matched rules that feed
    /// correlations (`[]` when none). Give those, in event-time order, to `feedCorrelations`.
    public mutating func detect(_ event: Event) -> (alerts: [Alert], feeding: [Int]) {
        let matched = matchingRules(event)
        guard let correlator else { return (matched.map { makeAlert(rules.rules[$0], event) }, []) }
        return (correlator.ruleAlerts(event, matched: matched, engine: self), correlator.feeding(matched))
    }

    /// Event-time path: the correlation windows `event` enters (`matched` from `detect`). Events
    /// in event-time order, none behind the watermark.
    public mutating func feedCorrelations(_ event: Event, matched: [Int]) -> [Alert] {
        correlator?.feed(event, matched: matched) ?? []
    }

    /// Event time passed `watermark` (no event before it is still to come): judges ended windows.
    public mutating func advance(to watermark: EventTime) -> [Alert] {
        correlator?.advance(to: watermark) ?? []
    }

    /// Whether correlations need events in event time at all.
    public var hasCorrelations: Bool { correlator != nil }

    /// Indexes (into `rules.rules`) of the rules this event matches, in rule order.
    public func matchingRules(_ event: Event) -> [Int] {
        let s = scratch
        s.begin(event)
        s.counters.events += 1
        let op = CompiledRuleSet.indexedOperation(event)
        let (a, b) = rules.candidates(kind: event.kind, operation: op, unknownMeetsAll: unknownKindMeetsAllRules)
        var out: [Int] = []
        for i in a where s.passes(i) { out.append(i) }
        for i in b where s.passes(i) { out.append(i) }
        s.counters.rulesEvaluated += a.count + b.count
        s.counters.alerts += out.count
        if !b.isEmpty && !a.isEmpty { out.sort() }
        return out
    }

    /// An event that arrived behind the watermark: stateless rules see it, correlation windows do
    /// not (re-opening windows that already answered would make replays order-dependent).
    public mutating func processLate(_ event: Event) -> [Alert] {
        guard let correlator else { return process(event) }
        return correlator.process(event, matched: matchingRules(event), engine: self, late: true)
    }

    /// End of input: judges correlation windows still open (lt/lte/eq/neq conditions).
    public mutating func finish() -> [Alert] { correlator?.finish() ?? [] }

    func makeAlert(_ r: CompiledRule, _ event: Event) -> Alert {
        var entities: [Entity] = []
        var seen = Set<String>()
        for (kind, source) in r.entities {
            for v in event.values(at: source.path(for: event.shape)) {
                guard let text = v.text, !text.isEmpty else { continue }
                let e = Entity(kind: kind, value: text)
                if seen.insert(e.key).inserted { entities.append(e) }
            }
        }
        let ids = [event.idString]
        return Alert(id: Alert.makeId(ruleId: r.id, eventIds: ids), ruleId: r.id, ruleTitle: r.title, severity: r.severity,
                     tactics: r.tactics, techniques: r.techniques, entities: entities, time: event.time ?? EventTime(nanoseconds: 0),
                     position: event.position, description: Engine.alertDescription(r.summary, event), eventIds: ids,
                     evidence: [event.record.root.jsonText], groupBy: r.groupBy, groupByAll: r.groupByAll,
                     baselineControls: r.baselineControls)
    }

    /// A Sigma alert's description: the rule's first paragraph, then what the event says happened
    /// (operation, caller, resource, address), so the alert reads on its own.
    static func alertDescription(_ summary: String?, _ event: Event) -> String? {
        var facts: [String] = []
        if let op = event.operationName { facts.append(op) }
        if let caller = event.caller { facts.append("by " + caller) }
        if let resource = event.resource?.raw { facts.append("on " + resource) }
        if let ip = event.callerIP { facts.append("from " + ip) }
        if let result = event.result { facts.append("(\(result))") }
        let summary = summary ?? ""
        if facts.isEmpty { return summary.isEmpty ? nil : summary }
        let what = "Event: " + facts.joined(separator: " ") + "."
        return summary.isEmpty ? what : summary + " " + what
    }

    /// The first paragraph of `s` (up to a blank line), its lines trimmed and joined with spaces:
    /// YAML block descriptions wrap sentences across lines.
    static func firstParagraph(_ s: String) -> String {
        var lines: [Substring] = []
        for line in s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty { if lines.isEmpty { continue } else { break } }
            lines.append(Substring(t))
        }
        return lines.joined(separator: " ")
    }
}

extension CIDR {
    /// `out` = `ip` with the bits after `prefix` cleared (the form `address` is stored in).
    static func mask(_ out: inout [UInt8], _ ip: [UInt8], _ prefix: Int) {
        for i in 0..<ip.count {
            let keep = max(0, min(8, prefix - i * 8))
            out[i] = keep == 8 ? ip[i] : ip[i] & UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
    }
}

/// One value of a field, prepared for matching.
struct FieldScalar {
    var raw: [UInt8]
    var folded: [UInt8]
    var number: Double?
    /// A JSON number in the record (not a string that reads as one).
    var isJSONNumber = false
}

/// Per-engine scratch: memo of predicate results and extracted fields, valid for one event.
///
/// The per-predicate and per-slot memo lives in raw buffers owned by this object (allocated once,
/// freed in deinit): the hot loop touches them once per predicate per rule, and class-stored
/// arrays there cost a retain and a dynamic exclusivity check on every access.
final class Scratch {
    let set: CompiledRuleSet
    var generation: UInt32 = 0
    let predGen: UnsafeMutablePointer<UInt32>
    let predVal: UnsafeMutablePointer<Bool>
    let slotGen: UnsafeMutablePointer<UInt32>
    let slotPresent: UnsafeMutablePointer<Bool>     // field present with a non-null value
    let slotAny: UnsafeMutablePointer<Bool>         // field present at all (null included)
    var slotValues: [[FieldScalar]]
    var keywordGen: UInt32 = 0
    var keywordValues: [FieldScalar] = []
    /// Parsed IP addresses of a slot's values, for `cidr` tests (parsed once per event, not once
    /// per CIDR predicate: a pack with hundreds of ranges on one field tests them all against it).
    let ipGen: UnsafeMutablePointer<UInt32>
    var ipValues: [[[UInt8]]]
    /// Copies of the rule set's per-predicate group maps and per-rule guard lists.
    let groupOf: UnsafeMutablePointer<Int32>
    let cidrGroupOf: UnsafeMutablePointer<Int32>
    let guardStart: UnsafeMutablePointer<Int32>
    let guardList: UnsafeMutablePointer<Int32>
    /// Predicates evaluated (EngineStats.predicatesEvaluated), counted outside `stats`.
    var predicateCount = 0
    var event: Event?
    var counters = EngineStats()

    var stats: EngineStats {
        var s = counters
        s.predicatesEvaluated = predicateCount
        return s
    }

    init(_ set: CompiledRuleSet) {
        self.set = set
        let np = max(1, set.predicates.count), ns = max(1, set.slots.count)
        func buffer<T>(_ count: Int, _ value: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: count)
            p.initialize(repeating: value, count: count)
            return p
        }
        predGen = buffer(np, 0)
        predVal = buffer(np, false)
        slotGen = buffer(ns, 0)
        slotPresent = buffer(ns, false)
        slotAny = buffer(ns, false)
        ipGen = buffer(ns, 0)
        slotValues = Array(repeating: [], count: set.slots.count)
        ipValues = Array(repeating: [], count: set.slots.count)
        groupOf = buffer(np, -1)
        cidrGroupOf = buffer(np, -1)
        for i in set.predicates.indices {
            groupOf[i] = Int32(set.groupOf[i])
            cidrGroupOf[i] = Int32(set.cidrGroupOf[i])
        }
        guardStart = buffer(set.guardStart.count, 0)
        for (i, g) in set.guardStart.enumerated() { guardStart[i] = Int32(g) }
        guardList = buffer(max(1, set.guardList.count), 0)
        for (i, g) in set.guardList.enumerated() { guardList[i] = Int32(g) }
    }

    deinit {
        predGen.deallocate(); predVal.deallocate(); slotGen.deallocate(); slotPresent.deallocate()
        slotAny.deallocate(); ipGen.deallocate(); groupOf.deallocate(); cidrGroupOf.deallocate()
        guardStart.deallocate(); guardList.deallocate()
    }

    func begin(_ e: Event) {
        event = e
        generation &+= 1
        if generation == 0 {
            for i in 0..<set.predicates.count { predGen[i] = 0 }
            for i in 0..<set.slots.count { slotGen[i] = 0; ipGen[i] = 0 }
            keywordGen = 0
            generation = 1
        }
    }

    static func scalar(_ v: FieldValue) -> FieldScalar? {
        if v.isNull { return nil }
        let raw: [UInt8]
        if let bytes = v.withUTF8({ Array($0) }) {
            raw = bytes
        } else if let j = v.json {
            raw = Array(j.jsonText.utf8)   // objects and arrays compare as their JSON text
        } else {
            return nil
        }
        let type = v.json?.type
        return FieldScalar(raw: raw, folded: Bytes.fold(raw), number: v.number,
                           isJSONNumber: type == .int || type == .uint || type == .double)
    }

    func values(_ slot: Int) -> [FieldScalar] {
        if slot == Predicate.keywordSlot { return keywords() }
        if slotGen[slot] == generation { return slotValues[slot] }
        let ev = event!
        let found = ev.values(at: set.slots[slot].path(for: ev.shape))
        var out: [FieldScalar] = []
        out.reserveCapacity(found.count)
        for v in found { if let s = Scratch.scalar(v) { out.append(s) } }
        slotValues[slot] = out
        slotAny[slot] = !found.isEmpty
        slotPresent[slot] = !out.isEmpty
        slotGen[slot] = generation
        return out
    }

    /// The values of `slot` that parse as IP addresses (16-byte form).
    func ips(_ slot: Int) -> [[UInt8]] {
        if slot >= 0, ipGen[slot] == generation { return ipValues[slot] }
        let out = values(slot).compactMap { CIDR.parseIP(String(decoding: $0.raw, as: UTF8.self)) }
        if slot >= 0 { ipValues[slot] = out; ipGen[slot] = generation }
        return out
    }

    /// Every string (and number) leaf of the record: what keyword searches look at.
    func keywords() -> [FieldScalar] {
        if keywordGen == generation { return keywordValues }
        var out: [FieldScalar] = []
        func walk(_ v: JSONValue) {
            switch v.type {
            case .object, .array: for c in v.children { walk(c) }
            case .null: break
            default:
                if let s = Scratch.scalar(.json(v)) { out.append(s) }
            }
        }
        walk(event!.record.root)
        keywordValues = out
        keywordGen = generation
        return out
    }

    /// Whether rule `i` matches: its guard predicate first (memoised), then its plan.
    @inline(__always) func passes(_ i: Int) -> Bool {
        var k = Int(guardStart[i])
        let end = Int(guardStart[i + 1])
        while k < end {
            if !test(Int(guardList[k])) { return false }
            k += 1
        }
        return eval(set.rules[i].root)
    }

    func eval(_ n: MatchNode) -> Bool {
        switch n {
        case .predicate(let i): return test(i)
        case .and(let xs):
            for x in xs where !eval(x) { return false }
            return true
        case .or(let xs):
            for x in xs where eval(x) { return true }
            return false
        case .not(let x): return !eval(x)
        case .constant(let b): return b
        }
    }

    func test(_ i: Int) -> Bool {
        if predGen[i] == generation { return predVal[i] }
        let g = Int(groupOf[i])
        if g >= 0 {
            let group = set.groups[g]
            for m in group.members { predGen[m] = generation; predVal[m] = false }
            for v in values(group.slot) {
                if let hits = group.table[v.folded] { for m in hits { predVal[m] = true } }
            }
            predicateCount += 1
            return predVal[i]
        }
        let cg = Int(cidrGroupOf[i])
        if cg >= 0 {
            let group = set.cidrGroups[cg]
            for m in group.members { predGen[m] = generation; predVal[m] = false }
            for ip in ips(group.slot) {
                var masked = ip
                for (prefix, table) in group.byPrefix {
                    CIDR.mask(&masked, ip, prefix)
                    guard let hits = table[masked] else { continue }
                    for m in hits {
                        if case .cidr(let net) = set.predicates[m].test, net.contains(ip) { predVal[m] = true }
                    }
                }
            }
            predicateCount += 1
            return predVal[i]
        }
        let r = compute(set.predicates[i])
        predGen[i] = generation
        predVal[i] = r
        predicateCount += 1
        return r
    }

    func compute(_ p: Predicate) -> Bool {
        let vals = values(p.slot)
        switch p.test {
        case .exists(let want):
            return (p.slot >= 0 ? slotPresent[p.slot] : !vals.isEmpty) == want
        case .isNull:
            return vals.isEmpty
        case .notEquals(let b, let cased):
            guard !vals.isEmpty else { return false }
            return !vals.contains { (cased ? $0.raw : $0.folded) == b }
        case .fieldRef(let other, let cased, let match):
            let ov = values(other)
            for a in vals {
                let x = cased ? a.raw : a.folded
                for b in ov {
                    let y = cased ? b.raw : b.folded
                    switch match {
                    case .equals: if x == y { return true }
                    case .contains: if Bytes.contains(x, y) { return true }
                    case .startswith: if Bytes.hasPrefix(x, y) { return true }
                    case .endswith: if Bytes.hasSuffix(x, y) { return true }
                    }
                }
            }
            return false
        case .equals(let b, let cased):
            for v in vals where (cased ? v.raw : v.folded) == b { return true }
            return false
        case .contains(let b, let cased):
            for v in vals where Bytes.contains(cased ? v.raw : v.folded, b) { return true }
            return false
        case .startsWith(let b, let cased):
            for v in vals where Bytes.hasPrefix(cased ? v.raw : v.folded, b) { return true }
            return false
        case .endsWith(let b, let cased):
            for v in vals where Bytes.hasSuffix(cased ? v.raw : v.folded, b) { return true }
            return false
        case .wildcard(let toks, let cased):
            for v in vals where Bytes.wildcard(cased ? v.raw : v.folded, toks) { return true }
            return false
        case .numberEquals(let d, let text):
            // Text equal, or the same number written as a JSON number or a plain decimal string
            // ("42", "-1.5"): not " 0", "+0", "0x0", "0e0" or "050126", which text backends miss too.
            for v in vals where v.folded == text || (v.number == d && (v.isJSONNumber || Bytes.isPlainDecimal(v.raw))) { return true }
            return false
        case .compare(let op, let d):
            for v in vals {
                guard let x = v.number else { continue }
                switch op {
                case .gt: if x > d { return true }
                case .gte: if x >= d { return true }
                case .lt: if x < d { return true }
                case .lte: if x <= d { return true }
                }
            }
            return false
        case .regex(let r):
            let re = set.regexes[r]
            for v in vals where re.matches(String(decoding: v.raw, as: UTF8.self)) { return true }
            return false
        case .cidr(let net):
            for ip in ips(p.slot) where net.contains(ip) { return true }
            return false
        }
    }
}
