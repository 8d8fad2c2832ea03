import Detection
import EventModel
import Testing

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
