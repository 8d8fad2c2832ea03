// The compiled form of a Sigma correlation rule: which base rules feed it (as indexes into the
// rule set), how each base rule's events are keyed (group-by fields resolved per base rule through
// the field map and the aliases), the window and the condition. Built by `CorrelationCompiler`,
// run by `Correlator`.
import EventModel

public enum CorrelationType: String, Sendable, CaseIterable {
    case eventCount = "event_count"
    case valueCount = "value_count"
    case valueSum = "value_sum"
    case valueAvg = "value_avg"
    case temporal
    case temporalOrdered = "temporal_ordered"

    /// Types that aggregate the events of all their rules together (event_count, value_*): an
    /// event two of the rules match is one event, as in a backend's `(a or b) | stats count`.
    /// temporal types count rules, so there it stands for each rule it matched.
    public var poolsRules: Bool { self != .temporal && self != .temporalOrdered }

    /// Types whose condition reads a field of the events (`condition.field`).
    public var needsField: Bool { self == .valueCount || self == .valueSum || self == .valueAvg }
}

/// `condition: {gte: 10}` (with `field:` for value_*). Several comparisons are ANDed: the
/// specification's range form, `{gt: 100, lte: 200}`.
public struct CorrelationCondition: Sendable, Equatable {
    public enum Op: String, Sendable, CaseIterable { case gt, gte, lt, lte, eq, neq }

    public struct Comparison: Sendable, Equatable {
        public var op: Op
        public var threshold: Double

        public init(_ op: Op, _ threshold: Double) {
            self.op = op
            self.threshold = threshold
        }

        public func holds(_ x: Double) -> Bool {
            switch op {
            case .gt: return x > threshold
            case .gte: return x >= threshold
            case .lt: return x < threshold
            case .lte: return x <= threshold
            case .eq: return x == threshold
            case .neq: return x != threshold
            }
        }

        var summary: String {
            let t = threshold == threshold.rounded() ? String(Int64(threshold)) : String(threshold)
            let sym = [Op.gt: ">", .gte: "≥", .lt: "<", .lte: "≤", .eq: "=", .neq: "≠"][op]!
            return "\(sym) \(t)"
        }
    }

    /// Never empty; every one must hold.
    public var comparisons: [Comparison]
    public var field: String?

    public init(op: Op, threshold: Double, field: String? = nil) {
        self.init([Comparison(op, threshold)], field: field)
    }

    public init(_ comparisons: [Comparison], field: String? = nil) {
        precondition(!comparisons.isEmpty, "a condition has at least one comparison")
        self.comparisons = comparisons
        self.field = field
    }

    /// temporal / temporal_ordered without a condition: every one of `rules` referenced rules.
    public static func allRules(_ rules: Int) -> CorrelationCondition { CorrelationCondition(op: .gte, threshold: Double(rules)) }

    public func holds(_ x: Double) -> Bool { comparisons.allSatisfy { $0.holds(x) } }

    /// gt/gte can only become true as a window fills: they fire on the event that makes them
    /// true (sliding window). Anything with an upper bound or an equality (a range included) can
    /// be undone by the next event, so it is judged when the window closes (tumbling window
    /// anchored at the group's first event).
    public var firesEarly: Bool { comparisons.allSatisfy { $0.op == .gt || $0.op == .gte } }

    public var summary: String { comparisons.map(\.summary).joined(separator: " and ") }

    /// The text `definitionHash` reads; a single comparison keeps the form it had before ranges,
    /// so saved windows of unchanged rules survive the upgrade.
    var definitionText: String {
        comparisons.map { "\($0.op.rawValue) \($0.threshold)" }.joined(separator: ", ") + " \(field ?? "")"
    }
}

/// One referenced rule as a correlation reads it: a base rule, or another correlation whose
/// alerts it takes as events (chaining, Sigma correlation spec "Related rules").
public struct CorrelationStep: Sendable {
    /// The reference as written in `rules:`.
    public var reference: String
    /// Index into `CompiledRuleSet.rules`; -1 for a chained step.
    public var ruleIndex: Int
    /// The id of the rule (or correlation) referenced.
    public var ruleId: String
    /// A chained step: the index (in `CorrelationSet.correlations`) of the correlation whose
    /// alerts feed this step, and, per group-by field of this correlation (and for
    /// `condition.field`), its position in that correlation's group-by: a correlation that chains
    /// on another reads the fields that one grouped by (the spec's chaining example).
    public var chained: (correlation: Int, keyPositions: [Int], valuePosition: Int?)?
    /// One source per group-by field, in `groupBy` order (aliases applied). For a chained step,
    /// the source the referenced correlation's first step reads at that position (so a scale-out
    /// plan can tell what the chain is keyed by); the key itself comes from `chained`.
    public var groupSources: [FieldSource]
    /// The `condition.field` source (value_count / value_sum / value_avg).
    public var valueSource: FieldSource?
    /// Entities to take from this step's events.
    public var entities: [(kind: Entity.Kind, source: FieldSource)]
}

public struct CompiledCorrelation: Sendable {
    public var id: String
    public var title: String
    public var description: String?
    public var severity: Severity
    public var tactics: [String]
    public var techniques: [String]
    public var type: CorrelationType
    public var steps: [CorrelationStep]
    public var groupBy: [String]
    public var timespanSeconds: Int64
    public var timespanText: String
    public var condition: CorrelationCondition
    public var generate: Bool
    public var entityGroupBy: [Entity.Kind]
    public var entityGroupByAll: Bool
    public var baselineControls: [String]
    public var location: SourceLocation

