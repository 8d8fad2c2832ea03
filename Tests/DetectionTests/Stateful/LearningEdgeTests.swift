import TestSupport
import Foundation
@testable import Detection
import EventModel
import StateStore
import Testing

/// The "already learned" bookkeeping (`LearnedMark`) at the joins of stretches and at single
/// instants, and volume counts of history read late. Each test compares a sequence of runs with
/// one clean run over the same events. (First written as probes by a second independent review,
/// which they failed.)
@Suite struct LearningEdgeTests {
    typealias B = BackfillLearningTests
    static let alice = AnomalyDetectorTests.alice
    static let bob = BackfillLearningTests.bob

    static func data(_ day: Int, _ hour: Int, minute: Int = 0, second: Int = 0, caller: String = alice, _ serial: Int) -> Event {
        B.data(day, hour, minute: minute, second: second, caller: caller, serial)
    }

    /// Alice's two events and Bob's at one instant, ordered as the event-time buffer releases them
    /// (by id): Alice's first, Bob's, Alice's second.
    static func interleaved(day: Int, hour: Int) -> (a1: Event, bob: Event, a2: Event) {
        for s in 0..<200 {
            let x = data(day, hour, 100 + 2 * s), y = data(day, hour, 101 + 2 * s)
            let (a1, a2) = x.id < y.id ? (x, y) : (y, x)
            for b in 0..<200 {
                let bob = data(day, hour, caller: bob, 500 + b)
                if a1.id < bob.id && bob.id < a2.id { return (a1, bob, a2) }
            }
        }
        fatalError("no interleaving found")
    }

    /// Alice's event count after learning `runs` in turn through the stateful stages (ties
    /// released by id), the last run with room in memory and at a bound of one baseline.
    static func aliceEvents(after runs: [[Event]], rule: AnomalyRule) -> (roomy: Int?, tight: Int?) {
        func count(bound: Int) -> Int? {
            let store = InMemoryBaselineStore()
            for (n, events) in runs.enumerated() { B.learn(events, store, rules: [rule], maxProfiles: n == runs.count - 1 ? bound : 100_000) }
            return B.profiles(store).values.first { $0.subject == Self.alice }?.events
        }
        return (count(bound: 100_000), count(bound: 1))
    }

    /// A backfill whose first event lies less than a window before `since` reads on into the
    /// `since` stretch: at save the two are joined, and the joined head keeps the ids the `since`
    /// stretch listed in its window as well as the backfill's: read again, nothing is learned twice.
    @Test func aBackfillJoinedToSinceKeepsTheIdsNearSince() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let live = (0...5).map { Self.data(5, 12, minute: $0, $0 + 1) } + [Self.data(6, 12, 7)]
        let history = [Self.data(5, 11, minute: 55, 8)] + live
        let clean = InMemoryBaselineStore()
        B.learnDirect(history, clean, rules: [rule])

