// Runs the correlations of a rule set in event time. The engine hands it every event with the
// base rules that event matched; events reach it in event-time order (EventTimeBuffer upstream),
// and "now" is the newest event time seen, never the wall clock.
//
// Windows, per correlation and per group-by key:
// - gt / gte conditions: a sliding window of `timespan` ending at the newest event of the group
//   (events whose times are at most `timespan` apart share a window). The condition is checked on
//   every event that enters; when it holds, the alert is raised with the events in the window and
//   the group starts afresh (so one burst gives one alert, the next needs a new full burst).
// - any lt / lte / eq / neq (alone or in a range such as {gt: 1, lte: 3}): a window of `timespan`
//   anchored at the group's first event, judged when event time passes its end (or at
//   `finish()`), then dropped.
// - temporal: every referenced rule (or `condition` many of them) matched inside the window.
//   temporal_ordered: they matched in the order listed (ties in event time keep arrival order),
//   first to last within `timespan`.
//
// State is bounded: at most `maxGroups` open groups per correlation (beyond that expired groups
// are dropped, then the least recently active are evicted, counted in `stats.evictedGroups`), and at
// most `maxEventsPerGroup` events per group (the oldest dropped, counted).
//
// Open windows survive a restart (Correlator+Snapshot.swift): every group a batch changed is
// marked (`State.touched`) and written, or deleted, in the batch's transaction; a restored
// correlator skips the events it had already taken (the fence, see `alreadyTaken`).
import EventModel
import StateStore

public struct CorrelationStats: Sendable, Equatable {
    /// Base-rule matches fed to correlations.
    public var eventsFed = 0
    public var alerts = 0
    public var openGroups = 0
    /// Groups dropped by the cap while their window was still open.
    public var evictedGroups = 0
    /// Events dropped from a full group (oldest first).
    public var droppedEvents = 0
    /// Base-rule matches without an event time (correlations cannot place them).
    public var untimed = 0
    /// value_* events without the condition field.
    public var missingValue = 0
    /// Late events (behind the watermark) given to `Engine.processLate`: stateless rules only.
    public var late = 0
    /// Base-rule matches skipped after a restore because the saved windows had already taken them
    /// (a restarted run re-reads from a checkpoint behind them; a replay reread the same input).
    public var alreadyTaken = 0
    /// Windows restored from the state store.
    public var restoredGroups = 0
    /// Stored windows not restored: their correlation is gone, its definition changed, or the row
    /// could not be read.
    public var discardedGroups = 0
}

public final class Correlator {
    public struct Configuration: Sendable {
        public var maxGroups: Int
        public var maxEventsPerGroup: Int
        /// Events kept as JSON evidence per alert.
        public var evidenceSample: Int
        /// Entities collected per group.
        public var maxEntities: Int
        public init(maxGroups: Int = 10_000, maxEventsPerGroup: Int = 10_000, evidenceSample: Int = 5, maxEntities: Int = 16) {
            self.maxGroups = max(1, maxGroups)
            self.maxEventsPerGroup = max(1, maxEventsPerGroup)
            self.evidenceSample = evidenceSample
            self.maxEntities = maxEntities
        }
    }

    typealias Entry = CorrelationEntry

    final class Group {
        var entries: [Entry] = []
        var first: Int64
        var last: Int64
        var entities: [Entity] = []
        var entityKeys = Set<String>()
        init(time: Int64) { first = time; last = time }

        /// Keeps `e` unless it is already there or the group holds `cap` entities.
        func add(_ e: Entity, cap: Int) {
            guard entities.count < cap, entityKeys.insert(e.key).inserted else { return }
            entities.append(e)
        }
    }

    final class State {
        var groups: [String: Group] = [:]
        var sweepAt: Int64 = .min
        /// Keys whose group was created, changed or removed since the last save.
        var touched = Set<String>()
    }

