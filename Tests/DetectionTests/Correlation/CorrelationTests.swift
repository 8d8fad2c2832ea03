@testable import Detection
import EventModel
import FastJSON
import Foundation
import Testing
import TestSupport
import EventDecoding

/// Builders: base rules keyed on the operation name, correlations over them, events at minute offsets.
enum C {
    static let t0 = EventTime(parsing: "2024-05-01T10:00:00Z")!

    static func base(_ name: String, op: String, id: String? = nil) -> String {
        """
        title: \(name) rule
        name: \(name)
        id: \(id ?? "id-" + name)
        logsource: {product: azure, service: activitylogs}
        detection:
          selection:
            operationName: \(op)
          condition: selection
        level: low
        """
    }

    static func correlation(_ body: String, id: String = "corr-1", level: String = "high") -> String {
        """
        title: correlation \(id)
        id: \(id)
        correlation:
        \(body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        level: \(level)
        tags: [attack.impact, attack.t1485]
        """
    }

    static func set(_ docs: String...) -> CompiledRuleSet {
        let (s, d) = T.compile(docs.joined(separator: "\n---\n"))
        precondition(T.errors(d).isEmpty, "did not compile: \(T.errors(d))")
        return s
    }

    /// An activity event `seconds` after t0.
    static func ev(_ op: String, caller: String = "alice", at seconds: Int64, id: UInt64, extra: String = "") -> Event {
        var e = T.event(#"{"operationName": "\#(op)", "caller": "\#(caller)"\#(extra.isEmpty ? "" : ", " + extra)}"#,
                        operation: op, caller: caller, id: id)
        e.time = t0.adding(seconds: seconds)
        return e
    }

    /// Runs events in the given order through an engine; returns every alert (finish included).
    static func run(_ set: CompiledRuleSet, _ events: [Event], configuration: Correlator.Configuration? = nil) -> (alerts: [Alert], engine: Engine) {
        var engine = Engine(rules: set)
        if let configuration { engine = Engine(rules: set, correlation: configuration) }
        var out: [Alert] = []
        for e in events { out += engine.process(e) }
        out += engine.finish()
        return (out, engine)
    }

    static func ids(_ alerts: [Alert], rule: String = "corr-1") -> [[String]] {
        alerts.filter { $0.ruleId == rule }.map(\.eventIds)
    }
}

@Suite struct CorrelationTypeTests {
    static let mass = C.set(C.base("del", op: "Delete"), C.correlation("""
    type: event_count
    rules: [del]
    group-by: [Caller]
    timespan: 10m
    condition: {gte: 3}
    """))

    @Test func eventCountJustUnderAndOver() throws {
        let two = C.run(Self.mass, [C.ev("Delete", at: 0, id: 1), C.ev("Delete", at: 60, id: 2)]).alerts
        #expect(two.isEmpty, "two events under gte 3, and the base rule does not alert on its own (generate: false)")
        let three = [C.ev("Delete", at: 0, id: 1), C.ev("Delete", at: 60, id: 2), C.ev("Delete", at: 120, id: 3)]
        let alerts = C.run(Self.mass, three).alerts
        try #require(alerts.count == 1)
        let a = alerts[0]
        #expect(a.ruleId == "corr-1" && a.severity == .high)
        #expect(a.eventIds == three.map(\.idString))
        #expect(a.id == Alert.makeId(ruleId: "corr-1", eventIds: three.map(\.idString)))
        #expect(a.evidence.count == 3 && a.evidence[0].contains("Delete"))
        #expect(a.time == C.t0.adding(seconds: 120))
        #expect(a.techniques == ["T1485"] && a.tactics == ["impact"])
        #expect(a.entities.contains(Entity(kind: .account, value: "alice")), "entities from the base rule")
        #expect(a.description?.contains("3 events (≥ 3) within 10m for Caller=alice") == true, "\(a.description ?? "")")
    }

