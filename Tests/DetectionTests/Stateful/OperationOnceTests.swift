@testable import Detection
import EventModel
import Testing
import TestSupport

/// `OperationOnce`: each operation's first lifecycle record stands for it; its other records are
/// skipped while they keep coming within the timeout; memory is capped.
@Suite struct OperationOnceTests {
    static let listKeys = "Microsoft.MachineLearningServices/workspaces/listKeys/action"

    static func record(_ result: String, corr: String, minute: Int, op: String = listKeys, line: Int) -> Event {
        Fixture.activity(time: Fixture.at(day: 0, hour: 9, minute: minute), operation: op, result: result, correlationId: corr, line: line)
    }

    @Test func theFirstRecordOfEachLifecycleIsTakenOnce() {
        var once = OperationOnce(timeoutSeconds: 900)
        let a = "c0ffee00-0000-4000-8000-00000000000a"
        let b = "c0ffee00-0000-4000-8000-00000000000b"
        let taken = [
            Self.record("Start", corr: a, minute: 0, line: 1),
            Self.record("Start", corr: b, minute: 1, line: 2),
            Self.record("Accept", corr: a, minute: 2, line: 3),
            // Same correlationId, another casing: the same operation.
            Self.record("Success", corr: a.uppercased(), minute: 3, line: 4),
            // Same correlationId, another operation: another operation.
            Self.record("Success", corr: a, minute: 3, op: "Microsoft.MachineLearningServices/workspaces/write", line: 5),
            Self.record("Failure", corr: b, minute: 4, line: 6),
        ].map { once.isFirst($0) }
        #expect(taken == [true, true, false, false, true, false])
        #expect(once.stats.records == 6 && once.stats.operations == 3 && once.count == 3)
    }

    @Test func recordsThatAreNotLifecycleRecordsAreNeverTaken() {
        var once = OperationOnce(timeoutSeconds: 900)
        let t1 = once.isFirst(Self.record("Active", corr: "c0ffee00-0000-4000-8000-00000000000c", minute: 0, line: 1))
        #expect(!t1)
        let t2 = once.isFirst(Fixture.dataPlane(time: Fixture.at(day: 0)))
        #expect(!t2)
        #expect(once.stats.records == 0)
    }

    /// An operation is remembered while its records keep coming; after a timeout of silence a
    /// record of it counts as a new operation.
    @Test func anOperationIsForgottenAfterATimeoutOfSilence() {
        var once = OperationOnce(timeoutSeconds: 600)
        let a = "c0ffee00-0000-4000-8000-00000000000a"
        let t3 = once.isFirst(Self.record("Start", corr: a, minute: 0, line: 1))
        #expect(t3)
        let t4 = once.isFirst(Self.record("Accept", corr: a, minute: 9, line: 2))
        #expect(!t4)
        // 9 minutes after the Accept: still within 10 minutes of its latest record.
        let t5 = once.isFirst(Self.record("Accept", corr: a, minute: 18, line: 3))
        #expect(!t5)
        // A record of another operation 11 minutes later forgets it.
        let t6 = once.isFirst(Self.record("Start", corr: "c0ffee00-0000-4000-8000-00000000000b", minute: 29, line: 4))
        #expect(t6)
        #expect(once.count == 1)
        let t7 = once.isFirst(Self.record("Success", corr: a, minute: 30, line: 5))
        #expect(t7)
    }

    @Test func theCapForgetsTheOperationHeardFromLeastRecently() {
        var once = OperationOnce(timeoutSeconds: 3600, capacity: 2)
        let ids = (0..<3).map { "c0ffee00-0000-4000-8000-00000000001\($0)" }
        let t8 = once.isFirst(Self.record("Start", corr: ids[0], minute: 0, line: 1))
        #expect(t8)
        let t9 = once.isFirst(Self.record("Start", corr: ids[1], minute: 1, line: 2))
        #expect(t9)
        let t10 = once.isFirst(Self.record("Accept", corr: ids[0], minute: 2, line: 3))
        #expect(!t10)
        // A third operation: the one heard from least recently (ids[1]) goes.
        let t11 = once.isFirst(Self.record("Start", corr: ids[2], minute: 3, line: 4))
        #expect(t11)
        #expect(once.stats.forgotten == 1 && once.count == 2)
        let t12 = once.isFirst(Self.record("Success", corr: ids[0], minute: 4, line: 5))
        #expect(!t12)
        let t13 = once.isFirst(Self.record("Success", corr: ids[1], minute: 5, line: 6))
        #expect(t13)
    }