        let store = InMemoryBaselineStore()
        B.learnDirect(live, store, rules: [rule])       // `vigil run` started at 12:00
        B.learnDirect(history, store, rules: [rule])    // primed with the history from 11:55
        let again = B.learnDirect(history, store, rules: [rule])   // the same history again
        #expect(again.stats.eventsLearned == 0, "learned again: \(again.stats.eventsLearned)")
        #expect(B.counts(store) == B.counts(clean), "\(B.counts(store)) vs clean \(B.counts(clean))")
    }

    /// Two stretches are joined only when their gap lies before `readTo`: at that instant the run
    /// may have read only some of the events (ties are released one by one), so an event of that
    /// instant no run read, met right after a write-back at the memory bound, is still learned.
    @Test func aJoinStopsShortOfTheInstantReadTo() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        // The live run started mid-second: it met one of Alice's two events at d5 12:00:00.
        let (a1, bob, a2) = Self.interleaved(day: 5, hour: 12)
        let live = [a1, Self.data(5, 18, 3)]
        let olderBackfill = [Self.data(1, 9, 4)]
        // The history: d1, d3 (never read), then both events at d5 12:00 with Bob's between them
        // (at a bound of one baseline, Bob's pushes Alice's out while readTo = d5 12:00).
        let history = [Self.data(1, 9, 4), Self.data(3, 9, 5), a1, bob, a2, Self.data(5, 18, 3)]

        let (roomy, tight) = Self.aliceEvents(after: [live, olderBackfill, history], rule: rule)
        #expect(roomy == 5, "roomy: \(String(describing: roomy))")
        #expect(tight == roomy, "tight \(String(describing: tight)) vs roomy \(String(describing: roomy))")
    }

    /// Detect mode (`vigil replay` of an earlier month after a later one): a volume rule's day in
    /// the backfill lies before the newest day counted, so the days a run in time order would have
    /// weighed it against may be gone: it raises no spike (a clean run would not raise this one).
    @Test func aBackfillDayRaisesNoVolumeSpike() throws {
        let rule = try Fixture.rule("vigil-aml-data-plane-read-spike")   // factor 3, minimum 50, 14 days
        var serial = 0
        func day(_ d: Int, _ n: Int) -> [Event] {
            (0..<n).map { k in serial += 1; return Self.data(d, 9, minute: k / 60, second: k % 60, serial) }
        }
        let early = (0...20).flatMap { d in day(d, d == 10 ? 200 : d == 20 ? 100 : 1) }
        let late = (21...34).flatMap { day($0, 1) }
        func alerts(_ runs: [[Event]]) -> [String] {
            let store = InMemoryBaselineStore()
            var out: [String] = []
            for events in runs {
                let d = AnomalyDetector(rules: [rule], store: store)
                for e in events { out += d.process(e).map { "\($0.ruleId) \($0.time.iso8601)" } }
                _ = d.finish()
            }
            return out
        }
        let clean = alerts([early + late]), backfill = alerts([late, early])
        #expect(clean.isEmpty, "clean: \(clean)")
        #expect(backfill == clean, "backfill: \(backfill) vs clean \(clean)")
    }

    /// Stretches meeting at one instant ([d4, T] and [T, …]) are not joined as overlapping: T stays
    /// an edge, told by id, and an event of T neither run read is learned.
    @Test func stretchesMeetingAtOneInstantStayApart() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        // Alice's a3 (learned by the backfill) and a2 (by no run) at T with Bob's between; a1, at
        // T too, was met by the live run only if it comes first (chosen below by id).
        let (a3, bob, a2) = Self.interleaved(day: 5, hour: 12)
        var a1 = Self.data(5, 12, 1)
        for s in 2..<400 where !(a1.id < a3.id) { a1 = Self.data(5, 12, 1_000 + s) }
        let live1 = [a1, Self.data(5, 14, 4)]          // started mid-second: met a1 only
        let live2 = [Self.data(10, 12, 5)]             // days later: live1's stretch goes to `earlier`
        let history = [Self.data(4, 9, 6), a1, a3, bob, a2, Self.data(5, 14, 4)]
        let (roomy, tight) = Self.aliceEvents(after: [live1, live2, history], rule: rule)
        #expect(roomy == 6, "roomy: \(String(describing: roomy))")
        #expect(tight == roomy, "tight \(String(describing: tight)) vs roomy \(String(describing: roomy))")
    }

    /// A record delivered twice (same bytes, so same id) is released as two adjacent events (ties
    /// by id), so no write-back falls between them: both copies count at any bound.
    @Test func aDuplicatedRecordCountsTheSameAtAnyMemoryBound() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let e = Self.data(5, 12, 1)
        let input = [Self.data(5, 11, 9), e, Self.data(5, 12, caller: Self.bob, 2), e]
        let roomy = InMemoryBaselineStore(), tight = InMemoryBaselineStore()
        B.learn(input, roomy, rules: [rule])                    // through the stateful stages: no dedup
        B.learn(input, tight, rules: [rule], maxProfiles: 1)
        #expect(B.counts(tight) == B.counts(roomy), "tight \(B.counts(tight)) vs roomy \(B.counts(roomy))")
    }

    /// The same runs in the same order give byte-identical stored baselines.
    @Test func theSameRunsGiveTheSameBytes() throws {
        let rules = try Fixture.anomalyRules()
        func month(_ m: Int, _ caller: String) -> [Event] {
            (0..<10).map { k in Self.data(m * 30 + k * 3, 9 + k % 5, minute: k, caller: caller, m * 100 + k + (caller == Self.bob ? 50 : 0)) }
        }
        func both(_ m: Int) -> [Event] { (month(m, Self.alice) + month(m, Self.bob)).sorted { $0.time! < $1.time! } }
        func run() -> [String: [UInt8]] {
            let store = InMemoryBaselineStore()
            for m in [3, 1, 2, 0, 4] { B.learn(both(m), store, rules: rules, maxProfiles: 1) }
            return store.values[AnomalyDetector.profileNamespace] ?? [:]
        }
        #expect(run() == run())
    }

    /// `AnomalyDetector.process` is public and documents no order; fed a backfill out of time
    /// order (two events below a stored floor, the later first), the save does not trap (the
    /// stretch's first moves back). The stateful stages always feed in time order.
    @Test func aBackfillFedOutOfOrderDoesNotCrashTheSave() async {
        await #expect(processExitsWith: .success) {
            let rule = try! Fixture.rule("vigil-aml-first-access-to-workspace")
            let store = InMemoryBaselineStore()
            BackfillLearningTests.learnDirect([BackfillLearningTests.data(10, 9, 1)], store, rules: [rule])
            BackfillLearningTests.learnDirect([BackfillLearningTests.data(2, 9, minute: 10, 2), BackfillLearningTests.data(2, 9, 3)],
                                              store, rules: [rule])
        }
    }
}
