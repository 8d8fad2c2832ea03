import TestSupport
import Foundation
@testable import Detection
import EventModel
import StateStore
import Testing

/// History learned after later events (`LearnedMark`'s `since`, `earlier` stretches and the ids near
/// their edges). Each test compares what a backfill order ends with against one clean run over the
/// same events in time order. (First written as probes by an independent review, which they failed.)
@Suite struct BackfillLearningTests {
    static let alice = AnomalyDetectorTests.alice
    static let bob = "bob@contoso.example"
    static let listSecrets = AnomalyDetectorTests.listSecrets

    static func profiles(_ store: InMemoryBaselineStore) -> [String: AccessProfile] { AnomalyDetectorTests.profiles(store) }

    /// Learn-only pass through the stateful stages (so an operation is taken once, `OperationOnce`).
    @discardableResult
    static func learn(_ events: [Event], _ store: InMemoryBaselineStore, rules: [AnomalyRule], maxProfiles: Int = 100_000) -> AnomalyDetector {
        let detector = AnomalyDetector(rules: rules, store: store, configuration: .init(maxProfiles: maxProfiles), mode: .learnOnly)
        var stages = StatefulStages(anomaly: detector)
        for e in events { _ = stages.take(e) }
        _ = stages.finish()
        _ = detector.finish()
        return detector
    }

    /// Same, straight into the detector (events in the order given).
    @discardableResult
    static func learnDirect(_ events: [Event], _ store: InMemoryBaselineStore, rules: [AnomalyRule], maxProfiles: Int = 100_000) -> AnomalyDetector {
        let detector = AnomalyDetector(rules: rules, store: store, configuration: .init(maxProfiles: maxProfiles), mode: .learnOnly)
        for e in events { _ = detector.process(e) }
        _ = detector.finish()
        return detector
    }

    static func counts(_ store: InMemoryBaselineStore) -> [String: Int] { profiles(store).mapValues(\.events) }

    /// The stored profiles without their marks (what was learned).
    static func learnedPart(_ store: InMemoryBaselineStore) -> [String: AccessProfile] {
        profiles(store).mapValues(\.withoutMarks)
    }

    static func data(_ day: Int, _ hour: Int, minute: Int = 0, second: Int = 0, caller: String = alice, _ serial: Int) -> Event {
        Fixture.dataPlane(time: Fixture.at(day: day, hour: hour, minute: minute, second: second), caller: caller, serial: serial)
    }


    /// `vigil run` started while an operation was under way: its first record read is the Success,
    /// which the baseline learns (its `since`). Alice goes on for hours, so the floor moves far past
    /// it. Priming with the history (`baseline learn`) then meets the operation's Start, a second
    /// before `since`: its key is listed near `since`, so it is not learned again. One clean run in
    /// time order learns it once (from its Start).
    @Test func anOperationStraddlingSinceIsLearnedOnce() throws {
        let rules = try Fixture.anomalyRules()
        let t = Fixture.at(day: 0, hour: 10)
        let start = Fixture.activity(time: t, operation: Self.listSecrets, result: "Start", line: 1)
        let success = Fixture.activity(time: t.adding(seconds: 2), operation: Self.listSecrets, result: "Success", line: 2)
        let later = (1...4).map {
            Fixture.activity(time: t.adding(seconds: Int64($0) * 3_600), operation: Self.listSecrets, result: "Start",
                             correlationId: "c0ffee00-0000-4000-8000-00000000010\($0)", line: 10 + $0)
        }
        let clean = InMemoryBaselineStore()
        Self.learn([start, success] + later, clean, rules: rules)

        let store = InMemoryBaselineStore()
        Self.learn([success] + later, store, rules: rules)       // the live run
        Self.learn([start], store, rules: rules)                 // priming with the history
        #expect(Self.counts(store) == Self.counts(clean), "operation learned twice: \(Self.counts(store)) vs clean \(Self.counts(clean))")
    }

