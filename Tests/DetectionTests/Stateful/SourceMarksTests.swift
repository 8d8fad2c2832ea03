import TestSupport
import Foundation
@testable import Detection
import EventModel
import StateStore
import Testing

/// One learning mark per source of events (`SourceMarks`): streams exported apart (the Activity Log,
/// each resource-log category) and learned by different runs over the same days are each learned,
/// once. With one mark per baseline, the second stream fell inside the first's stretches and was
/// skipped as learned.
@Suite struct SourceMarksTests {
    typealias B = BackfillLearningTests

    /// Alice's Activity Log over days 0–9 (one operation a day, 09:00).
    static func activity(days: Range<Int> = 0..<10) -> [Event] {
        days.map {
            Fixture.activity(time: Fixture.at(day: $0, hour: 9), operation: B.listSecrets, result: "Start",
                             correlationId: "c0ffee00-0000-4000-8000-0000000001\(String(format: "%02d", $0))", line: $0 + 1)
        }
    }

    /// Her data-plane reads over the same days (09:30 and 14:00), in `category`.
    static func reads(days: Range<Int> = 0..<10, category: String = "DataStoreReadEvent") -> [Event] {
        days.flatMap { d in
            [(9, 30), (14, 0)].enumerated().map { k, at in
                Fixture.dataPlane(time: Fixture.at(day: d, hour: at.0, minute: at.1), category: category, serial: d * 10 + k)
            }
        }
    }

    static func inTimeOrder(_ events: [Event]) -> [Event] { events.sorted { $0.time! < $1.time! } }

    @Test func aStreamLearnedByALaterRunOverTheSameDaysIsLearnedOnce() throws {
        let rules = try Fixture.anomalyRules()
        let clean = InMemoryBaselineStore()
        B.learn(Self.inTimeOrder(Self.activity() + Self.reads()), clean, rules: rules)

        let store = InMemoryBaselineStore()
        B.learn(Self.activity(), store, rules: rules)
        let second = B.learn(Self.reads(), store, rules: rules)
        #expect(second.stats.updatesAlreadyLearned == 0, "the data-plane reads were taken as learned")
        #expect(B.learnedPart(store) == B.learnedPart(clean))

        // Read again, alone or together, nothing is learned twice.
        for events in [Self.activity(), Self.reads(), Self.inTimeOrder(Self.activity() + Self.reads())] {
            #expect(B.learn(events, store, rules: rules).stats.eventsLearned == 0)
        }
        #expect(B.learnedPart(store) == B.learnedPart(clean))
        let workspace = try #require(B.profiles(store).first { $0.key.hasPrefix("workspace|") }?.value)
        #expect(workspace.learnedBySource?.map(\.source) == ["activity", "resourceLog/datastorereadevent"])
        #expect(workspace.learned == nil)
    }

    /// Two categories of one kind are two exports (two storage containers): the same.
    @Test func twoCategoriesAreTwoSources() throws {
        let rules = try Fixture.anomalyRules()
        let datastores = Self.reads(), models = Self.reads(category: "ModelsReadEvent")
        let clean = InMemoryBaselineStore()
        B.learn(Self.inTimeOrder(datastores + models), clean, rules: rules)
        let store = InMemoryBaselineStore()
        B.learn(models, store, rules: rules)
        B.learn(datastores, store, rules: rules)
        #expect(B.learnedPart(store) == B.learnedPart(clean))
        #expect(B.learn(Self.inTimeOrder(datastores + models), store, rules: rules).stats.eventsLearned == 0)
    }

    /// A later run of one source that reads past a gap starts a new stretch of that source only:
    /// the other source's mark is stored as it was.
    @Test func aSourceNotReadByARunKeepsItsMarkAsStored() throws {
        let rules = try Fixture.anomalyRules()
        let store = InMemoryBaselineStore()
        B.learn(Self.inTimeOrder(Self.activity(days: 0..<5) + Self.reads(days: 0..<5)), store, rules: rules)
        let before = try #require(B.profiles(store).first { $0.key.hasPrefix("workspace|") }?.value)
        B.learn(Self.activity(days: 5..<10), store, rules: rules)
        let after = try #require(B.profiles(store).first { $0.key.hasPrefix("workspace|") }?.value)
        let source = "resourceLog/datastorereadevent"
        #expect(after.mark(from: source) != nil && after.mark(from: source) == before.mark(from: source))
        #expect(after.mark(from: "activity") != before.mark(from: "activity"))
    }

    /// A mark stored before sources were told apart (no `source`) still skips what it covers, for
    /// every source, and is stored again as it was read; new learning goes to the sources' own marks.
    @Test func aMarkWithoutASourceIsKeptAndStillSkipsWhatItCovers() throws {
        let rules = try Fixture.anomalyRules()
        let store = InMemoryBaselineStore()
        B.learn(Self.activity(days: 0..<5), store, rules: rules)
        for (key, var p) in B.profiles(store) {
            p.learned = p.learnedBySource?.first
            p.learned?.source = nil
            p.learnedBySource = nil
            try store.setBaselineValue(p.encoded(), namespace: AnomalyDetector.profileNamespace, key: key)
        }
        let legacy = B.profiles(store).mapValues(\.learned)
        #expect(B.learn(Self.activity(days: 0..<5), store, rules: rules).stats.eventsLearned == 0)
        let later = B.learn(Self.activity(days: 5..<10), store, rules: rules)
        #expect(later.stats.eventsLearned > 0 && later.stats.updatesAlreadyLearned == 0)
        #expect(B.profiles(store).mapValues(\.learned) == legacy)
        #expect(B.profiles(store).values.allSatisfy { $0.mark(from: "activity") != nil })
        #expect(B.learn(Self.activity(), store, rules: rules).stats.eventsLearned == 0)
    }

    /// Categories come from the input: past `LearningSource.maxSources` distinct ones, the rest
    /// share one mark ("other"), so a baseline keeps a bounded number of marks.
    @Test func sourcesPastTheCapShareOneMark() throws {
        let rules = try Fixture.anomalyRules()
        let store = InMemoryBaselineStore()
        let n = LearningSource.maxSources + 6
        let events = (0..<n).map {
            Fixture.dataPlane(time: Fixture.at(day: 0, hour: 1).adding(seconds: Int64($0) * 60), category: "Category\($0)", serial: $0)
        }
        B.learn(events, store, rules: rules)
        let workspace = try #require(B.profiles(store).first { $0.key.hasPrefix("workspace|") }?.value)
        let sources = workspace.learnedBySource?.map(\.source) ?? []
        #expect(sources.count > LearningSource.maxSources - 2 && sources.count <= LearningSource.maxSources + 1, "\(sources.count)")
        #expect(sources.last == LearningSource.overflow)
        #expect(workspace.events == n)
        #expect(B.learn(events, store, rules: rules).stats.eventsLearned == 0)
    }
}