    /// Known on arrival: a record is a repeat when a record of its operation with an earlier time,
    /// within the timeout, arrived before it; not when the earlier one is older than the timeout,
    /// when it arrived later, or when the only one before it has the same time.
    @Test func aRepeatIsKnownOnArrivalOnlyWhenAnEarlierRecordVouchesForIt() {
        var once = OperationOnce(timeoutSeconds: 600)
        let life = OperationAssembler.Lifecycle(phase: .started, correlationId: "c0ffee00-0000-4000-8000-00000000000a", operation: "op")
        let key = OperationOnce.key(of: life)
        let minute: Int64 = 60_000_000_000
        #expect(!once.isRepeat(key: key, time: 10 * minute))
        once.arrived(key: key, time: 10 * minute, watermark: nil)
        #expect(once.isRepeat(key: key, time: 12 * minute) && once.isRepeat(key: key, time: 20 * minute))
        #expect(!once.isRepeat(key: key, time: 21 * minute), "past the timeout: it may be a new operation")
        #expect(!once.isRepeat(key: key, time: 10 * minute) && !once.isRepeat(key: key, time: 9 * minute), "not after it")
        #expect(!once.isRepeat(key: OperationOnce.key(of: OperationAssembler.Lifecycle(phase: .started, correlationId: "other", operation: "op")),
                               time: 12 * minute))
        // Once the watermark is a timeout past it, an arrival vouches for nothing still to come.
        once.arrived(key: 1, time: 40 * minute, watermark: 30 * minute)
        #expect(!once.isRepeat(key: key, time: 30 * minute))
    }

    /// Lifecycle records known on arrival to be repeats are not held; counting them in at their
    /// place keeps every answer `OperationOnce` gives as if each record had been held: a day of
    /// interleaved operations of one to four records, some with gaps past the timeout, pushed in
    /// time order and shuffled within the lateness, gives the operations that feeding every
    /// record in event time gives, and the baselines learn each of them once.
    @Test(arguments: [UInt64(3), 5])
    func repeatsNotHeldChangeNoAnswer(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var records: [Event] = []
        for n in 0..<400 {
            let corr = "c0ffee02-0000-4000-8000-\(String(repeating: "0", count: 12 - String(n % 300).count))\(n % 300)"
            let op = n % 7 == 0 ? Self.listKeys : "Microsoft.MachineLearningServices/workspaces/jobs/write"
            var second = Int(rng.next() % 80_000)
            for (k, result) in ["Start", "Accept", "Success", "Failure"].prefix(1 + Int(rng.next() % 4)).enumerated() {
                if k > 0 { second += rng.next() % 5 == 0 ? 600 + Int(rng.next() % 900) : Int(rng.next() % 120) }
                records.append(Fixture.activity(time: Fixture.at(day: 0, hour: 0).adding(seconds: Int64(second)), operation: op, result: result,
                                                correlationId: corr, line: records.count + 1))
            }
        }
        records.sort { ($0.time!, $0.id) < ($1.time!, $1.id) }
        var reference = OperationOnce(timeoutSeconds: 900)
        let operations = records.filter { reference.isFirst($0) }.count

        func run(_ arrival: [Event]) throws -> (stages: StatefulStages, learned: Int) {
            let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
            var stages = StatefulStages(buffer: EventTimeBuffer(latenessSeconds: 900), anomaly: detector)
            for r in arrival { _ = stages.take(r) }
            _ = stages.finish()
            return (stages, detector.stats.eventsLearned)
        }
        let shuffled = records.map { ($0, $0.time!.nanoseconds + Int64(rng.next() % 840) * 1_000_000_000) }.sorted { $0.1 < $1.1 }.map(\.0)
        let inOrder = try run(records)
        let reordered = try run(shuffled)
        #expect(operations > 400 && operations < records.count, "gaps past the timeout make new operations: \(operations)")
        for result in [inOrder, reordered] {
            #expect(result.stages.operationOnce.stats.operations == operations)
            #expect(result.stages.operationOnce.stats.records == records.count)
            #expect(result.learned == operations)
            #expect(result.stages.buffer.stats.pushed + result.stages.repeatsNotHeld == records.count)
        }
        #expect(inOrder.stages.repeatsNotHeld > records.count / 3, "not held: \(inOrder.stages.repeatsNotHeld) of \(records.count)")
    }

    /// A lifecycle record no anomaly rule reads (here: no caller, so no subject) is not taken,
    /// whether or not it is known on arrival to repeat its operation: otherwise, counted in only
    /// when it arrives after an earlier record of its operation, it keeps the operation
    /// remembered and makes a later record a repeat in one arrival order and not in another.
    @Test func aRecordNoRuleReadsIsNotTakenAsARepeatEither() throws {
        let corr = "c0ffee03-0000-4000-8000-000000000001"
        let first = Fixture.activity(time: Fixture.at(day: 0, hour: 9), operation: Self.listKeys, result: "Start", correlationId: corr, line: 1)
        var silent = Fixture.activity(time: Fixture.at(day: 0, hour: 9, second: 800), operation: Self.listKeys, result: "Accept",
                                      correlationId: corr, line: 2)
        silent.caller = nil
        let last = Fixture.activity(time: Fixture.at(day: 0, hour: 9, second: 1600), operation: Self.listKeys, result: "Success",
                                    correlationId: corr, line: 3)
        func learned(_ arrival: [Event]) throws -> Int {
            let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
            var stages = StatefulStages(buffer: EventTimeBuffer(latenessSeconds: 900), anomaly: detector)
            for r in arrival { _ = stages.take(r) }
            _ = stages.finish()
            #expect(stages.buffer.stats.late == 0)
            return detector.stats.eventsLearned
        }
        // In event time, without the silent record, the Success is 1600 s after the Start: past
        // the timeout (900 s), a new operation.
        let inOrder = try learned([first, silent, last])
        let shuffled = try learned([first, last, silent])
        #expect(inOrder == shuffled)
        #expect(shuffled == 2)
    }

    /// What the baselines learn does not depend on the Sigma rules: a lifecycle record the anomaly
    /// rules do not read (no caller) counts for nothing, whether or not a rule on assembled
    /// operations has it held. Counted, it would stand for its operation and make the Success,
    /// which they do read, a repeat: the operation would not be learned at all.
    @Test func aRecordNoRuleReadsCountsForNothingWhateverElseHoldsIt() throws {
        let corr = "c0ffee04-0000-4000-8000-000000000001"
        var silent = Fixture.activity(time: Fixture.at(day: 0, hour: 9), operation: Self.listKeys, result: "Start",
                                      correlationId: corr, line: 1)
        silent.caller = nil
        let success = Fixture.activity(time: Fixture.at(day: 0, hour: 9, second: 100), operation: Self.listKeys, result: "Success",
                                       correlationId: corr, line: 2)
        func learned(engine: Engine?) throws -> Int {
            let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
            var stages = StatefulStages(buffer: EventTimeBuffer(latenessSeconds: 900), anomaly: detector, engine: engine)
            for r in [silent, success] { _ = stages.take(r) }
            _ = stages.finish()
            return detector.stats.eventsLearned
        }
        let sigma = OperationRelevanceTests.engine([OperationRelevanceTests.rule(id: "8a1f0000-0000-4000-8000-000000000001",
                                                                                 selection: "operationName: \(Self.listKeys)")])
        #expect(StatefulStages(anomaly: nil, engine: sigma).assemblesOperations)
        #expect(try learned(engine: nil) == 1)
        #expect(try learned(engine: sigma) == 1)
    }

    /// Through the stateful path: a listKeys lifecycle (Start, Success) past the learning period
    /// raises one alert, on its Start record, worded from it; a repeat lifecycle raises none.
    @Test func anAnomalyAlertOnAnOperationComesFromItsFirstRecord() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-workspace-secrets-listing")], store: InMemoryBaselineStore())
        var stages = StatefulStages(anomaly: detector)
        #expect(!stages.assemblesOperations)
        let write = "Microsoft.MachineLearningServices/workspaces/write"
        var records = [Fixture.activity(time: Fixture.at(day: 0), operation: write, result: "Success", correlationId: "c0ffee00-0000-4000-8000-000000000001", line: 1)]
        for (k, day) in [20, 21].enumerated() {
            let corr = "c0ffee00-0000-4000-8000-00000000010\(k)"
            records.append(Fixture.activity(time: Fixture.at(day: day), operation: Self.listKeys, result: "Start", correlationId: corr,
                                            ip: "198.18.7.5", line: 2 + 2 * k))
            records.append(Fixture.activity(time: Fixture.at(day: day, second: 2), operation: Self.listKeys, result: "Success",
                                            correlationId: corr, ip: "198.18.7.5", line: 3 + 2 * k))
        }
        var alerts: [Alert] = []
        for r in records {
            let wanted = stages.wants(r)
            #expect(wanted)
            alerts += stages.push(r)
        }
        alerts += stages.finish()
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.eventIds == [records[1].idString])
        let text = alert.description ?? ""
        #expect(text.hasPrefix("first workspaces/listKeys by alice@contoso.example on workspace mlw-prod;"), "\(text)")
        #expect(text.hasSuffix("this call came from 198.18.7.0/24 (new)"), "\(text)")
        #expect(stages.operationsAssembled == 0)
        #expect(detector.stats.eventsLearned == 3)
    }
}