    /// The same at the end of an `earlier` stretch: a backfill of the day before learns an
    /// operation's Start (its stretch ends there); a later backfill of the gap up to `since` meets
    /// its Success first (another file), listed near the stretch's end.
    @Test func anOperationStraddlingAStretchEndIsLearnedOnce() throws {
        let rules = try Fixture.anomalyRules()
        let t = Fixture.at(day: 1, hour: 0).adding(seconds: -2)   // day 0, 23:59:58
        let start = Fixture.activity(time: t, operation: Self.listSecrets, result: "Start", line: 1)
        let success = Fixture.activity(time: t.adding(seconds: 4), operation: Self.listSecrets, result: "Success", line: 2)
        func op(_ day: Int, _ hour: Int, _ n: Int) -> Event {
            Fixture.activity(time: Fixture.at(day: day, hour: hour), operation: Self.listSecrets, result: "Start",
                             correlationId: "c0ffee00-0000-4000-8000-0000000002\(n)", line: 20 + n)
        }
        let dayZero = [op(0, 9, 10), start], dayOne = [success, op(1, 9, 11)], dayTwo = [op(2, 9, 12), op(2, 15, 13)]
        let clean = InMemoryBaselineStore()
        Self.learn(dayZero + dayOne + dayTwo, clean, rules: rules)

        let store = InMemoryBaselineStore()
        Self.learn(dayTwo, store, rules: rules)
        Self.learn(dayZero, store, rules: rules)
        Self.learn(dayOne, store, rules: rules)
        #expect(Self.counts(store) == Self.counts(clean), "\(Self.counts(store)) vs clean \(Self.counts(clean))")
    }

    /// Backfill at a tight memory bound: two of Alice's events share one instant, and Bob's (same
    /// instant) pushes her baseline out between them. Written back, her mark's new stretch ends at
    /// that instant ([t, t]); read back, her second event is told by id (not listed), so learned,
    /// as with room in memory.
    @Test func anEvictionBetweenEventsOfOneInstantInABackfillLosesNone() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let november = [Self.data(30, 9, 1), Self.data(30, 9, caller: Self.bob, 2), Self.data(31, 9, 3), Self.data(31, 9, caller: Self.bob, 4)]
        let backfill = [Self.data(1, 9, 11), Self.data(1, 9, caller: Self.bob, 12), Self.data(1, 9, 13)]

        let roomy = InMemoryBaselineStore()
        Self.learnDirect(november, roomy, rules: [rule])
        Self.learnDirect(backfill, roomy, rules: [rule])