    public let set: CorrelationSet
    public let configuration: Configuration
    public internal(set) var stats = CorrelationStats()
    var states: [State]
    var seq: UInt64 = 0
    var now: Int64 = .min
    /// The newest event time a window took, and the ids taken at exactly that time: saved with
    /// the windows, it becomes `fence` at restore.
    var taken = TakenMark()
    /// After a restore: events at or before this mark were taken before the restart.
    var fence: TakenMark?
    /// Stored windows to delete at the next save (their correlation is gone or changed).
    var discarded: [(correlationId: String, key: String)] = []
    /// The clock as last written by `save(to:)`.
    var savedClock: StoredCorrelationClock?
    lazy var definitionHashes: [String] = set.correlations.map(\.definitionHash)

    public init(_ set: CorrelationSet, configuration: Configuration = Configuration()) {
        self.set = set
        self.configuration = configuration
        self.states = set.correlations.map { _ in State() }
    }

    /// Per-correlation open group counts (for `stats` and tests).
    public func openGroups(_ correlation: Int) -> Int { states[correlation].groups.count }

    /// The alerts of one event: the base rules' own (unless suppressed) and any correlation it
    /// completes. Both paths at once, for callers that already hold events in event-time order
    /// (rule tests, assembled operations); a late event reaches the base rules only.
    func process(_ event: Event, matched: [Int], engine: Engine, late: Bool = false) -> [Alert] {
        let out = ruleAlerts(event, matched: matched, engine: engine)
        if late {
            stats.late += 1
            return out
        }
        return out + feed(event, matched: matched)
    }

    /// Arrival path: the alerts the matched rules raise on their own (all but those a
    /// `generate: false` correlation suppresses). Their ids come from rule and event, so they do
    /// not depend on arrival order and need no buffering.
    func ruleAlerts(_ event: Event, matched: [Int], engine: Engine) -> [Alert] {
        var out: [Alert] = []
        for i in matched where !set.suppressed.contains(i) { out.append(engine.makeAlert(engine.rules.rules[i], event)) }
        return out
    }

    /// The matched rules that feed some correlation: what the event-time path must carry.
    public func feeding(_ matched: [Int]) -> [Int] {
        matched.contains { set.feeds[$0] != nil } ? matched.filter { set.feeds[$0] != nil } : []
    }

    /// Event-time path: adds the event to the windows its matched rules feed. Call in event-time
    /// order (behind the watermark), never with late events (count those with `noteLate()`).
    public func feed(_ event: Event, matched: [Int]) -> [Alert] {
        guard let t = event.time?.nanoseconds else {
            if matched.contains(where: { set.feeds[$0] != nil }) { stats.untimed += 1 }
            return []
        }
        var out = advance(toNanoseconds: t)
        var evidence: String?
        var pooled: [Int] = []   // correlations that took this event through an earlier rule
        for i in matched {
            for (ci, si) in set.feeds[i] ?? [] {
                if set.correlations[ci].type.poolsRules {
                    if pooled.contains(ci) { continue }   // once, under the first rule it matched
                    pooled.append(ci)
                }
                stats.eventsFed += 1
                out += add(event, time: t, correlation: ci, step: si, evidence: &evidence)
            }
        }
        stats.openGroups = states.reduce(0) { $0 + $1.groups.count }
        return out
    }

    /// Moves event time without an event (the watermark passed `time`): judges the lt/lte/eq/neq
    /// windows that ended and drops idle groups. Every event still to come is at or after `time`.
    public func advance(to time: EventTime) -> [Alert] {
        let out = advance(toNanoseconds: time.nanoseconds)
        stats.openGroups = states.reduce(0) { $0 + $1.groups.count }
        return out
    }

    private func advance(toNanoseconds t: Int64) -> [Alert] {
        if t > now { now = t }
        var out: [Alert] = []
        for ci in states.indices where now >= states[ci].sweepAt { out += sweep(ci, all: false) }
        return out
    }

    /// A base-rule match that arrived behind the watermark: it reached the stateless rules, never a window.
    public func noteLate() { stats.late += 1 }