    @Test func windowBoundaryIsInclusive() {
        let inside = [C.ev("Delete", at: 0, id: 1), C.ev("Delete", at: 300, id: 2), C.ev("Delete", at: 600, id: 3)]
        #expect(C.run(Self.mass, inside).alerts.count == 1, "first and last exactly 10 min apart share a window")
        let outside = [C.ev("Delete", at: 0, id: 1), C.ev("Delete", at: 300, id: 2), C.ev("Delete", at: 601, id: 3)]
        #expect(C.run(Self.mass, outside).alerts.isEmpty, "601 s apart: the first slid out")
        // ... but the window slides: a fourth inside the last 10 minutes completes it.
        let slid = outside + [C.ev("Delete", at: 700, id: 4)]
        #expect(C.ids(C.run(Self.mass, slid).alerts) == [[2, 3, 4].map { UInt64($0) }.map { slid[Int($0) - 1].idString }])
    }

    @Test func oneBurstOneAlertThenRestart() {
        let six = (0..<6).map { C.ev("Delete", at: Int64($0 * 10), id: UInt64($0 + 1)) }
        #expect(C.run(Self.mass, six).alerts.count == 2, "3 + 3: the group restarts after firing")
        let five = Array(six.prefix(5))
        #expect(C.run(Self.mass, five).alerts.count == 1)
    }

    @Test func groupBySeparatesCallers() {
        let mixed = [C.ev("Delete", caller: "alice", at: 0, id: 1), C.ev("Delete", caller: "bob", at: 10, id: 2),
                     C.ev("Delete", caller: "alice", at: 20, id: 3), C.ev("Delete", caller: "bob", at: 30, id: 4)]
        #expect(C.run(Self.mass, mixed).alerts.isEmpty)
        let third = mixed + [C.ev("Delete", caller: "bob", at: 40, id: 5)]
        let alerts = C.run(Self.mass, third).alerts
        #expect(alerts.count == 1 && alerts[0].eventIds == [2, 4, 5].map { third[$0 - 1].idString })
    }

