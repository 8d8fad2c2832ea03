@testable import Detection
import EventModel
import StateStore
import Testing
import TestSupport

/// Open correlation windows across restarts: a correlator saved to a store and a new one restored
/// from it behave like one correlator that never stopped.
@Suite struct CorrelationSnapshotTests {
    static let count = C.set(C.base("del", op: "Delete"), C.correlation("""
    type: event_count
    rules: [del]
    group-by: [Caller]
    timespan: 10m
    condition: {gte: 5}
    """))

    static let values = C.set(C.base("list", op: "ListKeys"), C.correlation("""
    type: value_count
    rules: [list]
    group-by: [Caller]
    timespan: 1h
    condition: {gte: 3, field: ws}
    """))

    static let ordered = C.set(C.base("grant", op: "Grant"), C.base("use", op: "Use"), C.correlation("""
    type: temporal_ordered
    rules: [grant, use]
    group-by: [Caller]
    timespan: 1h
    """))

    static let fewer = C.set(C.base("hb", op: "Heartbeat"), C.correlation("""
    type: event_count
    rules: [hb]
    group-by: [Caller]
    timespan: 10m
    condition: {lt: 3}
    """))

    /// One run of a `vigil replay` over `events` with windows kept in `store`: restore, feed, judge
    /// what ended, save.
    static func replay(_ set: CompiledRuleSet, _ events: [Event], store: CorrelationStore,
                       configuration: Correlator.Configuration = .init()) throws -> (alerts: [Alert], correlator: Correlator) {
        var engine = Engine(rules: set, correlation: configuration)
        let correlator = try #require(engine.correlator)
        try correlator.load(from: store)
        var alerts: [Alert] = []
        for e in events { alerts += engine.process(e) }
        alerts += correlator.finishKeepingOpenWindows()
        try correlator.save(to: store)
        return (alerts, correlator)
    }

    static func ids(_ alerts: [Alert]) -> [String] { alerts.filter { $0.ruleId == "corr-1" }.map(\.id).sorted() }

    /// Day 1 and day 2 split inside open windows, over one SQLite state database: (name, rules,
    /// events, how many events day 1 has).
    static func splitCase(_ n: Int) -> (String, CompiledRuleSet, [Event], Int) {
        switch n {
        case 0:
            var e: [Event] = []
            for i in 0..<12 {
                let caller = i % 3 == 2 ? "bob" : "alice"
                let at = Int64(i) * 40
                e.append(C.ev("Delete", caller: caller, at: at, id: UInt64(i + 1)))
            }
            return ("event_count", count, e, 5)
        case 1:
            var e: [Event] = []
            for i in 0..<9 {
                let caller = i % 2 == 0 ? "alice" : "bob"
                let at = Int64(i) * 300
                let ws = "\"ws\": \"w\(i / 2)\""
                e.append(C.ev("ListKeys", caller: caller, at: at, id: UInt64(i + 1), extra: ws))
            }
            return ("value_count", values, e, 4)
        case 2:
            let e: [Event] = [C.ev("Grant", at: 0, id: 1), C.ev("Grant", caller: "bob", at: 100, id: 2),
                              C.ev("Use", caller: "bob", at: 3000, id: 3), C.ev("Use", at: 3500, id: 4), C.ev("Use", at: 3700, id: 5)]
            return ("temporal_ordered", ordered, e, 2)
        default:
            let e: [Event] = [C.ev("Heartbeat", at: 0, id: 1), C.ev("Heartbeat", at: 100, id: 2), C.ev("Heartbeat", caller: "bob", at: 200, id: 3),
                              C.ev("Heartbeat", caller: "bob", at: 400, id: 4), C.ev("Heartbeat", caller: "carol", at: 2000, id: 5)]
            return ("event_count lt", fewer, e, 3)
        }
    }

    @Test(arguments: 0..<4)
    func splitReplayGivesTheAlertsOfOneReplay(_ n: Int) throws {
        let (name, set, events, cut) = Self.splitCase(n)
        let once = try Self.replay(set, events, store: InMemoryCorrelationStore()).alerts
        #expect(!Self.ids(once).isEmpty, "\(name): the case must raise something")
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let day1 = try Self.replay(set, Array(events.prefix(cut)), store: db)
        #expect(try db.correlationWindowCount > 0, "\(name): a window is open at the end of day 1")
        let day2 = try Self.replay(set, Array(events.dropFirst(cut)), store: db)
        #expect(Self.ids(day1.alerts + day2.alerts) == Self.ids(once), "\(name)")
        #expect(day2.correlator.stats.restoredGroups > 0)
        try db.close()
    }