    /// End of input: judges every window still open under an lt/lte/eq/neq condition.
    public func finish() -> [Alert] {
        var out: [Alert] = []
        for ci in states.indices { out += sweep(ci, all: true) }
        stats.openGroups = states.reduce(0) { $0 + $1.groups.count }
        return out
    }

    /// End of input when the windows are kept in a state store (`vigil replay`): judges the
    /// lt/lte/eq/neq windows whose timespan ended by the newest event time and drops expired
    /// sliding windows; windows still open stay open, to be saved and resumed by the next run over
    /// the same state (a window cut by the end of a file is not judged on half its data).
    public func finishKeepingOpenWindows() -> [Alert] {
        var out: [Alert] = []
        for ci in states.indices { out += sweep(ci, all: false) }
        stats.openGroups = states.reduce(0) { $0 + $1.groups.count }
        return out
    }

    // MARK: windows

    private func add(_ event: Event, time t: Int64, correlation ci: Int, step si: Int, evidence: inout String?) -> [Alert] {
        let step = set.correlations[ci].steps[si]
        let id = event.idString
        if fence != nil, alreadyTaken(time: t, id: id) {
            stats.alreadyTaken += 1
            return []
        }
        taken.note(time: t, id: id)
        var keyParts: [String] = []
        keyParts.reserveCapacity(step.groupSources.count)
        for s in step.groupSources { keyParts.append(event.values(at: s.path(for: event.shape)).first?.text ?? "") }
        var value: String?, number: Double?
        if let vs = step.valueSource {
            guard let v = event.values(at: vs.path(for: event.shape)).first(where: { !$0.isNull }) else {
                stats.missingValue += 1
                return []
            }
            value = v.text ?? v.json?.jsonText
            number = v.number ?? value.flatMap(Double.init)
        }
        var text = evidence
        defer { evidence = text }
        return place(ci, si, key: keyParts.joined(separator: "\u{1F}"), time: t, id: id, value: value, number: number,
                     position: event.position, evidence: {
                         if text == nil { text = event.record.root.jsonText }
                         return text
                     }, entities: { group in self.collectEntities(event, step: step, into: group) })
    }

    /// A correlation fired (`alert`, for group `key`): raises it unless only correlations with
    /// `generate: false` chain on it, and feeds it to those that do, as one event keyed by the
    /// values it grouped by.
    private func raised(_ ci: Int, key: String, _ alert: Alert) -> [Alert] {
        var out = set.suppressedCorrelations.contains(ci) ? [] : [alert]
        guard let outers = set.chainedFeeds[ci] else { return out }
        let parts = key.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        for (oc, os) in outers {
            guard let chain = set.correlations[oc].steps[os].chained else { continue }
            let outerKey = chain.keyPositions.map { $0 < parts.count ? parts[$0] : "" }.joined(separator: "\u{1F}")
            var value: String?
            if let p = chain.valuePosition {
                guard p < parts.count, !parts[p].isEmpty else {
                    stats.missingValue += 1
                    continue
                }
                value = parts[p]
            }
            stats.eventsFed += 1
            out += place(oc, os, key: outerKey, time: alert.time.nanoseconds, id: alert.id, value: value, number: value.flatMap(Double.init),
                         position: alert.position, evidence: { alert.evidence.first }, entities: { group in
                             for e in alert.entities { group.add(e, cap: self.configuration.maxEntities) }
                         })
        }
        return out
    }