    @Test func generateTrueKeepsBaseAlerts() {
        let set = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 10m
        condition: {gte: 2}
        generate: true
        """))
        let alerts = C.run(set, [C.ev("Delete", at: 0, id: 1), C.ev("Delete", at: 1, id: 2)]).alerts
        #expect(alerts.filter { $0.ruleId == "id-del" }.count == 2)
        #expect(alerts.filter { $0.ruleId == "corr-1" }.count == 1)
        #expect(set.correlations.suppressed.isEmpty)
    }

    @Test func unreferencedRulesStillAlert() {
        let set = C.set(C.base("del", op: "Delete"), C.base("other", op: "Other"), C.correlation("""
        type: event_count
        rules: [del]
        timespan: 10m
        condition: {gte: 5}
        """))
        let alerts = C.run(set, [C.ev("Other", at: 0, id: 1), C.ev("Delete", at: 1, id: 2)]).alerts
        #expect(alerts.map(\.ruleId) == ["id-other"])
    }

    static let secrets = C.set(C.base("list", op: "ListKeys"), C.correlation("""
    type: value_count
    rules: [list]
    group-by: [Caller]
    timespan: 1h
    condition: {gte: 3, field: ws}
    """))

    @Test func valueCountCountsDistinctValues() {
        let same = (0..<5).map { C.ev("ListKeys", at: Int64($0 * 60), id: UInt64($0 + 1), extra: #""ws": "w1""#) }
        #expect(C.run(Self.secrets, same).alerts.isEmpty, "five listings of one workspace")
        let two = [C.ev("ListKeys", at: 0, id: 1, extra: #""ws": "w1""#), C.ev("ListKeys", at: 60, id: 2, extra: #""ws": "w2""#)]
        #expect(C.run(Self.secrets, two).alerts.isEmpty)
        let three = two + [C.ev("ListKeys", at: 120, id: 3, extra: #""ws": "w3""#)]
        let alerts = C.run(Self.secrets, three).alerts
        #expect(alerts.count == 1 && alerts[0].description?.contains("3 distinct ws") == true)
        let noField = two + [C.ev("ListKeys", at: 120, id: 3)]
        let r = C.run(Self.secrets, noField)
        #expect(r.alerts.isEmpty && r.engine.correlator?.stats.missingValue == 1)
    }

    @Test func valueSumAndAverage() {
        let sum = C.set(C.base("q", op: "Quota"), C.correlation("""
        type: value_sum
        rules: [q]
        group-by: [Caller]
        timespan: 1h
        condition: {gt: 100, field: amount}
        """))
        let evs = [C.ev("Quota", at: 0, id: 1, extra: #""amount": 60"#), C.ev("Quota", at: 10, id: 2, extra: #""amount": 40"#)]
        #expect(C.run(sum, evs).alerts.isEmpty, "60 + 40 is not > 100")
        #expect(C.run(sum, evs + [C.ev("Quota", at: 20, id: 3, extra: #""amount": "1""#)]).alerts.count == 1, "numeric text counts")
        let avg = C.set(C.base("q", op: "Quota"), C.correlation("""
        type: value_avg
        rules: [q]
        timespan: 1h
        condition: {gte: 50, field: amount}
        """))
        #expect(C.run(avg, evs).alerts.count == 1)
        #expect(C.run(avg, [C.ev("Quota", at: 0, id: 1, extra: #""amount": 40"#)]).alerts.isEmpty)
    }

    /// Spec, "Event Count": the events of the referred rules are counted; one event two of them
    /// match is one event (it used to count twice and appear twice in the alert), for sums too.
    @Test func anEventTwoRulesMatchCountsOnce() throws {
        func set(_ body: String) -> CompiledRuleSet { C.set(C.base("a", op: "Op"), C.base("b", op: "Op"), C.correlation(body)) }
        let count = set("type: event_count\nrules: [a, b]\ngroup-by: [Caller]\ntimespan: 1h\ncondition: {gte: 2}")
        #expect(C.run(count, [C.ev("Op", at: 0, id: 1)]).alerts.isEmpty)
        let two = C.run(count, [C.ev("Op", at: 0, id: 1), C.ev("Op", at: 60, id: 2)]).alerts
        #expect(try #require(two.first).eventIds == ["0000000000000001", "0000000000000002"])
        let sum = set("type: value_sum\nrules: [a, b]\ntimespan: 1h\ncondition: {gte: 10, field: n}")
        #expect(C.run(sum, [C.ev("Op", at: 0, id: 1, extra: #""n": 5"#)]).alerts.isEmpty, "5, not 5 + 5")
        let temporal = set("type: temporal\nrules: [a, b]\ntimespan: 1h")
        #expect(C.run(temporal, [C.ev("Op", at: 0, id: 1)]).alerts.count == 1, "temporal counts rules: the event is both")
    }

    static let temporal = C.set(C.base("a", op: "OpA"), C.base("b", op: "OpB"), C.correlation("""
    type: temporal
    rules: [a, b]
    group-by: [Caller]
    timespan: 1h
    """))

    @Test func temporalAnyOrder() {
        #expect(C.run(Self.temporal, [C.ev("OpB", at: 0, id: 1), C.ev("OpA", at: 100, id: 2)]).alerts.count == 1)
        #expect(C.run(Self.temporal, [C.ev("OpA", at: 0, id: 1), C.ev("OpB", at: 100, id: 2)]).alerts.count == 1)
        #expect(C.run(Self.temporal, [C.ev("OpA", at: 0, id: 1), C.ev("OpA", at: 100, id: 2)]).alerts.isEmpty)
        #expect(C.run(Self.temporal, [C.ev("OpA", at: 0, id: 1), C.ev("OpB", at: 3601, id: 2)]).alerts.isEmpty, "too far apart")
        #expect(C.run(Self.temporal, [C.ev("OpA", caller: "x", at: 0, id: 1), C.ev("OpB", caller: "y", at: 1, id: 2)]).alerts.isEmpty)
    }

    static let ordered = C.set(C.base("a", op: "OpA"), C.base("b", op: "OpB"), C.base("c", op: "OpC"), C.correlation("""
    type: temporal_ordered
    rules: [a, b, c]
    group-by: [Caller]
    timespan: 1h
    """))

    /// The specification's chaining example: a burst of failures (an event_count correlation)
    /// followed by a success (a base rule), in order, per caller. Only the last correlation alerts
    /// unless `generate: true`; its events are the burst's alert and the success.
    static func chain(generate: Bool) -> CompiledRuleSet {
        C.set(C.base("fail", op: "Fail"), C.base("ok", op: "Ok"), """
        title: burst
        id: corr-burst
        name: many_fails
        correlation:
          type: event_count
          rules: [fail]
          group-by: [Caller]
          timespan: 10m
          condition: {gte: 3}
        level: medium
        """, C.correlation("""
        type: temporal_ordered
        rules: [many_fails, ok]
        group-by: [Caller]
        timespan: 30m
        generate: \(generate)
        """))
    }

    @Test func chainedCorrelationFollowsTheBurstItChainsOn() throws {
        let fails = (0..<3).map { C.ev("Fail", at: Int64($0) * 60, id: UInt64($0 + 1)) }
        let ok = C.ev("Ok", at: 600, id: 9)
        let alerts = C.run(Self.chain(generate: false), fails + [ok]).alerts
        try #require(alerts.count == 1, "\(alerts.map(\.ruleId))")
        let burstId = Alert.makeId(ruleId: "corr-burst", eventIds: fails.map(\.idString))
        #expect(alerts[0].ruleId == "corr-1")
        #expect(alerts[0].eventIds == [burstId, ok.idString], "the burst's alert, then the success")
        #expect(alerts[0].description?.contains("many_fails → ok") == true)
        #expect(alerts[0].evidence.count == 2)

        let withBurst = C.run(Self.chain(generate: true), fails + [ok]).alerts
        #expect(Set(withBurst.map(\.ruleId)) == ["corr-burst", "corr-1", "id-ok"], "the burst keeps its own generate: false")
        #expect(withBurst.first { $0.ruleId == "corr-burst" }?.id == burstId)

        // The success before the burst, two failures only, or another caller's success: nothing.
        #expect(C.run(Self.chain(generate: false), [C.ev("Ok", at: 0, id: 9)] + fails.map { var e = $0; e.time = e.time!.adding(seconds: 60); return e }).alerts.isEmpty)
        #expect(C.run(Self.chain(generate: false), Array(fails.prefix(2)) + [ok]).alerts.isEmpty)
        #expect(C.run(Self.chain(generate: false), fails + [C.ev("Ok", caller: "bob", at: 600, id: 9)]).alerts.isEmpty)
        // Outside the chained correlation's timespan (burst fired at 120 s, success 31 min later).
        #expect(C.run(Self.chain(generate: false), fails + [C.ev("Ok", at: 120 + 1861, id: 9)]).alerts.isEmpty)
    }

    /// value_count over a chained correlation counts the distinct values of one of the fields
    /// that correlation grouped by: bursts by two callers in one resource group.
    @Test func chainedValueCountCountsTheInputsGroupValues() throws {
        let set = C.set(C.base("del", op: "Delete"), """
        title: burst
        id: corr-burst
        name: burst
        correlation:
          type: event_count
          rules: [del]
          group-by: [ResourceGroup, Caller]
          timespan: 10m
          condition: {gte: 2}
        """, C.correlation("""
        type: value_count
        rules: [burst]
        group-by: [ResourceGroup]
        timespan: 1h
        condition: {gte: 2, field: Caller}
        """))
        func del(_ caller: String, _ rg: String, at s: Int64, id: UInt64) -> Event {
            C.ev("Delete", caller: caller, at: s, id: id, extra: #""ResourceGroup": "\#(rg)""#)
        }
        let events = [del("alice", "rg1", at: 0, id: 1), del("alice", "rg1", at: 60, id: 2),
                      del("bob", "rg2", at: 100, id: 3), del("bob", "rg2", at: 160, id: 4),
                      del("carol", "rg1", at: 200, id: 5), del("carol", "rg1", at: 260, id: 6)]
        let alerts = C.run(set, events).alerts.filter { $0.ruleId == "corr-1" }
        try #require(alerts.count == 1)
        #expect(alerts[0].description?.contains("2 distinct Caller") == true)
        #expect(alerts[0].description?.contains("ResourceGroup=rg1") == true)
        #expect(alerts[0].eventIds.count == 2, "two bursts")
        #expect(C.run(set, Array(events.prefix(4))).alerts.filter { $0.ruleId == "corr-1" }.isEmpty, "one caller per resource group")
    }

    @Test func temporalOrderedRequiresOrder() throws {
        let good = [C.ev("OpA", at: 0, id: 1), C.ev("OpB", at: 10, id: 2), C.ev("OpC", at: 20, id: 3)]
        let alerts = C.run(Self.ordered, good).alerts
        try #require(alerts.count == 1)
        #expect(alerts[0].eventIds == good.map(\.idString))
        #expect(alerts[0].description?.contains("a → b → c") == true)
        let swapped = [C.ev("OpB", at: 0, id: 1), C.ev("OpA", at: 10, id: 2), C.ev("OpC", at: 20, id: 3)]
        #expect(C.run(Self.ordered, swapped).alerts.isEmpty, "b before a")
        let lastFirst = [C.ev("OpC", at: 0, id: 1), C.ev("OpA", at: 10, id: 2), C.ev("OpB", at: 20, id: 3)]
        #expect(C.run(Self.ordered, lastFirst).alerts.isEmpty)
        let late = [C.ev("OpA", at: 0, id: 1), C.ev("OpB", at: 10, id: 2), C.ev("OpC", at: 3601, id: 3)]
        #expect(C.run(Self.ordered, late).alerts.isEmpty, "a to c over an hour")
        // A stray a later does not spoil it; the chain picks the latest a before b.
        let retry = [C.ev("OpA", at: 0, id: 1), C.ev("OpB", at: 10, id: 2), C.ev("OpA", at: 3000, id: 3), C.ev("OpB", at: 3010, id: 4), C.ev("OpC", at: 3700, id: 5)]
        let r = C.run(Self.ordered, retry).alerts
        #expect(r.count == 1 && r.first?.eventIds == [3, 4, 5].map { retry[$0 - 1].idString })
    }

    /// Each step of an ordered chain is a different event: one event both rules match ("a write",
    /// "a write by an admin") is not a sequence of two; a later one completes it.
    @Test func temporalOrderedTakesOneEventPerStep() {
        let set = C.set(C.base("write", op: "Write"), C.base("admin-write", op: "Write"), C.correlation("""
        type: temporal_ordered
        rules: [write, admin-write]
        group-by: [Caller]
        timespan: 1h
        """))
        #expect(C.ids(C.run(set, [C.ev("Write", at: 0, id: 1)]).alerts).isEmpty)
        let two = [C.ev("Write", at: 0, id: 1), C.ev("Write", at: 60, id: 2)]
        #expect(C.ids(C.run(set, two).alerts) == [two.map(\.idString)])
    }

    @Test func aliasesNameDifferentFieldsPerRule() {
        let set = C.set(C.base("grant", op: "Grant"), C.base("use", op: "Use"), C.correlation("""
        type: temporal_ordered
        rules: [grant, use]
        group-by: [principal]
        timespan: 1h
        aliases:
          principal:
            grant: target
            use: Caller
        """))
        let match = [C.ev("Grant", caller: "admin", at: 0, id: 1, extra: #""target": "sp-1""#), C.ev("Use", caller: "sp-1", at: 60, id: 2)]
        let alerts = C.run(set, match).alerts
        #expect(alerts.count == 1 && alerts.first?.description?.contains("principal=sp-1") == true)
        let other = [C.ev("Grant", caller: "admin", at: 0, id: 1, extra: #""target": "sp-1""#), C.ev("Use", caller: "sp-2", at: 60, id: 2)]
        #expect(C.run(set, other).alerts.isEmpty)
    }

    @Test func lessThanIsJudgedWhenTheWindowCloses() {
        let set = C.set(C.base("hb", op: "Heartbeat"), C.correlation("""
        type: event_count
        rules: [hb]
        group-by: [Caller]
        timespan: 10m
        condition: {lt: 3}
        """))
        var engine = Engine(rules: set)
        #expect(engine.process(C.ev("Heartbeat", at: 0, id: 1)).isEmpty)
        #expect(engine.process(C.ev("Heartbeat", at: 60, id: 2)).isEmpty, "not judged while the window is open")
        let closed = engine.process(C.ev("Heartbeat", caller: "bob", at: 1200, id: 3))
        #expect(closed.count == 1 && closed[0].eventIds.count == 2, "event time passed alice's window: 2 < 3")
        let busy = (0..<3).map { C.ev("Heartbeat", at: Int64($0), id: UInt64($0 + 10)) }
        #expect(C.run(set, busy).alerts.isEmpty, "3 is not < 3")
        #expect(engine.finish().count == 1, "bob's open window is judged at end of input")
    }

    /// The specification's range form ("Condition": the comparisons are ANDed): `{gt: 1, lte: 3}`
    /// is 2 or 3 events, judged when the window closes since a fourth event would undo it.
    @Test func rangeConditionAndsItsComparisons() {
        let set = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 10m
        condition: {gt: 1, lte: 3}
        """))
        let c = set.correlations.correlations[0]
        #expect(c.condition.summary == "> 1 and ≤ 3" && !c.condition.firesEarly)
        func count(_ n: Int) -> [Alert] { C.run(set, (0..<n).map { C.ev("Delete", at: Int64($0 * 60), id: UInt64($0 + 1)) }).alerts }
        #expect(count(1).isEmpty && count(4).isEmpty, "1 is not > 1; 4 is not ≤ 3")
        #expect(count(2).count == 1 && count(3).first?.eventIds.count == 3)
        #expect(count(3).first?.description?.contains("3 events (> 1 and ≤ 3)") == true)
        let lower = C.set(C.base("del", op: "Delete"), C.correlation("type: event_count\nrules: [del]\ntimespan: 10m\ncondition: {gt: 1, gte: 3}"))
        #expect(lower.correlations.correlations[0].condition.firesEarly, "lower bounds only: still a sliding window")
    }

    /// A one-comparison condition hashes as it did before ranges: saved windows survive an upgrade.
    @Test func singleComparisonKeepsItsDefinitionText() {
        #expect(CorrelationCondition(op: .gte, threshold: 3, field: "ws").definitionText == "gte 3.0 ws")
        #expect(CorrelationCondition([.init(.gt, 1), .init(.lte, 3)]).definitionText == "gt 1.0, lte 3.0 ")
    }

    @Test func vigilBlockAndEntitiesOfTheCorrelation() throws {
        let set = C.set(C.base("del", op: "Delete"), """
        title: mass
        id: corr-1
        correlation:
          type: event_count
          rules: [del]
          group-by: [vigil.caller]
          timespan: 5m
          condition: {gte: 2}
        level: critical
        vigil:
          entities: {Account: vigil.caller, AzureResource: ws}
          group_by: [Account]
          baseline: {area: backup, controls: [BR-1]}
        """)
        let alerts = C.run(set, [C.ev("Delete", at: 0, id: 1, extra: #""ws": "w1""#), C.ev("Delete", at: 1, id: 2, extra: #""ws": "w2""#)]).alerts
        let a = try #require(alerts.first)
        #expect(a.severity == .critical && a.groupBy == [.account] && a.baselineControls == ["backup", "BR-1"])
        #expect(a.entities == [Entity(kind: .account, value: "alice"), Entity(kind: .azureResource, value: "w1"), Entity(kind: .azureResource, value: "w2")])
    }

    @Test func explainShowsThePlan() throws {
        let c = try #require(Self.secrets.correlations.correlation(id: "corr-1"))
        let text = Self.secrets.explain(c)
        #expect(text.contains("type: value_count, timespan 1h (3600 s of event time)"))
        #expect(text.contains("distinct values of ws ≥ 3"))
        #expect(text.contains("window: sliding"))
        #expect(text.contains("key Caller: vigil.caller"))
        #expect(text.contains("1. list → rule id-list"))
    }
}

@Suite struct CorrelationEventTimeTests {
    /// The same multiset of events, pushed in any order within the lateness, gives the same alerts.
    @Test func sameAlertsWhateverTheArrivalOrder() {
        let set = C.set(C.base("a", op: "OpA"), C.base("b", op: "OpB"), C.base("del", op: "Delete"), C.correlation("""
        type: temporal_ordered
        rules: [a, b]
        group-by: [Caller]
        timespan: 10m
        """), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 5m
        condition: {gte: 3}
        """, id: "corr-2"))
        var events: [Event] = []
        var id: UInt64 = 0
        for caller in ["alice", "bob", "carol"] {
            for k in 0..<12 {
                id += 1
                let op = ["OpA", "OpB", "Delete", "Delete"][Int(id % 4)]
                events.append(C.ev(op, caller: caller, at: Int64(k * 97 + Int(id % 7) * 13), id: id))
            }
        }
        func replay(_ order: [Event]) -> [String] {
            var buffer = EventTimeBuffer(latenessSeconds: 900)
            var engine = Engine(rules: set)
            var alerts: [Alert] = []
            for e in order { for r in buffer.push(e) { alerts += engine.process(r) } }
            for r in buffer.flush() { alerts += engine.process(r) }
            alerts += engine.finish()
            return alerts.map(\.id).sorted()
        }
        let sorted = replay(events.sorted { ($0.time!, $0.id) < ($1.time!, $1.id) })
        #expect(sorted.count >= 3, "the fixture raises alerts of both kinds (\(sorted.count))")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            #expect(replay(events.shuffled(using: &rng)) == sorted)
        }
        #expect(replay(events.reversed()) == sorted)
    }
}

@Suite struct CorrelationBoundsTests {
    @Test func openGroupsAreCappedAndEvictionsCounted() throws {
        let set = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 1h
        condition: {gte: 2}
        """))
        let events = (0..<100).map { C.ev("Delete", caller: "user\($0)", at: Int64($0), id: UInt64($0 + 1)) }
        let (alerts, engine) = C.run(set, events, configuration: .init(maxGroups: 10))
        #expect(alerts.isEmpty)
        let c = try #require(engine.correlator)
        #expect(c.openGroups(0) <= 10)
        #expect(c.stats.evictedGroups >= 90)
        #expect(c.stats.eventsFed == 100)
    }

    @Test func expiredGroupsAreNotEvictions() throws {
        let set = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 1m
        condition: {gte: 2}
        """))
        // One new caller every 2 minutes: each window is over before the next group opens.
        let events = (0..<50).map { C.ev("Delete", caller: "user\($0)", at: Int64($0 * 120), id: UInt64($0 + 1)) }
        let (_, engine) = C.run(set, events, configuration: .init(maxGroups: 5))
        let c = try #require(engine.correlator)
        #expect(c.stats.evictedGroups == 0)
        #expect(c.openGroups(0) <= 5)
    }

    @Test func eventsPerGroupAreCapped() throws {
        let set = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        timespan: 1h
        condition: {gte: 1000}
        """))
        let events = (0..<50).map { C.ev("Delete", at: Int64($0), id: UInt64($0 + 1)) }
        let (_, engine) = C.run(set, events, configuration: .init(maxEventsPerGroup: 20))
        #expect(engine.correlator?.stats.droppedEvents == 30)
    }
}