    @Test func windowOpenAtEndOfDayIsNotJudgedButResumed() throws {
        let store = InMemoryCorrelationStore()
        let day1 = try Self.replay(Self.fewer, [C.ev("Heartbeat", at: 0, id: 1)], store: store)
        #expect(day1.alerts.isEmpty, "alice's window (1 < 3) has not ended: saved, not judged")
        #expect(store.windows.count == 1)
        // Day 2: a second heartbeat inside the window, then time passes its end.
        let day2 = try Self.replay(Self.fewer, [C.ev("Heartbeat", at: 300, id: 2), C.ev("Heartbeat", caller: "bob", at: 1000, id: 3)], store: store)
        #expect(day2.alerts.map(\.eventIds) == [[1, 2].map { C.ev("Heartbeat", at: 0, id: $0).idString }])
        #expect(store.windows.count == 1, "alice's window is gone; bob's is open")
    }

    @Test func restartRereadingTakenEventsNeitherCountsThemTwiceNorRealerts() throws {
        let e = (0..<9).map { C.ev("Delete", at: Int64($0 * 30), id: UInt64($0 + 1)) }
        let uninterrupted = try Self.replay(Self.count, e, store: InMemoryCorrelationStore()).alerts
        #expect(uninterrupted.map(\.eventIds) == [e.prefix(5).map(\.idString)])
        // Stopped after 4: the source re-reads from event 3 (its checkpoint was behind).
        let store = InMemoryCorrelationStore()
        let first = try Self.replay(Self.count, Array(e.prefix(4)), store: store)
        #expect(first.alerts.isEmpty)
        let second = try Self.replay(Self.count, Array(e.dropFirst(2)), store: store)
        #expect(second.alerts.map(\.id) == uninterrupted.map(\.id), "4 restored + event 5: one alert, events 3 and 4 not counted twice")
        #expect(second.correlator.stats.alreadyTaken == 2)
        // Stopped after the alert: a re-read of events 4…9 must not complete a second window.
        let third = try Self.replay(Self.count, Array(e.dropFirst(3)), store: store)
        #expect(third.alerts.isEmpty, "events 4…9 were all taken already")
        #expect(third.correlator.stats.alreadyTaken == 6)
        #expect(store.windows.values.map(\.events) == [4], "events 6…9 remain open, as in the uninterrupted run")
    }

    @Test func eventsAtTheFenceTimeAreTakenOnce() throws {
        let store = InMemoryCorrelationStore()
        let a = C.ev("Delete", at: 100, id: 1), b = C.ev("Delete", at: 100, id: 2), c = C.ev("Delete", at: 100, id: 3)
        _ = try Self.replay(Self.count, [a, b], store: store)
        let r = try Self.replay(Self.count, [b, c, C.ev("Delete", at: 101, id: 4), C.ev("Delete", at: 102, id: 5)], store: store)
        #expect(r.alerts.map(\.eventIds) == [[a, b, c].map(\.idString) + ["0000000000000004", "0000000000000005"]])
        #expect(r.correlator.stats.alreadyTaken == 1, "b was taken; c, at the same time, was not")
    }

