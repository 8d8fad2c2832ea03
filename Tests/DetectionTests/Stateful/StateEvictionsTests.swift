@testable import Detection
import EventModel
import Testing

/// Every cap of the event-time path counts what it lets go, in one place (`StatefulStages.evictions`,
/// which `replay --summary json` and `vigil run`'s metrics report).
@Suite struct StateEvictionsTests {
    static let listKeys = "Microsoft.MachineLearningServices/workspaces/listKeys/action"

    @Test func eachCapCountsWhatItLetsGo() throws {
        let sigma = OperationRelevanceTests.engine([OperationRelevanceTests.rule(id: "8a1f0000-0000-4000-8000-000000000002",
                                                                                 selection: "operationName: \(Self.listKeys)")])
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore(),
                                       configuration: .init(maxProfiles: 1, maxScopes: 1))
        var stages = StatefulStages(buffer: EventTimeBuffer(latenessSeconds: 900, capacity: 2),
                                    assembler: OperationAssembler(configuration: .init(timeoutSeconds: 900, maxOpenOperations: 1,
                                                                                       maxClosedRemembered: 1)),
                                    anomaly: detector, engine: sigma)
        #expect(stages.evictions == StatefulStages.Evictions())
        // Four operations (Start only) by four callers, a minute apart: more than the buffer, the
        // assembler, the operations remembered and the profiles in memory can hold.
        for i in 0..<4 {
            var start = Fixture.activity(time: Fixture.at(day: 0, hour: 9, minute: i), operation: Self.listKeys, result: "Start",
                                         correlationId: "c0ffee05-0000-4000-8000-00000000000\(i)", line: i + 1)
            start.caller = "user\(i)@contoso.example"
            _ = stages.take(start)
        }
        _ = stages.finish()
        let e = stages.evictions
        #expect(e[.eventsReleasedEarly] == 2, "\(e)")
        #expect(e[.operationsForcedOut] == 3, "\(e)")
        #expect(e[.closedOperationsForgotten] == 3, "\(e)")
        #expect(e[.operationsForgotten] == 3, "\(e)")
        #expect(e[.baselinesWrittenBack] >= 3, "\(e)")
        #expect(e[.correlationGroupsDropped] == 0 && e[.correlationEventsDropped] == 0)
        #expect(e.all.map(\.kind.rawValue) == ["events_released_early", "operations_forced_out", "closed_operations_forgotten", "correlation_groups_dropped",
                                         "correlation_events_dropped", "baselines_written_back", "operations_forgotten",
                                         "operations_stopped_waiting"])
        #expect(e.all.map(\.count) == [e[.eventsReleasedEarly], e[.operationsForcedOut], e[.closedOperationsForgotten], 0, 0,
                                          e[.baselinesWrittenBack], e[.operationsForgotten], e[.operationsStoppedWaiting]])
    }

    /// Several stages of one run (`vigil run`'s scale-out) are reported as their sum, kind by kind.
    @Test func evictionsAddUpKindByKind() {
        var a = StatefulStages.Evictions(), b = StatefulStages.Evictions()
        a[.eventsReleasedEarly] = 1; a[.baselinesWrittenBack] = 10; a[.closedOperationsForgotten] = 4
        b[.eventsReleasedEarly] = 2; b[.correlationGroupsDropped] = 3; b[.operationsForgotten] = 5
        b[.operationsForcedOut] = 6; b[.correlationEventsDropped] = 7; a[.operationsStoppedWaiting] = 8
        #expect((a + b).all.map(\.count) == [3, 6, 4, 3, 7, 10, 5, 8])
        #expect((a + StatefulStages.Evictions()) == a)
    }

    /// The correlation caps too: open groups past `maxGroups`, events past `maxEventsPerGroup`.
    @Test func correlationCapsAreCounted() {
        let set = C.set(C.base("del", op: "Delete"), C.correlation("""
        type: event_count
        rules: [del]
        group-by: [Caller]
        timespan: 1h
        condition: {gte: 1000}
        """))
        var engine = Engine(rules: set, correlation: .init(maxGroups: 2, maxEventsPerGroup: 2))
        var stages = StatefulStages(anomaly: nil, engine: engine)
        // Four deletions by one caller (a group keeps two), then one each by five others (two
        // groups at most), all inside the hour.
        let callers = Array(repeating: "solo", count: 4) + (0..<5).map { "user\($0)" }
        for (i, caller) in callers.enumerated() {
            let e = C.ev("Delete", caller: caller, at: Int64(i * 60), id: UInt64(i + 1))
            _ = stages.take(e, feeding: engine.detect(e).feeding)
        }
        _ = stages.finish()
        let e = stages.evictions
        #expect(e[.correlationGroupsDropped] > 0, "\(e)")
        #expect(e[.correlationEventsDropped] > 0, "\(e)")
        #expect(e[.correlationGroupsDropped] == engine.correlationStats.evictedGroups)
        #expect(e[.correlationEventsDropped] == engine.correlationStats.droppedEvents)
    }
}