@Suite struct CorrelationLateAndPackTests {
    @Test func lateEventsReachStatelessRulesOnly() {
        let set = C.set(C.base("del", op: "Delete"), C.base("other", op: "Other"), C.correlation("""
        type: event_count
        rules: [del]
        timespan: 1h
        condition: {gte: 2}
        """))
        var engine = Engine(rules: set)
        #expect(engine.process(C.ev("Delete", at: 100, id: 1)).isEmpty)
        #expect(engine.processLate(C.ev("Delete", at: 0, id: 2)).isEmpty, "late: not counted in the window")
        #expect(engine.processLate(C.ev("Other", at: 0, id: 3)).map(\.ruleId) == ["id-other"], "stateless rules still see it")
        #expect(engine.correlator?.stats.late == 2)
        #expect(engine.process(C.ev("Delete", at: 200, id: 4)).map(\.ruleId) == ["corr-1"])
    }

    /// `vigil rules test detections/correlations`, in process: every shipped correlation's sequences pass.
    @Test func shippedCorrelationRulesPassTheirTests() throws {
        let dir = PackageRoot.url.appendingPathComponent("detections/correlations").path
        let map = FieldMap.load(path: PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path).0
        let normalizer = Normalizer()
        var n: UInt64 = 0
        let (results, diags) = RuleTestRunner.run(paths: [dir], fieldMap: map) { doc, pos in
            n += 1
            return try normalizer.normalize(doc, position: pos, id: n)
        }
        #expect(diags.filter { $0.level == .error }.isEmpty, "\(diags)")
        #expect(results.count >= 20)
        #expect(Set(results.compactMap(\.ruleId)).count == 5, "five correlations, each with tests")
        for r in results where !r.passed { Issue.record("\(r.testCase.name): \(r.detail ?? "")") }
        #expect(results.contains { $0.testCase.sequenceJSON != nil && $0.testCase.expectMatch })
    }
}