    /// Puts one entry (an event, or a chained correlation's alert) into its group's window and
    /// judges the window. `evidence` is asked only for the first `evidenceSample` entries.
    private func place(_ ci: Int, _ si: Int, key: String, time t: Int64, id: String, value: String?, number: Double?,
                       position: SourcePosition, evidence: () -> String?, entities: (Group) -> Void) -> [Alert] {
        let c = set.correlations[ci]
        let state = states[ci]
        var out: [Alert] = []
        state.touched.insert(key)
        if let g = state.groups[key], !c.condition.firesEarly, t > g.first &+ c.timespanNanos {
            if let a = close(c, key: key, group: g) { out += raised(ci, key: key, a) }   // its window ended before this event
            state.groups[key] = nil
        } else if let g = state.groups[key], c.condition.firesEarly, t &- g.last > c.timespanNanos {
            state.groups[key] = nil   // idle longer than the window: start afresh, as a sweep would have
        }
        let group: Group
        if let g = state.groups[key] { group = g } else {
            if state.groups.count >= configuration.maxGroups { out += makeRoom(ci) }
            group = Group(time: t)
            state.groups[key] = group
        }
        seq &+= 1
        let sampled = group.entries.count < configuration.evidenceSample
        let entry = Entry(time: t, seq: seq, id: id, step: si, value: value, number: number,
                          evidence: sampled ? evidence() : nil, position: position)
        // Events come in event-time order: append, or slot in from the back when one is not.
        var at = group.entries.count
        while at > 0, group.entries[at - 1].time > t { at -= 1 }
        group.entries.insert(entry, at: at)
        group.first = min(group.first, t)
        group.last = max(group.last, t)
        if group.entries.count > configuration.maxEventsPerGroup {
            group.entries.removeFirst()
            stats.droppedEvents += 1
        }
        entities(group)
        guard c.condition.firesEarly else { return out }
        // Sliding window ending at the group's newest event.
        let start = group.last &- c.timespanNanos
        if let firstIn = group.entries.firstIndex(where: { $0.time >= start }), firstIn > 0 { group.entries.removeFirst(firstIn) }
        group.first = group.entries.first?.time ?? t
        guard let contributing = evaluate(c, group.entries) else { return out }
        state.groups[key] = nil
        return out + raised(ci, key: key, makeAlert(c, key: key, entries: contributing, group: group))
    }

    /// The contributing entries when the condition holds over `entries`, else nil.
    private func evaluate(_ c: CompiledCorrelation, _ entries: [Entry]) -> [Entry]? {
        guard !entries.isEmpty else { return nil }
        switch c.type {
        case .eventCount:
            return c.condition.holds(Double(entries.count)) ? entries : nil
        case .valueCount:
            var distinct = Set<String>()
            for e in entries { if let v = e.value { distinct.insert(v) } }
            return c.condition.holds(Double(distinct.count)) ? entries : nil
        case .valueSum, .valueAvg:
            let nums = entries.compactMap(\.number)
            guard !nums.isEmpty else { return nil }
            let sum = nums.reduce(0, +)
            return c.condition.holds(c.type == .valueSum ? sum : sum / Double(nums.count)) ? entries : nil
        case .temporal:
            let steps = Set(entries.map(\.step))
            return c.condition.holds(Double(steps.count)) ? entries : nil
        case .temporalOrdered:
            return orderedChain(c, entries)
        }
    }

    /// A chain step 0 → 1 → … → last in entry order, first to last within the timespan, each step
    /// a different event (one event several of the rules match is not a sequence).
    private func orderedChain(_ c: CompiledCorrelation, _ entries: [Entry]) -> [Entry]? {
        let last = c.steps.count - 1
        for j in stride(from: entries.count - 1, through: 0, by: -1) where entries[j].step == last {
            var chain = [entries[j]]
            var need = last - 1
            var k = j - 1
            while need >= 0, k >= 0 {
                if entries[k].step == need, !chain.contains(where: { $0.id == entries[k].id }) { chain.append(entries[k]); need -= 1 }
                k -= 1
            }
            if need < 0, entries[j].time &- chain.last!.time <= c.timespanNanos { return chain.reversed() }
        }
        return nil
    }

    /// Judges a window anchored at its first event (lt/lte/eq/neq).
    private func close(_ c: CompiledCorrelation, key: String, group: Group) -> Alert? {
        guard let contributing = evaluate(c, group.entries) else { return nil }
        return makeAlert(c, key: key, entries: contributing, group: group)
    }

