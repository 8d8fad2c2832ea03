import TestSupport
import Foundation
@testable import Detection
import EventModel
import StateStore
import Testing

@Suite struct AnomalyDetectorTests {
    static let listSecrets = "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action"
    static let alice = "alice@contoso.example"

    /// Alice reads datastores in mlw-prod four times a day (09, 11, 14, 16 UTC) for `days` days from 203.0.113.0/24.
    static func history(days: Int = 20, caller: String = alice) -> [Event] {
        var out: [Event] = []
        for day in 0..<days {
            for (k, hour) in [9, 11, 14, 16].enumerated() {
                out.append(Fixture.dataPlane(time: Fixture.at(day: day, hour: hour), caller: caller,
                                             ip: "203.0.113.\(10 + k)", serial: day * 10 + k))
            }
        }
        return out
    }

    static func run(_ detector: AnomalyDetector, _ events: [Event]) -> [Alert] {
        events.flatMap { detector.process($0) }
    }

    @Test func firstSensitiveOperationAfterLearningExplainsItself() throws {
        let rule = try Fixture.rule("vigil-aml-first-credential-pull")
        let detector = AnomalyDetector(rules: [rule], store: InMemoryBaselineStore())
        #expect(Self.run(detector, Self.history()).isEmpty)
        let call = Fixture.operation(time: Fixture.at(day: 20, hour: 10), operation: Self.listSecrets, ip: "198.18.7.5", serial: 1)
        let alerts = detector.process(call)
        try #require(alerts.count == 1)
        let a = alerts[0]
        #expect(a.description == "first datastores/listsecrets by alice@contoso.example on workspace mlw-prod; "
            + "alice@contoso.example used mlw-prod on 20 of the last 30 days, always from 203.0.113.0/24; "
            + "this call came from 198.18.7.0/24 (new)")
        #expect(a.id == Alert.makeId(ruleId: rule.id, eventIds: [call.idString]))
        #expect(a.ruleId == rule.id && a.severity == .high)
        #expect(a.techniques == ["T1555.006", "T1552"])
        #expect(a.entities.contains(Entity(kind: .account, value: Self.alice)))
        #expect(a.entities.contains(Entity(kind: .ip, value: "198.18.7.5")))
        #expect(a.eventIds == [call.idString])
        #expect(a.evidence.count == 1)
        #expect(a.baselineControls.contains("D5"))
        #expect(a.time == call.time)
        // The second call is known.
        let again = Fixture.operation(time: Fixture.at(day: 20, hour: 11), operation: Self.listSecrets, ip: "198.18.7.5", serial: 2)
        #expect(detector.process(again).isEmpty)
        // Raw Activity records are left to the assembled operation.
        let raw = Fixture.activity(time: Fixture.at(day: 20, hour: 12), operation: Self.listSecrets, result: "Start",
                                   caller: "dave@contoso.example")
        #expect(detector.process(raw).isEmpty)
    }

    @Test func learningPeriodSuppressesThenLearns() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-credential-pull")], store: InMemoryBaselineStore())
        let h = Self.history()
        _ = Self.run(detector, Array(h[0..<12]))
        let early = Fixture.operation(time: Fixture.at(day: 3, hour: 12), operation: Self.listSecrets, serial: 3)
        #expect(detector.process(early).isEmpty)
        #expect(detector.stats.suppressedLearning == 1)
        _ = Self.run(detector, Array(h[12...]))
        // Learned during the learning period: not new any more.
        #expect(detector.process(Fixture.operation(time: Fixture.at(day: 20), operation: Self.listSecrets, serial: 4)).isEmpty)
        #expect(detector.stats.alerts == 0)
    }

    @Test func firstAccessToAWorkspace() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
        _ = Self.run(detector, Array(Self.history()[0..<8]))
        // Day 2: the workspace is still being learned.
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 2, hour: 12), caller: "carol@contoso.example", serial: 500)).isEmpty)
        _ = Self.run(detector, Array(Self.history()[8...]))
        let bob = Fixture.dataPlane(time: Fixture.at(day: 20, hour: 12), caller: "bob@contoso.example", ip: "198.51.100.7", serial: 501)
        let alerts = detector.process(bob)
        try #require(alerts.count == 1)
        #expect(alerts[0].description == "first access by bob@contoso.example to workspace mlw-prod (datastores/read, Succeeded); "
            + "mlw-prod has been watched for 20 days and used by 2 other identities; this call came from 198.51.100.0/24")
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 13), caller: "bob@contoso.example", serial: 502)).isEmpty)
    }

    @Test func newIPRangeForAnEstablishedIdentity() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-access-from-new-ip-range")], store: InMemoryBaselineStore())
        #expect(Self.run(detector, Self.history()).isEmpty)
        let alerts = detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 9), ip: "198.18.7.20", serial: 600))
        try #require(alerts.count == 1)
        #expect(alerts[0].description == "alice@contoso.example used Azure from a network range never seen for them: "
            + "198.18.7.0/24 (198.18.7.20, datastores/read, Succeeded); "
            + "alice@contoso.example was active on 20 of the last 30 days, always from 203.0.113.0/24")
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 10), ip: "198.18.7.99", serial: 601)).isEmpty)
        // A new identity has no history to compare with.
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 10), caller: "erin@contoso.example",
                                                   ip: "192.0.2.1", serial: 602)).isEmpty)
        // IPv6 ranges are /48.
        _ = detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 11), ip: "2001:db8:1:2::5", serial: 603))
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 12), ip: "2001:db8:1:ffff::9", serial: 604)).isEmpty)
        #expect(detector.stats.alerts == 2)
    }

    @Test func unusualHourOfTheWeek() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-access-at-unusual-hour")], store: InMemoryBaselineStore())
        #expect(Self.run(detector, Self.history()).isEmpty)
        // Day 20 is Sunday 2025-03-23; Alice always worked at 09–16.
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 10), serial: 700)).isEmpty)
        let alerts = detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 3), serial: 701))
        try #require(alerts.count == 1)
        #expect(alerts[0].description == "alice@contoso.example acted on workspace mlw-prod at Sun 03:00 UTC (datastores/read, Succeeded); "
            + "in 81 events over 19 days alice@contoso.example was never active at that hour of the week (±1 h); "
            + "busiest hours: Mon 09:00 (3), Mon 11:00 (3), Mon 14:00 (3)")
    }

    @Test func volumeSpikeAgainstTheIdentitysOwnHistory() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-data-plane-read-spike")], store: InMemoryBaselineStore())
        #expect(Self.run(detector, Self.history()).isEmpty)
        var alerts: [Alert] = []
        var crossing: Event?
        for i in 0..<120 {
            let e = Fixture.dataPlane(time: Fixture.at(day: 20, hour: 12, second: i), category: "DataStoreReadEvent", serial: 800 + i)
            let a = detector.process(e)
            if !a.isEmpty { crossing = e }
            alerts += a
        }
        try #require(alerts.count == 1)
        #expect(alerts[0].eventIds == [crossing!.idString])
        #expect(alerts[0].description == "alice@contoso.example made 51 "
            + "datastorereadevent/datasetreadevent/modelsreadevent/amldatastoreevent/amldatasetevent/amlmodelsevent calls "
            + "on workspace mlw-prod on 2025-03-23 (so far); over the previous 14 days their busiest day had 4 and the daily mean was 4; "
            + "threshold max(50, 3 × 4) = 50; this call came from 203.0.113.0/24")
        // Other categories are not counted.
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 13), category: "RunEvent", serial: 999)).isEmpty)
    }

    @Test func baselinesSurviveARestartAndAlertsAreNotRaisedTwice() throws {
        let folder = StatefulTemporaryFolder()
        let path = folder.path("state.db")
        let rules = try Fixture.anomalyRules()
        do {
            let db = try StateDatabase(path: path)
            let learner = AnomalyDetector(rules: rules, store: db, mode: .learnOnly)
            #expect(Self.run(learner, Self.history()).isEmpty)
            _ = learner.finish()
            #expect(learner.drainDiagnostics().isEmpty)
            #expect(try db.baselineKeys(namespace: AnomalyDetector.profileNamespace).count >= 2)
            try db.close()
        }
        let call = Fixture.operation(time: Fixture.at(day: 20, hour: 10), operation: Self.listSecrets, ip: "198.18.7.5", serial: 1)
        var firstIds: [String] = []
        do {
            let db = try StateDatabase(path: path)
            let detector = AnomalyDetector(rules: rules, store: db)
            let alerts = detector.process(call)
            firstIds = alerts.map(\.id).sorted()
            #expect(Set(alerts.map(\.ruleId)) == ["vigil-aml-first-credential-pull", "vigil-aml-access-from-new-ip-range"])
            _ = detector.finish()
            try db.close()
        }
        do {
            let db = try StateDatabase(path: path)
            let detector = AnomalyDetector(rules: rules, store: db)
            // Read again, the call is one the stored baselines learned: skipped, neither learned nor checked.
            #expect(detector.process(call).isEmpty)
            #expect(detector.stats.updatesAlreadyLearned > 0 && detector.stats.eventsLearned == 0)
            // A later one is checked against the stored baselines, which know the operation and the range now.
            let later = Fixture.operation(time: Fixture.at(day: 20, hour: 11), operation: Self.listSecrets, ip: "198.18.7.6", serial: 2)
            #expect(detector.process(later).isEmpty)
            #expect(detector.stats.profileLoads >= 1)
            // Even with the learned baseline gone (and with it the mark of what it learned), the
            // markers stop a second alert.
            for key in try db.baselineKeys(namespace: AnomalyDetector.profileNamespace) where key.hasSuffix(Self.alice) {
                try db.removeBaselineValue(namespace: AnomalyDetector.profileNamespace, key: key)
            }
            for key in try db.baselineKeys(namespace: AnomalyDetector.scopeNamespace) {
                #expect(key.hasPrefix("workspace|") || key.hasPrefix("global|") || key.hasPrefix("vigil.resource.subscription|"))
            }
            let fresh = AnomalyDetector(rules: rules, store: db)
            let again = fresh.process(call)
            #expect(Set(again.map(\.id)).isDisjoint(with: firstIds))
            #expect(!again.contains { $0.ruleId == "vigil-aml-first-credential-pull" })
            #expect(fresh.stats.suppressedDuplicate == 1)
            #expect(try db.baselineKeys(namespace: AnomalyDetector.markerNamespace) == firstIds)
            try db.close()
        }
    }

    /// The stored profiles of `store`.
    static func profiles(_ store: InMemoryBaselineStore) -> [String: AccessProfile] {
        (store.values[AnomalyDetector.profileNamespace] ?? [:]).compactMapValues { try? JSONDecoder().decode(AccessProfile.self, from: Data($0)) }
    }

    /// Events sharing one time: skipped by id, so a second detector that meets them all learns
    /// only the one the first did not, and ends where one learning each event once does.
    @Test func eventsAtOneTimeAreToldApartById() throws {
        let rules = try Fixture.anomalyRules()
        let t = Fixture.at(day: 0, hour: 9)
        let events = (0..<3).map { Fixture.dataPlane(time: t, caller: Self.alice, ip: "203.0.113.10", serial: $0) }
        let store = InMemoryBaselineStore()
        let first = AnomalyDetector(rules: rules, store: store, mode: .learnOnly)
        _ = Self.run(first, Array(events.prefix(2)))
        try first.save()
        let spaces = Self.profiles(store).count
        #expect(spaces > 0)
        for p in Self.profiles(store).values {
            #expect(p.learnedBySource?.first?.floor == t.nanoseconds - 900 * 1_000_000_000)
            #expect(p.learnedBySource?.first?.entries.map(\.id) == events.prefix(2).map { UInt64(RecentLearning.short($0.id)) })
        }
        let second = AnomalyDetector(rules: rules, store: store, mode: .learnOnly)
        _ = Self.run(second, [events[2], events[0], events[1]])
        try second.save()
        #expect(second.stats.updatesAlreadyLearned == 2 * spaces)

        let once = InMemoryBaselineStore()
        let single = AnomalyDetector(rules: rules, store: once, mode: .learnOnly)
        _ = Self.run(single, events)
        try single.save()
        #expect(Self.profiles(store).mapValues(\.events) == Self.profiles(once).mapValues(\.events))
        #expect(Self.profiles(store).values.allSatisfy { $0.events == 3 && $0.learnedBySource?.first?.entries.count == 3 })
    }

    /// A baseline written back at the memory bound part-way through the events its mark covers,
    /// and read back: what it skips is still decided by id, so nothing is skipped twice over.
    @Test func aBaselineEvictedWhileSkippingSkipsOnlyWhatItLearned() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let t = Fixture.at(day: 0, hour: 9)
        let alice = (0..<3).map { Fixture.dataPlane(time: t, caller: Self.alice, serial: $0) }
        let bob = Fixture.dataPlane(time: t, caller: "bob@contoso.example", serial: 9)
        let store = InMemoryBaselineStore()
        let first = AnomalyDetector(rules: [rule], store: store, mode: .learnOnly)
        _ = Self.run(first, Array(alice.prefix(2)))
        _ = first.finish()
        let second = AnomalyDetector(rules: [rule], store: store, configuration: .init(maxProfiles: 1), mode: .learnOnly)
        _ = Self.run(second, [alice[0], bob, alice[1], alice[2]])
        _ = second.finish()
        #expect(second.stats.profileEvictions >= 2)
        #expect(second.stats.updatesAlreadyLearned == 2)
        #expect(Self.profiles(store).first { $0.key.hasSuffix(Self.alice) }?.value.events == 3)
    }

    /// A baseline written back at the memory bound and read again in the same run: another event
    /// at its last time is learned, not skipped.
    @Test func aBaselineEvictedAndReloadedInOneRunSkipsNothing() throws {
        let store = InMemoryBaselineStore()
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: store,
                                       configuration: .init(maxProfiles: 1), mode: .learnOnly)
        let t = Fixture.at(day: 0, hour: 9)
        for (n, caller) in [Self.alice, "bob@contoso.example", Self.alice].enumerated() {
            _ = detector.process(Fixture.dataPlane(time: t, caller: caller, serial: n))
        }
        _ = detector.finish()
        #expect(detector.stats.profileEvictions >= 2)
        #expect(detector.stats.updatesAlreadyLearned == 0)
        #expect(Self.profiles(store).first { $0.key.hasSuffix(Self.alice) }?.value.events == 2)
    }

    /// A later run meets events a baseline never learned: those inside the lateness window before
    /// its newest (a day's export holding records stamped in the previous day's last minutes) are
    /// learned by id; those older than its first are history never read (priming after a live
    /// start), learned and kept as a stretch of their own; those between its first and its floor
    /// are taken as learned (a quiet stretch is not told from one never read), counted. Read again,
    /// nothing is learned twice.
    @Test func unseenEventsOlderThanTheFirstOrInsideTheWindowAreLearnedTheOthersAreNot() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let store = InMemoryBaselineStore()
        func event(day: Int, hour: Int, minute: Int = 0, _ serial: Int) -> Event {
            Fixture.dataPlane(time: Fixture.at(day: day, hour: hour, minute: minute), caller: Self.alice, serial: serial)
        }
        func learn(_ events: [Event]) -> AnomalyDetector {
            let detector = AnomalyDetector(rules: [rule], store: store, mode: .learnOnly)
            _ = Self.run(detector, events)
            _ = detector.finish()
            return detector
        }
        let first = [event(day: 1, hour: 0, 1), event(day: 1, hour: 6, 2)]
        _ = learn(first)
        let unseen = [event(day: 0, hour: 23, minute: 30, 3), event(day: 1, hour: 3, 4), event(day: 1, hour: 5, minute: 55, 5)]
        let second = learn(unseen)
        #expect(second.stats.eventsLearned == 2)
        #expect(second.stats.updatesAlreadyLearned == 1)
        let profile = try #require(Self.profiles(store).first { $0.key.hasSuffix(Self.alice) }?.value)
        #expect(profile.events == 4)
        #expect(profile.firstSeen == Fixture.at(day: 0, hour: 23, minute: 30).seconds)
        // The second run read on from its backfill to the stretch that starts at day 1: one stretch.
        #expect(profile.learnedBySource?.first?.since == Fixture.at(day: 0, hour: 23, minute: 30).nanoseconds)
        #expect(profile.learnedBySource?.first?.earlier == nil)

        let third = learn((first + unseen).sorted { $0.time! < $1.time! })
        #expect(third.stats.eventsLearned == 0)
        #expect(third.stats.updatesAlreadyLearned == 5)
        #expect(Self.profiles(store).first { $0.key.hasSuffix(Self.alice) }?.value.events == 4)
    }

    /// Days read out of order over three runs (1-3, then 7-9, then 4-6, then all of them): every
    /// day is learned once, as one run over all of them in order learns it.
    @Test func daysReadOutOfOrderOverSeveralRunsAreEachLearnedOnce() throws {
        let rule = try Fixture.rule("vigil-aml-first-access-to-workspace")
        let store = InMemoryBaselineStore()
        let days = (1...9).map { Fixture.dataPlane(time: Fixture.at(day: $0, hour: 9), caller: Self.alice, serial: $0) }
        func learn(_ events: [Event]) -> AnomalyDetector {
            let detector = AnomalyDetector(rules: [rule], store: store, mode: .learnOnly)
            _ = Self.run(detector, events)
            _ = detector.finish()
            return detector
        }
        for range in [0..<3, 6..<9, 3..<6] { #expect(learn(Array(days[range])).stats.eventsLearned == 3) }
        let again = learn(days)
        #expect(again.stats.eventsLearned == 0 && again.stats.updatesAlreadyLearned == 9)
        let profile = try #require(Self.profiles(store).first { $0.key.hasSuffix(Self.alice) }?.value)
        #expect(profile.events == 9 && profile.activeDays.count == 9)
    }

    /// An operation is learned once, from whichever of its records comes first, and listed by its
    /// `OperationOnce` key: a later run that meets only its Success (a restart re-reading from a
    /// checkpoint past the Start) does not learn it again.
    @Test func anOperationIsListedByItsKeyNotByTheRecordThatStoodForIt() throws {
        let rules = try Fixture.anomalyRules()
        let store = InMemoryBaselineStore()
        let t = Fixture.at(day: 0, hour: 10)
        let start = Fixture.activity(time: t, operation: Self.listSecrets, result: "Start", line: 1)
        let success = Fixture.activity(time: t.adding(seconds: 2), operation: Self.listSecrets, result: "Success", line: 2)
        #expect(start.id != success.id)
        func learn(_ events: [Event]) -> AnomalyDetector {
            let detector = AnomalyDetector(rules: rules, store: store, mode: .learnOnly)
            var stages = StatefulStages(anomaly: detector)
            for e in events { _ = stages.take(e) }
            _ = stages.finish()
            _ = detector.finish()
            return detector
        }
        _ = learn([start, success])
        let before = Self.profiles(store).mapValues(\.events)
        #expect(!before.isEmpty && before.values.allSatisfy { $0 == 1 })
        let again = learn([success])
        #expect(again.stats.updatesAlreadyLearned > 0)
        #expect(Self.profiles(store).mapValues(\.events) == before)
    }

    /// Baselines stored before the mark existed carry none: everything read is learned, as before.
    @Test func aBaselineWithoutAMarkLearnsEverything() throws {
        let store = InMemoryBaselineStore()
        let rules = try Fixture.anomalyRules()
        let history = Self.history(days: 2)
        let first = AnomalyDetector(rules: rules, store: store, mode: .learnOnly)
        _ = Self.run(first, history)
        _ = first.finish()
        for (key, profile) in Self.profiles(store) {
            try store.setBaselineValue(profile.withoutMarks.encoded(), namespace: AnomalyDetector.profileNamespace, key: key)
        }
        let second = AnomalyDetector(rules: rules, store: store, mode: .learnOnly)
        _ = Self.run(second, history)
        _ = second.finish()
        #expect(second.stats.updatesAlreadyLearned == 0)
        #expect(Self.profiles(store).values.allSatisfy { $0.events == 2 * history.count })
    }

    /// Alice's history saved, then her first credential pull alerting (`call`, `raised`) in a
    /// detector bounded to four baselines; `beforeCrowd` runs before 40 new identities push her
    /// baselines past the bound.
    static func alertThenCrowd(_ store: InMemoryBaselineStore, beforeCrowd: (AnomalyDetector) throws -> Void = { _ in }) throws
        -> (detector: AnomalyDetector, call: Event, raised: [Alert]) {
        let detector = AnomalyDetector(rules: try Fixture.anomalyRules(), store: store, configuration: .init(maxProfiles: 4))
        _ = run(detector, history())
        try detector.save()
        let call = Fixture.operation(time: Fixture.at(day: 20, hour: 10), operation: listSecrets, ip: "198.18.7.5", serial: 1)
        let raised = detector.process(call)
        #expect(raised.contains { $0.ruleId == "vigil-aml-first-credential-pull" })
        try beforeCrowd(detector)
        for i in 0..<40 {
            _ = detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 11, minute: i), caller: "user\(i)@contoso.example",
                                                   serial: 300 + i))
        }
        #expect(detector.stats.profileEvictions > 0)
        return (detector, call, raised)
    }

    /// A baseline that raised an alert is not written back at the memory bound before the next
    /// save, which commits with the alert: written earlier, a crash before that commit left a
    /// baseline that had learned the event while the alert was lost, and the run after it, reading
    /// the event again, found nothing new.
    @Test func aBaselineIsNotWrittenBackBeforeTheAlertItRaisedCommits() throws {
        let store = InMemoryBaselineStore()
        let rules = try Fixture.anomalyRules()
        let (first, call, raised) = try Self.alertThenCrowd(store)
        // The new identities alerted too, and are held as well: the detector asks for an early save.
        #expect(first.saveWanted)
        // The process dies here. The next run reads the call again and raises the same alerts.
        let second = AnomalyDetector(rules: rules, store: store)
        #expect(second.process(call).map(\.id).sorted() == raised.map(\.id).sorted())
        // Once saved, the held baselines go like any other: known identities' quiet events bring
        // memory back to the bound.
        try first.save()
        #expect(!first.saveWanted)
        for i in 0..<10 {
            #expect(first.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 12, minute: i), caller: "user\(i)@contoso.example",
                                                    serial: 400 + i)).isEmpty)
        }
        #expect(first.stats.profilesInMemory <= 4, "\(first.stats)")
    }

    /// A save that rolls back with its batch leaves the alerting baselines held: pushed past the
    /// bound afterwards, they are still not written back, and a crash then loses nothing.
    @Test func aRolledBackSaveKeepsTheAlertingBaselinesHeld() throws {
        struct Rollback: Error {}
        let store = InMemoryBaselineStore()
        let (_, call, raised) = try Self.alertThenCrowd(store) { detector in
            #expect(throws: Rollback.self) { try store.transaction { try detector.save(); throw Rollback() } }
        }
        let second = AnomalyDetector(rules: try Fixture.anomalyRules(), store: store)
        #expect(second.process(call).map(\.id).sorted() == raised.map(\.id).sorted())
    }

    /// An early save is asked for once the baselines held for their alerts pass a tenth of the bound.
    @Test func anEarlySaveIsWantedPastATenthOfTheBound() throws {
        let store = InMemoryBaselineStore()
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: store,
                                       configuration: .init(maxProfiles: 20))
        _ = Self.run(detector, Self.history())
        try detector.save()
        var alerting = 0
        for i in 0..<3 {
            alerting += detector.process(Fixture.dataPlane(time: Fixture.at(day: 20, hour: 11, minute: i), caller: "new\(i)@contoso.example",
                                                           serial: 500 + i)).count
            #expect(detector.saveWanted == (alerting > 2), "\(alerting) alerting baselines")
        }
        #expect(alerting == 3)
        try detector.save()
        #expect(!detector.saveWanted)
    }

    @Test func learnOnlyRaisesNothingAndMarksNothing() throws {
        let store = InMemoryBaselineStore()
        let detector = AnomalyDetector(rules: try Fixture.anomalyRules(), store: store, mode: .learnOnly)
        _ = Self.run(detector, Self.history())
        #expect(detector.process(Fixture.operation(time: Fixture.at(day: 20), operation: Self.listSecrets, ip: "198.18.7.5")).isEmpty)
        _ = detector.finish()
        #expect(try store.baselineKeys(namespace: AnomalyDetector.markerNamespace).isEmpty)
        #expect(try !store.baselineKeys(namespace: AnomalyDetector.profileNamespace).isEmpty)
    }

    @Test func profilesAreBoundedAndEvictionsWriteBack() throws {
        let store = InMemoryBaselineStore()
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: store,
                                       configuration: .init(maxProfiles: 10))
        for i in 0..<40 {
            _ = detector.process(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: i), caller: "user\(i)@contoso.example", serial: i))
        }
        #expect(detector.stats.profileEvictions >= 30)
        #expect(detector.stats.profilesInMemory <= 10)
        _ = detector.finish()
        #expect(try store.baselineKeys(namespace: AnomalyDetector.profileNamespace).count == 40)
        // An evicted profile comes back from the store: user0 is not new.
        _ = Self.run(detector, (15..<20).map { Fixture.dataPlane(time: Fixture.at(day: $0), caller: "user39@contoso.example", serial: 100 + $0) })
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20), caller: "user0@contoso.example", serial: 200)).isEmpty)
        #expect(detector.process(Fixture.dataPlane(time: Fixture.at(day: 20), caller: "newcomer@contoso.example", serial: 201)).count == 1)
    }

    @Test func workspaceScopeComesFromTheResourceId() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
        _ = detector.process(Fixture.dataPlane(time: Fixture.at(day: 0), workspace: Fixture.workspaceId.uppercased(), serial: 1))
        _ = detector.process(Fixture.operation(time: Fixture.at(day: 0, hour: 11), operation: "Microsoft.MachineLearningServices/workspaces/computes/write",
                                               resource: Fixture.workspaceId + "/computes/gpu-1", serial: 2))
        _ = detector.finish()
        let profiles = try AnomalyBaselines.profiles(in: detector.store)
        #expect(profiles.count == 1)
        #expect(profiles.first?.scopeName == "MLW-PROD")
        #expect(profiles.first?.scope == Fixture.workspaceId.lowercased())
        #expect(profiles.first?.events == 2)
    }
}
