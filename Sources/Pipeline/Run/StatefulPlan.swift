import Detection
import EventModel

/// How `vigil run` splits one rule set for scale-out (docs/ingest.md, "Scale-out of stateful rules"):
/// which rules stage 1 runs on the source hubs, how each event is re-keyed for stage 2, and which
/// alerts each stage may raise (so the two stages never raise the same alert twice, and never a
/// stateful alert from a partial view).
///
/// Key families (the message key's first field says which detection of stage 2 reads it):
/// - `i␟<caller>` (identity): every event, keyed by its caller (lower-cased; empty when none).
///   Correlations whose group-by includes `vigil.caller` (for every step), the anomaly rules (per
///   identity) and operation assembly (one correlationId has one caller) run here.
/// - `c␟<correlation id>␟<group-by values>`: for each other correlation (group-by without the
///   caller, e.g. subscription + resource group), the events its base rules match, keyed by exactly
///   the correlator's group key. That correlation alone runs on them, with the correlations it
///   chains on (their group-by includes its own, so a chain's events share its key).
struct StatefulPlan {
    static let separator = "\u{1F}"

    /// Stage 1: the Sigma rules without correlations and anomaly rules.
    let stateless: RuleSetup
    /// Stage 2, identity family: the rules without the correlations of the other families.
    let identity: RuleSetup
    /// Stage 2, one family per correlation not keyed by the caller (and not chained on by another).
    let groups: [(correlation: CompiledCorrelation, rules: RuleSetup)]

    /// Alerts stage 1 must not raise: base rules the full set suppresses (`generate: false`) and
    /// rules on assembled operations (assembly needs every record of an operation).
    let statelessDrops: Set<String>
    /// The only alerts the identity family raises (the rest are stage 1's).
    let identityKeeps: Set<String>
    /// Base rule index → the group families it feeds (indexes into `groups`), with where its
    /// events keep the family's group-by values.
    private let groupFeeds: [Int: [(group: Int, sources: [FieldSource])]]
    private let full: CompiledRuleSet
    private let matcher: Engine

    init(_ rules: RuleSetup) {
        let full = rules.compiled
        self.full = full
        let set = full.correlations
        // A chain runs where its last correlation (a root) runs: by caller only when every
        // correlation of the chain is keyed by the caller.
        let byCaller = set.roots.filter { set.subset([$0]).correlations.allSatisfy(Self.keyedByCaller) }
        let others = set.roots.filter { !byCaller.contains($0) }
        func subset(_ c: CorrelationSet, anomaly: Bool) -> RuleSetup {
            var r = rules
            r.compiled = CompiledRuleSet(rules: full.rules, predicates: full.predicates, slots: full.slots, regexes: full.regexes,
                                         correlations: c)
            if !anomaly { r.anomalyRules = [] }
            return r
        }
        let identityCorrelations = set.subset(byCaller)
        stateless = subset(CorrelationSet(), anomaly: false)
        identity = subset(identityCorrelations, anomaly: true)
        groups = others.map { (set.correlations[$0], subset(set.subset([$0]), anomaly: false)) }
        let assembled = Set(full.rules.filter { $0.kinds.contains(.operation) }.map(\.id))
        statelessDrops = Set(set.suppressed.map { full.rules[$0].id }).union(assembled)
        identityKeeps = Set(identityCorrelations.correlations.map(\.id)).union(rules.anomalyRules.map(\.id)).union(assembled)
        // A rule met twice in a chain gives the same key twice; `keys(for:)` keeps it once.
        var feeds: [Int: [(group: Int, sources: [FieldSource])]] = [:]
        for (gi, root) in others.enumerated() {
            for leaf in set.leafKeys(of: root) { feeds[leaf.ruleIndex, default: []].append((gi, leaf.sources)) }
        }
        groupFeeds = feeds
        matcher = Engine(rules: CompiledRuleSet(rules: full.rules, predicates: full.predicates, slots: full.slots, regexes: full.regexes),
                         unknownKindMeetsAllRules: false)
    }

    /// Every step groups by a field that is the caller on every record shape.
    static func keyedByCaller(_ c: CompiledCorrelation) -> Bool {
        func isCaller(_ p: FieldPath) -> Bool { p.typedField == .caller }
        return c.steps.allSatisfy { step in
            step.groupSources.contains { s in isCaller(s.defaultPath) && s.perShape.values.allSatisfy(isCaller) }
        }
    }

    static func identityKey(_ event: Event) -> String { "i" + separator + (event.caller?.lowercased() ?? "") }

    /// The keys one event is re-published under: its identity key, and one per group family whose
    /// base rules it matches (a cheap index lookup first; the full match only for candidates).
    func keys(for event: Event) -> [String] {
        var out = [Self.identityKey(event)]
        guard !groupFeeds.isEmpty else { return out }
        let op = CompiledRuleSet.indexedOperation(event)
        let (a, b) = full.candidates(kind: event.kind, operation: op, unknownMeetsAll: false)
        guard (a + b).contains(where: { groupFeeds[$0] != nil }) else { return out }
        for ruleIndex in matcher.matchingRules(event) {
            for feed in groupFeeds[ruleIndex] ?? [] {
                let values = feed.sources.map { event.values(at: $0.path(for: event.shape)).first?.text ?? "" }
                let key = (["c", groups[feed.group].correlation.id] + values).joined(separator: Self.separator)
                if !out.contains(key) { out.append(key) }
            }
        }
        return out
    }

    /// The stage-2 family a key belongs to: nil = identity, else an index into `groups`.
    func family(ofKey key: [UInt8]?) -> Int?? {
        guard let key, let text = String(validating: key, as: UTF8.self) else { return .some(nil) }
        let parts = text.split(separator: Self.separator, maxSplits: 2, omittingEmptySubsequences: false)
        if parts.first == "i" { return .some(nil) }
        guard parts.first == "c", parts.count >= 2, let gi = groups.firstIndex(where: { $0.correlation.id == parts[1] }) else { return .none }
        return .some(gi)
    }
}