        let tight = InMemoryBaselineStore()
        Self.learnDirect(november, tight, rules: [rule])
        let d = Self.learnDirect(backfill, tight, rules: [rule], maxProfiles: 1)
        #expect(d.stats.profileEvictions > 0)
        #expect(Self.counts(tight) == Self.counts(roomy), "\(Self.counts(tight)) vs roomy \(Self.counts(roomy)); skipped \(d.stats.updatesAlreadyLearned)")
    }

    /// The same with a stop after a save instead of an eviction: a backfill saved between two
    /// events of one instant (a crash right after), run again from the start, learns the second.
    @Test func aBackfillStoppedBetweenEventsOfOneInstantLearnsTheRestWhenRunAgain() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let november = [Self.data(30, 9, 1), Self.data(31, 9, 3)]
        let backfill = [Self.data(1, 8, 10), Self.data(1, 9, 11), Self.data(1, 9, 13), Self.data(2, 9, 14)]
        let clean = InMemoryBaselineStore()
        Self.learnDirect(november + backfill, clean, rules: [rule])   // the counts do not depend on order

        let store = InMemoryBaselineStore()
        Self.learnDirect(november, store, rules: [rule])
        Self.learnDirect(Array(backfill.prefix(2)), store, rules: [rule])   // saved, then killed
        Self.learnDirect(backfill, store, rules: [rule])                    // run again
        #expect(Self.counts(store) == Self.counts(clean), "\(Self.counts(store)) vs \(Self.counts(clean))")
    }

    /// Priming after a live start whose first event shares its instant with one the live run
    /// never read (second-precision timestamps; the live file started mid-second): the history
    /// holds that one, at exactly `since`, and it is learned (told by id there).
    @Test func anUnreadEventAtExactlySinceIsLearned() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let live = [Self.data(5, 12, 1), Self.data(5, 18, 2)]
        let history = [Self.data(4, 9, 3), Self.data(5, 12, 4)]   // the second: same instant as the live run's first
        let store = InMemoryBaselineStore()
        Self.learnDirect(live, store, rules: [rule])
        Self.learnDirect(history, store, rules: [rule])
        #expect(Self.counts(store).values.first == 4, "\(Self.counts(store))")
    }

    /// A volume rule's daily counts: a backfill keeps no day the clean run had pruned past
    /// `history_days` before the newest day.
    @Test func volumeDailyCountsOfABackfillEndAsACleanRun() throws {
        let rule = try Fixture.rule("vigil-aml-data-plane-read-spike")
        var early: [Event] = [], late: [Event] = []
        for day in 0..<40 { (day < 20 ? { early.append($0) } : { late.append($0) })(Self.data(day, 9, day)) }
        let clean = InMemoryBaselineStore()
        Self.learnDirect(early + late, clean, rules: [rule])
        let store = InMemoryBaselineStore()
        Self.learnDirect(late, store, rules: [rule])
        Self.learnDirect(early, store, rules: [rule])
        let a = Self.learnedPart(store), b = Self.learnedPart(clean)
        #expect(a.mapValues(\.events) == b.mapValues(\.events))
        #expect(a.mapValues(\.daily) == b.mapValues(\.daily), "\(a.values.first?.daily.values.first?.map(\.day) ?? []) vs \(b.values.first?.daily.values.first?.map(\.day) ?? [])")
    }

    /// A tight memory bound does not split one backfill run into a stretch per eviction (the gaps
    /// between them lie in what the run read: one stretch), so the cap of 8 never joins a real gap
    /// never read: days 50-51, between two earlier backfills, are still learned when read after a
    /// sparse backfill of days 0-28 at a bound of one baseline.
    @Test func evictionsDoNotFragmentOneBackfillIntoStretchesThatSwallowAGapNeverRead() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        func pair(_ day: Int) -> [Event] { [Self.data(day, 9, day), Self.data(day, 9, minute: 1, caller: Self.bob, 1_000 + day)] }
        func run(bound: Int) -> [String: Int] {
            let store = InMemoryBaselineStore()
            Self.learnDirect((100...101).flatMap(pair), store, rules: [rule])
            Self.learnDirect((40...49).flatMap(pair), store, rules: [rule])
            Self.learnDirect((52...60).flatMap(pair), store, rules: [rule])
            Self.learnDirect(stride(from: 0, through: 28, by: 4).flatMap(pair), store, rules: [rule], maxProfiles: bound)
            Self.learnDirect((50...51).flatMap(pair), store, rules: [rule])
            return Self.counts(store)
        }
        let roomy = run(bound: 100_000), tight = run(bound: 1)
        #expect(roomy.values.allSatisfy { $0 == 2 + 10 + 9 + 8 + 2 }, "\(roomy)")
        #expect(tight == roomy, "\(tight) vs roomy \(roomy)")
    }


    /// Backfills in several orders (Nov, then Sep, then Oct, then Aug..Dec all again), also at a
    /// memory bound of one baseline, end as one clean run, and a last full read learns nothing.
    @Test func severalBackfillsInAnyOrderEndAsACleanRun() throws {
        let rules = try Fixture.anomalyRules()
        func month(_ m: Int, _ caller: String) -> [Event] {
            (0..<10).map { k in Self.data(m * 30 + k * 3, 9 + k % 5, minute: k, caller: caller, m * 100 + k + (caller == Self.bob ? 50 : 0)) }
        }
        func both(_ m: Int) -> [Event] { (month(m, Self.alice) + month(m, Self.bob)).sorted { $0.time! < $1.time! } }
        let all = (0..<5).flatMap(both).sorted { $0.time! < $1.time! }
        let clean = InMemoryBaselineStore()
        Self.learnDirect(all, clean, rules: rules)
        for bound in [100_000, 1] {
            let store = InMemoryBaselineStore()
            for m in [3, 1, 2] { Self.learnDirect(both(m), store, rules: rules, maxProfiles: bound) }
            Self.learnDirect(all, store, rules: rules, maxProfiles: bound)
            #expect(Self.learnedPart(store) == Self.learnedPart(clean), "bound \(bound): \(Self.counts(store)) vs \(Self.counts(clean))")
            let again = Self.learnDirect(all, store, rules: rules, maxProfiles: bound)
            #expect(again.stats.eventsLearned == 0)
        }
    }

    /// A mark stored without `since` and `earlier` (the format before): it stands on the profile's
    /// firstSeen; history older than that is learned, once.
    @Test func aMarkOfThePreviousFormatThenBackfilled() throws {
        let rules = try Fixture.anomalyRules()
        let later = (10..<20).map { Self.data($0, 9, $0) }, history = (0..<10).map { Self.data($0, 9, $0) }
        let store = InMemoryBaselineStore()
        Self.learnDirect(later, store, rules: rules)
        for (key, var p) in Self.profiles(store) {
            p.learned = p.learnedBySource?.first
            p.learned?.since = nil
            p.learned?.earlier = nil
            p.learned?.source = nil
            p.learnedBySource = nil
            try store.setBaselineValue(p.encoded(), namespace: AnomalyDetector.profileNamespace, key: key)
        }
        Self.learnDirect(history + later, store, rules: rules)
        #expect(Self.counts(store).values.allSatisfy { $0 == 20 })
        let again = Self.learnDirect(history + later, store, rules: rules)
        #expect(again.stats.eventsLearned == 0)
    }
}
