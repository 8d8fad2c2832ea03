import Detection
import EventDecoding
import EventModel
import Foundation
import Ingest
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// The two paths of `DetectionStage`: stateless rules on arrival, stateful consumers in event time.
@Suite struct DetectionStageTests {
    static func events(_ lines: [String], source: String = "f") throws -> [Event] {
        var out: [Event] = []
        for (i, line) in lines.enumerated() {
            var c = JSONRecords.Collector()
            try JSONRecords.decode(Array(line.utf8), at: SourcePosition(source: source, line: i + 1, offset: Int64(i * 1000)),
                                   normalizer: .init(), into: &c)
            out += c.events
        }
        return out
    }

    static func rules(_ paths: [String]) throws -> RuleSetup {
        let r = try RuleSetup.load(ruleDirectories: paths, fieldMapPath: RunFixture.detections.path + "/fieldmap.yml", database: nil)
        #expect(!r.hasErrors)
        return r
    }

    static var allRulePaths: [String] { RunFixture.rulePaths + [RunFixture.detections.appendingPathComponent("anomaly").path] }

    static func sampleEvents() throws -> [Event] {
        try RunFixture.sampleFiles().enumerated().flatMap { i, f in try events(f.lines, source: "file\(i)") }
    }

    @Test func statelessAlertsComeOnArrivalWithTheDefaultLateness() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try StateDatabase(path: "\(dir)/s.db")
        defer { try? database.close() }
        let stage = try Self.rules(Self.allRulePaths).makeDetection(database: database)   // 900 s
        var onArrival = 0, statelessIds = Set<String>()
        for e in try Self.sampleEvents() {
            let alerts = stage.process(e)
            onArrival += alerts.count
            statelessIds.formUnion(alerts.filter { $0.eventIds == [e.idString] }.map(\.id))
        }
        #expect(onArrival > 0 && !statelessIds.isEmpty, "single-event rules alert before any watermark moves")
        #expect(stage.usesEventTime)
        #expect(stage.eventsBuffered < stage.eventsSeen, "only what stateful consumers need is buffered")
        let atEnd = stage.finish()
        #expect(Set(atEnd.map(\.id)).isDisjoint(with: statelessIds), "nothing single-event waits for the end")
    }

    @Test func withoutStatefulConsumersNothingIsBufferedOrAssembled() throws {
        // Only stateless rules: no correlations, no anomaly rules, no rule on assembled operations.
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = [try RunFixture.statelessRules(in: dir)]
        let database = try StateDatabase(path: "\(dir)/s.db")
        defer { try? database.close() }
        let setup = try Self.rules(paths)
        try #require(setup.compiled.correlations.isEmpty && setup.anomalyRules.isEmpty)
        try #require(!setup.compiled.rules.contains { $0.kinds.contains(.operation) }, "a rule reads assembled operations")
        let stage = setup.makeDetection(database: database)
        var alerts = 0
        for e in try Self.sampleEvents() { alerts += stage.process(e).count }
        #expect(alerts > 0)
        #expect(!stage.usesEventTime)
        #expect(stage.eventsBuffered == 0)
        #expect(stage.finish().isEmpty)
        #expect(stage.operationsAssembled == 0)
    }

    /// Arrival order within the lateness changes nothing: not the stateless alerts, not the
    /// correlations, not the baselines (all rules of the pack, anomaly rules included).
    @Test(arguments: [1, 2, 3])
    func shuffledWithinTheLatenessGivesTheSameAlerts(seed: UInt64) throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let setup = try Self.rules(Self.allRulePaths)
        let events = try Self.sampleEvents()
        func run(_ input: [Event], _ name: String) throws -> (ids: [String], late: Int, ops: Int) {
            let database = try StateDatabase(path: "\(dir)/\(name).db")
            defer { try? database.close() }
            let stage = setup.makeDetection(database: database)
            var alerts: [Alert] = []
            for e in input { alerts += stage.process(e) }
            alerts += stage.finish()
            return (alerts.map(\.id).sorted(), stage.lateEvents, stage.operationsAssembled)
        }
        // Each event arrives at most 5 minutes after a later one (lateness 15 minutes).
        var rng = SplitMix64(seed: seed)
        let jittered = events.map { ($0, ($0.time?.nanoseconds ?? 0) + Int64.random(in: 0..<300_000_000_000, using: &rng)) }
        let shuffled = jittered.sorted { $0.1 < $1.1 }.map(\.0)
        let inOrder = try run(events.sorted { ($0.time?.nanoseconds ?? 0) < ($1.time?.nanoseconds ?? 0) }, "ordered")
        let other = try run(shuffled, "shuffled\(seed)")
        #expect(inOrder.late == 0 && other.late == 0)
        #expect(!inOrder.ids.isEmpty)
        #expect(inOrder.ids == other.ids)
        #expect(inOrder.ops == other.ops && inOrder.ops > 0)
    }

    @Test func lateRecordsStillMeetStatelessRulesButNoWindow() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try StateDatabase(path: "\(dir)/s.db")
        defer { try? database.close() }
        let stage = try Self.rules(Self.allRulePaths).makeDetection(database: database, latenessSeconds: 60)
        let events = try Self.sampleEvents()
        // The event that raises a single-event alert, replayed after the clock moved a day on.
        var found: (Event, [String])?
        let probe = try Self.rules(RunFixture.rulePaths).makeDetection(database: database)
        for e in events where found == nil {
            let ids = probe.process(e).filter { $0.eventIds == [e.idString] }.map(\.id)
            if !ids.isEmpty { found = (e, ids) }
        }
        let (trigger, expected) = try #require(found)
        var future = trigger
        future.id &+= 1
        future.time = EventTime(nanoseconds: (trigger.time?.nanoseconds ?? 0) + 86_400_000_000_000)
        _ = stage.process(future)
        let late = stage.process(trigger)
        #expect(Set(expected).isSubset(of: Set(late.map(\.id))), "a late record still reaches stateless rules")
    }

    @Test func observerSeesEveryHeldEventLeave() throws {
        final class Recorder: HeldEventObserver {
            var held: [UInt64: Int] = [:]
            var maxHeld = 0
            func held(_ event: Event) { held[event.id, default: 0] += 1; maxHeld = max(maxHeld, held.values.reduce(0, +)) }
            func released(_ id: UInt64) {
                let n = held[id] ?? 0
                #expect(n > 0, "released without being held")
                held[id] = n > 1 ? n - 1 : nil
            }
        }
        let recorder = Recorder()
        try Self.withFullPack { stage in
            stage.observer = recorder
            for e in try Self.sampleEvents() { _ = stage.process(e) }
            #expect(recorder.maxHeld > 0)
            _ = stage.finish()
        }
        #expect(recorder.held.isEmpty, "every held event is released by the end")
    }

    /// `body` with a stage of the whole pack, anomaly rules included, on a fresh state database.
    static func withFullPack(_ body: (DetectionStage) throws -> Void) throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try StateDatabase(path: "\(dir)/s.db")
        defer { try? database.close() }
        try body(try rules(allRulePaths).makeDetection(database: database))
    }

    /// With `retiresEvents`, the events the event-time path releases come back through
    /// `takeRetired()` (replay frees them on the thread that decoded them), each held event at most
    /// once; the alerts are the same as without.
    @Test func retiredEventsAreTheReleasedOnesAndChangeNoAlert() throws {
        final class Recorder: HeldEventObserver {
            var held: [UInt64: Int] = [:]
            var released: Set<UInt64> = []
            func held(_ event: Event) { held[event.id, default: 0] += 1 }
            func released(_ id: UInt64) { released.insert(id) }
        }
        let events = try Self.sampleEvents()
        func run(retiring: Bool) throws -> (alerts: [String], retired: [UInt64], recorder: Recorder) {
            let recorder = Recorder()
            var alerts: [String] = [], retired: [UInt64] = []
            try Self.withFullPack { stage in
                stage.observer = recorder
                stage.retiresEvents = retiring
                for e in events {
                    alerts += stage.process(e).map(\.id)
                    retired += stage.takeRetired().map(\.id)
                }
                alerts += stage.finish().map(\.id)
                retired += stage.takeRetired().map(\.id)
            }
            return (alerts.sorted(), retired, recorder)
        }
        let plain = try run(retiring: false)
        let retiring = try run(retiring: true)
        #expect(plain.retired.isEmpty)
        #expect(!retiring.retired.isEmpty)
        #expect(retiring.alerts == plain.alerts)
        let retiredTimes = Dictionary(retiring.retired.map { ($0, 1) }, uniquingKeysWith: +)
        for (id, n) in retiredTimes {
            #expect(n <= retiring.recorder.held[id] ?? 0, "retired \(n) times, held \(retiring.recorder.held[id] ?? 0)")
        }
        #expect(Set(retiring.retired).isSubset(of: retiring.recorder.released))
    }

    /// At the end of a run that keeps its windows (replay, `vigil run`), an lt/lte window is judged
    /// when its timespan ended by the newest event read, a base-rule match or not.
    @Test func windowsEndedByTheNewestEventAreJudgedAtTheEnd() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        title: VM written
        id: 11111111-1111-4111-8111-111111111111
        name: vm_written
        logsource: {product: azure, service: activitylogs}
        detection:
            sel:
                operationName: MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE
            condition: sel
        ---
        title: Few VM writes
        id: 22222222-2222-4222-8222-222222222222
        correlation:
            type: event_count
            rules: [vm_written]
            group-by: [Caller]
            timespan: 10m
            condition: {lt: 3}
        """.write(toFile: "\(dir)/rules.yml", atomically: true, encoding: .utf8)
        let setup = try RuleSetup.load(ruleDirectories: [dir], fieldMapPath: RunFixture.detections.path + "/fieldmap.yml", database: nil)
        #expect(!setup.hasErrors)
        func record(_ time: String, _ operation: String, caller: String) -> String {
            #"{"time":"\#(time)","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1","#
                + #""operationName":"\#(operation)","category":"Administrative","resultType":"Success","correlationId":"c-\#(time)","caller":"\#(caller)"}"#
        }
        let lines = [record("2026-11-20T10:00:00Z", "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", caller: "a@contoso.com"),
                     record("2026-11-20T13:00:00Z", "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", caller: "b@contoso.com"),
                     // A day later, no base-rule match: the last event read.
                     record("2026-11-21T13:00:00Z", "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", caller: "c@contoso.com")]
        let database = try StateDatabase(path: "\(dir)/s.db")
        defer { try? database.close() }
        let stage = setup.makeDetection(database: database)
        var alerts: [Alert] = []
        for e in try Self.events(lines) { alerts += stage.process(e) }
        alerts += stage.finish()
        let fewer = alerts.filter { $0.ruleId == "22222222-2222-4222-8222-222222222222" }
        #expect(fewer.count == 2, "both callers' windows ended before the last event: \(fewer.map(\.description))")
    }

    /// With `lateness: 0` operations still assemble when an operation timeout is set; without
    /// one (it follows the lateness) none can, and the stage says so instead of staying silent.
    @Test func operationTimeoutLetsOperationsAssembleAtLatenessZero() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try StateDatabase(path: "\(dir)/s.db")
        defer { try? database.close() }
        let rules = try Self.rules(RunFixture.rulePaths)
        func record(_ second: Int, _ result: String, body: String = "") -> String {
            #"{"time":"2026-11-20T15:05:\#(String(format: "%02d", second))Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/ST1","operationName":"MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE","category":"Administrative","resultType":"\#(result)","correlationId":"c-1","caller":"dana@contoso.example","callerIpAddress":"198.51.100.7"\#(body)}"#
        }
        let lines = [record(1, "Start", body: #","properties":{"requestbody":"{\"properties\":{\"allowSharedKeyAccess\":true}}"}"#),
                     record(6, "Success"), record(40, "Start").replacingOccurrences(of: "c-1", with: "c-2")]   // moves event time past the Success
        func run(timeout: Int64?) throws -> (alerts: [Alert], diagnostics: [Diagnostic]) {
            let stage = rules.makeDetection(database: database, latenessSeconds: 0, operationTimeoutSeconds: timeout)
            var alerts: [Alert] = []
            for e in try Self.events(lines) { alerts += stage.process(e) }
            return (alerts, stage.drainDiagnostics())
        }
        let withTimeout = try run(timeout: 900)
        #expect(withTimeout.alerts.contains { $0.ruleTitle == "Storage Account Shared Key Access Enabled" })
        #expect(!withTimeout.diagnostics.contains { $0.code == "detection.no-assembly" })
        let without = try run(timeout: nil)
        #expect(!without.alerts.contains { $0.ruleTitle == "Storage Account Shared Key Access Enabled" })
        #expect(without.diagnostics.contains { $0.code == "detection.no-assembly" })
    }
}