    @Test func onlyChangedWindowsAreWrittenAndClosedOnesDeleted() throws {
        let store = InMemoryCorrelationStore()
        var engine = Engine(rules: Self.count)
        let correlator = try #require(engine.correlator)
        for (i, caller) in ["alice", "bob", "carol"].enumerated() { _ = engine.process(C.ev("Delete", caller: caller, at: Int64(i), id: UInt64(i + 1))) }
        #expect(correlator.unsavedWindows == 3)
        try correlator.save(to: store)
        #expect(store.writes == 3 && store.windows.count == 3)
        #expect(correlator.unsavedWindows == 0)
        try correlator.save(to: store)
        #expect(store.writes == 3, "nothing changed: nothing written")
        _ = engine.process(C.ev("Delete", caller: "bob", at: 10, id: 10))
        try correlator.save(to: store)
        #expect(store.writes == 4, "one window changed: one write")
        // bob reaches 5 and fires: his window is deleted, the others stay.
        for i in 0..<3 { #expect(engine.process(C.ev("Delete", caller: "bob", at: Int64(20 + i), id: UInt64(20 + i))).count == (i == 2 ? 1 : 0)) }
        try correlator.save(to: store)
        #expect(Set(store.windows.values.map(\.groupKey)) == ["alice", "carol"])
        // Event time passes everyone's window: expired windows are deleted too.
        _ = engine.process(C.ev("Delete", caller: "dave", at: 5000, id: 99))
        try correlator.save(to: store)
        #expect(Set(store.windows.values.map(\.groupKey)) == ["dave"])
    }

    @Test func windowsOfRemovedOrChangedCorrelationsAreDropped() throws {
        let store = InMemoryCorrelationStore()
        _ = try Self.replay(Self.count, [C.ev("Delete", at: 0, id: 1), C.ev("Delete", caller: "bob", at: 1, id: 2)], store: store)
        #expect(store.windows.count == 2)
        // A new title and level keep the windows.
        let retitled = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 10m
        condition: {gte: 5}
        """, level: "critical"))
        var engine = Engine(rules: retitled)
        #expect(try engine.correlator!.load(from: store).restored == 2)
        // Another timespan drops them, and the next save deletes them.
        let changed = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 20m
        condition: {gte: 5}
        """))
        engine = Engine(rules: changed)
        let report = try engine.correlator!.load(from: store)
        #expect(report.droppedChanged == 2 && report.restored == 0)
        #expect(engine.correlator!.stats.discardedGroups == 2)
        try engine.correlator!.save(to: store)
        #expect(store.windows.isEmpty)
        // A correlation no longer loaded.
        _ = try Self.replay(Self.count, [C.ev("Delete", at: 100, id: 3)], store: store)
        engine = Engine(rules: C.set(C.base("list", op: "ListKeys"), C.correlation("""
        type: event_count
        rules: [list]
        timespan: 1h
        condition: {gte: 3}
        """, id: "corr-2")))
        let diags = engine.correlator!.resume(from: store)
        #expect(diags.count == 1 && diags[0].message.contains("1 of correlations no longer loaded"), "\(diags)")
        try engine.correlator!.save(to: store)
        #expect(store.windows.isEmpty)
    }

    @Test func restoreKeepsTheSameBoundsAsMemory() throws {
        let store = InMemoryCorrelationStore()
        let callers = (0..<6).map { "user\($0)" }
        var events: [Event] = []
        for (i, c) in callers.enumerated() { for k in 0..<4 { events.append(C.ev("Delete", caller: c, at: Int64(i * 10 + k), id: UInt64(i * 10 + k + 1))) } }
        _ = try Self.replay(Self.count, events, store: store)
        #expect(store.windows.count == 6)
        let small = Correlator.Configuration(maxGroups: 4, maxEventsPerGroup: 3)
        let r = try Self.replay(Self.count, [], store: store, configuration: small)
        #expect(r.correlator.openGroups(0) == 4)
        #expect(r.correlator.stats.evictedGroups == 2 && r.correlator.stats.droppedEvents == 6, "each window lost its oldest event")
        #expect(store.windows.count == 4, "the evicted windows are deleted from the store")
        #expect(Set(store.windows.values.map(\.groupKey)) == Set(callers.suffix(4)), "the least recently active went first")
        #expect(store.windows.values.allSatisfy { $0.events <= 3 })
    }

    @Test func snapshotRoundTripsEntriesEvidenceAndEntities() throws {
        let sum = C.set(C.base("up", op: "Upload"), C.correlation("""
        type: value_sum
        rules: [up]
        group-by: [Caller]
        timespan: 1h
        condition: {gte: 1000, field: bytes}
        """))
        var engine = Engine(rules: sum)
        _ = engine.process(C.ev("Upload", at: 0, id: 1, extra: #""bytes": 400"#))
        _ = engine.process(C.ev("Upload", at: 5, id: 2, extra: #""bytes": "-inf""#))
        let before = engine.correlator!.snapshot()
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("s.db"))
        try db.transaction { try engine.correlator!.save(to: db) }
        let again = Engine(rules: sum)
        try again.correlator!.load(from: db)
        let after = again.correlator!.snapshot()
        #expect(after.windows == before.windows)
        #expect(after.now == before.now && after.taken == before.taken)
        let w = try #require(after.windows.first)
        #expect(w.entries.map(\.number) == [400, -.infinity])
        #expect(w.entries[0].evidence?.contains("Upload") == true)
        #expect(w.entities.contains(Entity(kind: .account, value: "alice")))
        try db.close()
    }
}