/// The arrival / event-time split of `Engine`: `detect` on arrival, `feedCorrelations` in event time.
@Suite struct CorrelationPathTests {
    static let set = C.set(C.base("del", op: "Delete"), C.base("grant", op: "Grant"), C.base("other", op: "Other"), C.correlation("""
    type: temporal_ordered
    rules: [grant, del]
    group-by: [caller]
    timespan: 1h
    generate: true
    """), C.correlation("""
    type: event_count
    rules: [del]
    group-by: [caller]
    timespan: 1h
    condition: {gte: 2}
    """, id: "corr-2"))

    @Test func arrivalRaisesOwnAlertsAndNamesTheFeedingRules() {
        var engine = Engine(rules: Self.set)
        let other = engine.detect(C.ev("Other", at: 0, id: 1))
        #expect(other.alerts.map(\.ruleId) == ["id-other"] && other.feeding.isEmpty, "no correlation needs it")
        let grant = engine.detect(C.ev("Grant", at: 0, id: 2))
        #expect(grant.alerts.map(\.ruleId) == ["id-grant"], "generate: true keeps the base rule's own alert")
        #expect(grant.feeding.count == 1)
        let del = engine.detect(C.ev("Delete", at: 60, id: 3))
        #expect(del.alerts.map(\.ruleId) == ["id-del"], "one generating correlation (corr-1) keeps del's own alerts")
        #expect(del.feeding.count == 1)
        #expect(engine.correlationStats.eventsFed == 0, "arrival never touches a window")
    }