    public var timespanNanos: Int64 { timespanSeconds &* 1_000_000_000 }

    /// A stable hash of everything that decides what a window holds and when it fires: type, base
    /// rules in order, the field each reads for its key and value, group-by, timespan, condition.
    /// Title, description, severity, tags and entities are left out: editing them keeps the windows.
    /// A stored window whose hash differs from the loaded rule's is dropped at restore.
    public var definitionHash: String {
        var text = "v1|\(type.rawValue)|\(timespanSeconds)|\(condition.definitionText)"
        text += "|" + groupBy.joined(separator: "\u{1F}")
        for s in steps {
            text += "|\(s.ruleId.lowercased()):" + s.groupSources.map(\.description).joined(separator: "\u{1F}")
            text += ":" + (s.valueSource?.description ?? "")
            if let c = s.chained { text += ":chained " + c.keyPositions.map(String.init).joined(separator: ",") + ":\(c.valuePosition ?? -1)" }
        }
        return StableID.uuid(from: text)
    }
}

/// Every correlation of a rule set, and which base rules (and which correlations) feed which.
/// A correlation always comes after the correlations it chains on (the compiler orders them).
public struct CorrelationSet: Sendable {
    public var correlations: [CompiledCorrelation]
    /// Base rule indexes whose own alerts are not raised (referenced only with `generate: false`).
    public var suppressed: Set<Int>
    /// Correlations whose own alerts are not raised: chained on only by correlations with
    /// `generate: false` (their alerts still feed those correlations).
    public var suppressedCorrelations: Set<Int>
    /// Base rule index → (correlation index, step index) pairs.
    public var feeds: [Int: [(correlation: Int, step: Int)]]
    /// Correlation index → the (correlation, step) pairs its alerts feed.
    public var chainedFeeds: [Int: [(correlation: Int, step: Int)]]

    public init(_ correlations: [CompiledCorrelation] = []) {
        self.correlations = correlations
        var feeds: [Int: [(correlation: Int, step: Int)]] = [:]
        var chainedFeeds: [Int: [(correlation: Int, step: Int)]] = [:]
        var generating = Set<Int>(), referenced = Set<Int>()
        var generatingC = Set<Int>(), referencedC = Set<Int>()
        for (ci, c) in correlations.enumerated() {
            for (si, s) in c.steps.enumerated() {
                if let inner = s.chained?.correlation {
                    chainedFeeds[inner, default: []].append((ci, si))
                    referencedC.insert(inner)
                    if c.generate { generatingC.insert(inner) }
                } else {
                    feeds[s.ruleIndex, default: []].append((ci, si))
                    referenced.insert(s.ruleIndex)
                    if c.generate { generating.insert(s.ruleIndex) }
                }
            }
        }
        self.feeds = feeds
        self.chainedFeeds = chainedFeeds
        self.suppressed = referenced.subtracting(generating)
        self.suppressedCorrelations = referencedC.subtracting(generatingC)
    }

    public var isEmpty: Bool { correlations.isEmpty }

    public func correlation(id: String) -> CompiledCorrelation? {
        correlations.first { $0.id.lowercased() == id.lowercased() || $0.title.lowercased() == id.lowercased() }
    }

    /// A set of the correlations `indexes` and every correlation they chain on, transitively, in
    /// this set's order (inputs first), chained indexes renumbered: what must run together.
    public func subset(_ indexes: [Int]) -> CorrelationSet {
        var keep = Set<Int>()
        var todo = indexes
        while let i = todo.popLast() {
            guard keep.insert(i).inserted else { continue }
            todo += correlations[i].steps.compactMap { $0.chained?.correlation }
        }
        let order = keep.sorted()
        let renumber = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return CorrelationSet(order.map { i in
            var c = correlations[i]
            for si in c.steps.indices {
                if let chained = c.steps[si].chained {
                    c.steps[si].chained = (renumber[chained.correlation]!, chained.keyPositions, chained.valuePosition)
                }
            }
            return c
        })
    }

    /// Every base rule that feeds correlation `ci`, directly or through the correlations it chains
    /// on, with where an event of that rule keeps each of `ci`'s group-by values.
    public func leafKeys(of ci: Int) -> [(ruleIndex: Int, sources: [FieldSource])] {
        correlations[ci].steps.flatMap { step -> [(ruleIndex: Int, sources: [FieldSource])] in
            guard let chain = step.chained else { return [(step.ruleIndex, step.groupSources)] }
            return leafKeys(of: chain.correlation).map { leaf in (leaf.ruleIndex, chain.keyPositions.map { leaf.sources[$0] }) }
        }
    }

    /// Correlations no other correlation of the set chains on.
    public var roots: [Int] { correlations.indices.filter { chainedFeeds[$0] == nil } }
}

extension CompiledRuleSet {
    /// The same rules with these correlations attached.
    func with(correlations: CorrelationSet) -> CompiledRuleSet {
        CompiledRuleSet(rules: rules, predicates: predicates, slots: slots, regexes: regexes, correlations: correlations)
    }
}
