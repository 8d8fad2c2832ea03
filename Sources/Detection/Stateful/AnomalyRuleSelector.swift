// Which anomaly rules select an event, answered from small caches: an event's lower-cased
// operation and its category each map to a bit set of the rules they pass, computed once per
// distinct value, so the hot path does not match every rule's operation patterns and category
// list per event (the same answers `CompiledAnomalyRule.matches` gives).
import EventModel

/// Bits over the rules (`CompiledAnomalyRule.index`), then, in operation sets, one bit per space
/// saying whether the space keeps the operation's first use (its `first_sensitive_operation`
/// operations).
struct RuleBits: Equatable {
    var words: [UInt64]

    init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }

    func has(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    mutating func set(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
}

/// One event's answers: a rule selects it when its kind, operation and category bits are all set.
struct RuleSelection {
    let kind: RuleBits
    let operation: RuleBits
    let category: RuleBits
    let ruleCount: Int

    func selects(_ rule: CompiledAnomalyRule) -> Bool {
        kind.has(rule.index) && operation.has(rule.index) && category.has(rule.index)
    }

    /// Whether `space` keeps the first use of this event's operation beyond the profile's cap.
    func keepsOperation(_ space: Space) -> Bool { operation.has(ruleCount + space.index) }
}

struct AnomalyRuleSelector {
    /// Distinct operations or categories remembered before the caches start over.
    static let cacheLimit = 4_096

    private let rules: [CompiledAnomalyRule]
    private let spaces: [Space]
    private let width: Int
    private var byKind: [EventKind: RuleBits] = [:]
    private var byOperation: [String: RuleBits] = [:]
    private var byCategory: [String: RuleBits] = [:]
    private let noOperation: RuleBits
    private let noCategory: RuleBits
    private let needsCategory: Bool

    init(rules: [CompiledAnomalyRule], spaces: [Space]) {
        self.rules = rules
        self.spaces = spaces
        width = rules.count + spaces.count
        var none = RuleBits(count: width), noCat = RuleBits(count: width)
        for r in rules {
            if r.operations.isEmpty { none.set(r.index) }
            if r.categories.isEmpty { noCat.set(r.index) }
        }
        noOperation = none
        noCategory = noCat
        needsCategory = rules.contains { !$0.categories.isEmpty }
        for kind in EventKind.allCases {
            var bits = RuleBits(count: width)
            for r in rules where r.rule.eventKinds.contains(kind) { bits.set(r.index) }
            byKind[kind] = bits
        }
    }

    mutating func select(_ event: Event) -> RuleSelection {
        RuleSelection(kind: byKind[event.kind] ?? RuleBits(count: width), operation: operationBits(event.operation),
                      category: needsCategory ? categoryBits(event.category) : noCategory, ruleCount: rules.count)
    }

    private mutating func operationBits(_ operation: String?) -> RuleBits {
        guard let operation else { return noOperation }
        if let bits = byOperation[operation] { return bits }
        var bits = RuleBits(count: width)
        for r in rules where r.operations.isEmpty || r.operations.matches(operation) { bits.set(r.index) }
        for s in spaces where s.watchedOperations.matches(operation) { bits.set(rules.count + s.index) }
        if byOperation.count >= Self.cacheLimit { byOperation.removeAll(keepingCapacity: true) }
        byOperation[operation] = bits
        return bits
    }

    private mutating func categoryBits(_ category: String?) -> RuleBits {
        guard let category else { return noCategory }
        if let bits = byCategory[category] { return bits }
        let folded = category.lowercased()
        var bits = RuleBits(count: width)
        for r in rules where r.categories.isEmpty || r.categories.contains(folded) { bits.set(r.index) }
        if byCategory.count >= Self.cacheLimit { byCategory.removeAll(keepingCapacity: true) }
        byCategory[category] = bits
        return bits
    }
}
