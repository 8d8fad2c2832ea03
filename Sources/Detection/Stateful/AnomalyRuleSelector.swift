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
/// The first 64 bits are kept as words; the full sets only when there are more rules and spaces
/// (so the common selection holds no arrays: nothing to retain per event and space).
struct RuleSelection {
    let ruleCount: Int
    /// The event's operation as the detector's operation id (nil: it has none).
    let operationId: Int32?
    /// Bits 0..<64 of kind ∧ operation ∧ category, and of the operation alone.
    let first: UInt64
    let operationFirst: UInt64
    let wide: (kind: RuleBits, operation: RuleBits, category: RuleBits)?

    init(kind: RuleBits, operation: RuleBits, category: RuleBits, ruleCount: Int, width: Int, operationId: Int32?) {
        self.ruleCount = ruleCount
        self.operationId = operationId
        first = kind.words[0] & operation.words[0] & category.words[0]
        operationFirst = operation.words[0]
        wide = width > 64 ? (kind, operation, category) : nil
    }

    func selects(_ rule: CompiledAnomalyRule) -> Bool { selects(index: rule.index) }

    @inline(__always)
    func selects(index i: Int) -> Bool {
        if i < 64 { return first & (1 << UInt64(i)) != 0 }
        guard let wide else { return false }
        return wide.kind.has(i) && wide.operation.has(i) && wide.category.has(i)
    }

    /// Whether `space` keeps the first use of this event's operation beyond the profile's cap.
    func keepsOperation(_ space: Space) -> Bool {
        let i = ruleCount + space.index
        if i < 64 { return operationFirst & (1 << UInt64(i)) != 0 }
        return wide?.operation.has(i) ?? false
    }
}

struct AnomalyRuleSelector {
    /// Distinct operations or categories remembered before the caches start over.
    static let cacheLimit = 4_096

    private let rules: [CompiledAnomalyRule]
    private let spaces: [Space]
    private let width: Int
    /// By `EventKindMask` bit position.
    private var byKind: [RuleBits] = []
    private var byOperation = HashedTable<String, (bits: RuleBits, id: Int32)>()
    private var byCategory = HashedTable<String, RuleBits>()
    private var lastCategory: (text: String, bits: RuleBits)?
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
        byKind = Array(repeating: RuleBits(count: width), count: 16)
        for kind in EventKind.allCases {
            var bits = RuleBits(count: width)
            for r in rules where r.rule.eventKinds.contains(kind) { bits.set(r.index) }
            byKind[Self.kindIndex(kind)] = bits
        }
    }

    private static func kindIndex(_ kind: EventKind) -> Int { EventKindMask.bit(kind).trailingZeroBitCount }

    /// The event's answers; its operation gets an id from `operationIds` (the detector's).
    mutating func select(_ event: Event, operationIds: inout Interner) -> RuleSelection {
        let op = operationBits(event.operation, operationIds: &operationIds)
        return RuleSelection(kind: byKind[Self.kindIndex(event.kind)], operation: op.bits,
                             category: needsCategory ? categoryBits(event.category) : noCategory, ruleCount: rules.count,
                             width: width, operationId: op.id)
    }

    /// Drops the cached operation ids (the detector started its operation ids over).
    mutating func forgetOperationIds() { byOperation.removeAll() }

    private mutating func operationBits(_ operation: String?, operationIds: inout Interner) -> (bits: RuleBits, id: Int32?) {
        guard let operation else { return (noOperation, nil) }
        let hash = textHash(operation)
        if let found = byOperation[operation, hash: hash] { return (found.bits, found.id) }
        var bits = RuleBits(count: width)
        for r in rules where r.operations.isEmpty || r.operations.matches(operation) { bits.set(r.index) }
        for s in spaces where s.watchedOperations.matches(operation) { bits.set(rules.count + s.index) }
        let id = operationIds.id(of: operation)
        byOperation.set(operation, hash: hash, (bits, id), startingOverAt: Self.cacheLimit)
        return (bits, id)
    }

    private mutating func categoryBits(_ category: String?) -> RuleBits {
        guard let category else { return noCategory }
        // A stream has a handful of categories, mostly in runs: the last answer first (short
        // categories are small strings, compared as two words).
        if let last = lastCategory, last.text == category { return last.bits }
        let hash = textHash(category)
        if let bits = byCategory[category, hash: hash] {
            lastCategory = (category, bits)
            return bits
        }
        let folded = category.lowercased()
        var bits = RuleBits(count: width)
        for r in rules where r.categories.isEmpty || r.categories.contains(folded) { bits.set(r.index) }
        byCategory.set(category, hash: hash, bits, startingOverAt: Self.cacheLimit)
        lastCategory = (category, bits)
        return bits
    }
}