    /// Feeding in event time after arrival gives what `process` gives on the same ordered events.
    @Test func splitPathsEqualTheCombinedOne() {
        let events = [C.ev("Grant", at: 0, id: 1), C.ev("Delete", at: 60, id: 2), C.ev("Other", at: 70, id: 3),
                      C.ev("Delete", at: 120, id: 4), C.ev("Delete", caller: "bob", at: 130, id: 5)]
        let combined = C.run(Self.set, events).alerts.map(\.id).sorted()
        var engine = Engine(rules: Self.set)
        var alerts: [Alert] = []
        var pending: [(Event, [Int])] = []
        for e in events.reversed() {   // arrival in any order
            let r = engine.detect(e)
            alerts += r.alerts
            if !r.feeding.isEmpty { pending.append((e, r.feeding)) }
        }
        for (e, m) in pending.sorted(by: { $0.0.time!.nanoseconds < $1.0.time!.nanoseconds }) {
            alerts += engine.feedCorrelations(e, matched: m)
        }
        alerts += engine.finish()
        #expect(alerts.map(\.id).sorted() == combined)
        #expect(Set(alerts.map(\.ruleId)).isSuperset(of: ["corr-1", "corr-2"]))
    }

    /// A sliding group idle for longer than its timespan starts afresh, entities included, whether
    /// or not event time was advanced in between (the sweep and `add` agree).
    @Test func idleSlidingGroupStartsAfreshWithOrWithoutASweep() {
        let set = C.set("""
        title: wipe rule
        name: wipe
        id: id-wipe
        logsource: {product: azure, service: activitylogs}
        detection:
          selection:
            operationName: Wipe
          condition: selection
        level: low
        vigil: {entities: {IP: ip}}
        """, C.correlation("""
        type: event_count
        rules: [wipe]
        group-by: [caller]
        timespan: 1h
        condition: {gte: 2}
        """))
        let events = [C.ev("Wipe", at: 0, id: 1, extra: #""ip": "10.0.0.1""#),
                      C.ev("Wipe", at: 7200, id: 2, extra: #""ip": "10.0.0.2""#),
                      C.ev("Wipe", at: 7260, id: 3, extra: #""ip": "10.0.0.3""#)]
        func run(advancing: Bool) -> [Alert] {
            var engine = Engine(rules: set)
            var out: [Alert] = []
            for e in events {
                if advancing { out += engine.advance(to: e.time!.adding(seconds: -1)) }
                let r = engine.detect(e)
                out += r.alerts + engine.feedCorrelations(e, matched: r.feeding)
            }
            return out + engine.finish()
        }
        let swept = run(advancing: true), unswept = run(advancing: false)
        #expect(swept.map(\.id) == unswept.map(\.id))
        #expect(swept.count == 1)
        #expect(swept.first?.entities.map(\.value) == ["10.0.0.2", "10.0.0.3"])
        #expect(unswept.first?.entities.map(\.value) == ["10.0.0.2", "10.0.0.3"], "the idle group's first entity is gone")
    }
}