    /// Drops (or judges) groups whose window has ended; `all` judges every open window (end of input).
    private func sweep(_ ci: Int, all: Bool) -> [Alert] {
        let c = set.correlations[ci]
        let state = states[ci]
        state.sweepAt = now &+ max(c.timespanNanos, 1_000_000_000)
        var out: [Alert] = []
        for (key, g) in state.groups.sorted(by: { $0.value.first < $1.value.first || ($0.value.first == $1.value.first && $0.key < $1.key) }) {
            if c.condition.firesEarly {
                if now &- g.last > c.timespanNanos { state.groups[key] = nil; state.touched.insert(key) }
            } else if all || now > g.first &+ c.timespanNanos {
                if let a = close(c, key: key, group: g) { out += raised(ci, key: key, a) }
                state.groups[key] = nil
                state.touched.insert(key)
            }
        }
        return out
    }

    /// At the cap: drop expired groups; if still full, evict the least recently active tenth.
    private func makeRoom(_ ci: Int) -> [Alert] {
        let state = states[ci]
        let alerts = sweep(ci, all: false)
        if state.groups.count < configuration.maxGroups { return alerts }
        let target = max(0, configuration.maxGroups - max(1, configuration.maxGroups / 10))
        let victims = state.groups.sorted { $0.value.last < $1.value.last || ($0.value.last == $1.value.last && $0.key < $1.key) }
            .prefix(state.groups.count - target)
        for (key, _) in victims { state.groups[key] = nil; state.touched.insert(key) }
        stats.evictedGroups += victims.count
        return alerts
    }

    private func collectEntities(_ event: Event, step: CorrelationStep, into group: Group) {
        guard group.entities.count < configuration.maxEntities else { return }
        for (kind, source) in step.entities {
            for v in event.values(at: source.path(for: event.shape)) {
                guard let text = v.text, !text.isEmpty else { continue }
                group.add(Entity(kind: kind, value: text), cap: configuration.maxEntities)
            }
        }
    }

    private func makeAlert(_ c: CompiledCorrelation, key: String, entries: [Entry], group: Group) -> Alert {
        stats.alerts += 1
        let ids = entries.map(\.id)
        let lastEntry = entries.max { ($0.time, $0.seq) < ($1.time, $1.seq) }!
        let keyText = zip(c.groupBy, key.split(separator: "\u{1F}", omittingEmptySubsequences: false))
            .map { "\($0)=\($1.isEmpty ? "(none)" : String($1))" }.joined(separator: ", ")
        var what: String
        switch c.type {
        case .eventCount: what = "\(entries.count) events"
        case .valueCount: what = "\(Set(entries.compactMap(\.value)).count) distinct \(c.condition.field ?? "values")"
        case .valueSum, .valueAvg:
            let nums = entries.compactMap(\.number)
            let sum = nums.reduce(0, +)
            what = "\(c.type == .valueSum ? "sum" : "average") of \(c.condition.field ?? "value") \(c.type == .valueSum ? sum : sum / Double(max(1, nums.count)))"
        case .temporal: what = "rules \(Set(entries.map(\.step)).sorted().map { c.steps[$0].reference }.joined(separator: ", "))"
        case .temporalOrdered: what = "rules in order \(entries.map { c.steps[$0.step].reference }.joined(separator: " → "))"
        }
        if c.type != .temporalOrdered { what += " (\(c.condition.summary))" }
        var description = "\(c.type.rawValue): \(what) within \(c.timespanText)"
        if !keyText.isEmpty { description += " for \(keyText)" }
        if let d = c.description { description += ". " + Engine.firstParagraph(d) }
        return Alert(id: Alert.makeId(ruleId: c.id, eventIds: ids), ruleId: c.id, ruleTitle: c.title, severity: c.severity,
                     tactics: c.tactics, techniques: c.techniques, entities: group.entities, time: EventTime(nanoseconds: lastEntry.time),
                     position: lastEntry.position, description: description, eventIds: ids,
                     evidence: Array(entries.compactMap(\.evidence).prefix(configuration.evidenceSample)),
                     groupBy: c.entityGroupBy, groupByAll: c.entityGroupByAll, baselineControls: c.baselineControls)
    }
}
