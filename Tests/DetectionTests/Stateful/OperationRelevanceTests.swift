@testable import Detection
import EventModel
import FastJSON
import StateStore
import Testing

/// Only operations some consumer can use are assembled (StatefulStages, `relevantOperations`): the
/// lifecycles of the others are neither buffered nor assembled, and the alerts are the same.
@Suite struct OperationRelevanceTests {
    static let fieldMap = FieldMap.parse("""
    logsources:
      - name: activitylogs-operation
        product: azure
        service: activitylogs
        category: operation
        kinds: [operation]
        fields:
          operationName: vigil.operationName
          status: vigil.result
          Caller: vigil.caller
    """, file: "fieldmap.yml").0

    static let storageWrite = "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE"
    static let computeWrite = "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/WRITE"

    static func rule(id: String, selection: String) -> String {
        """
        title: t \(id)
        id: \(id)
        logsource: {product: azure, service: activitylogs, category: operation}
        detection:
          selection:
        \(selection.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
          condition: selection
        level: high
        """
    }

    static func engine(_ rules: [String]) -> Engine {
        let (parsed, d1) = RuleLoader.parse(text: rules.joined(separator: "\n---\n"), file: "rules.yml", placeholders: [:])
        let (compiled, d2) = Compiler.compile(RuleSet(rules: parsed), fieldMap: fieldMap)
        precondition(compiled.rules.count == rules.count, "rules did not compile: \(d1 + d2)")
        return Engine(rules: compiled)
    }

    /// Two lifecycles per operation (Start + Success, and a lone Success), spread over an hour so
    /// that timeouts and pending finals are exercised too.
    static func records() -> [Event] {
        var out: [Event] = []
        var line = 0
        for (i, op) in [storageWrite, computeWrite].enumerated() {
            for k in 0..<2 {
                let corr = "c0ffee00-0000-4000-8000-0000000000\(i)\(k)"
                let minute = 10 * k + i
                line += 1
                if k == 0 {
                    out.append(Fixture.activity(time: Fixture.at(day: 0, hour: 9, minute: minute), operation: op, result: "Start",
                                                correlationId: corr, line: line))
                    line += 1
                }
                out.append(Fixture.activity(time: Fixture.at(day: 0, hour: 9, minute: minute + 1), operation: op, result: "Success",
                                            correlationId: corr, line: line))
            }
        }
        // A later record of neither operation moves event time past every timeout.
        out.append(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 11), serial: 99))
        return out
    }

    /// Runs the records the way DetectionStage does; `unfiltered` assembles every operation.
    static func run(_ stages: inout StatefulStages, unfiltered: Bool = false) -> (alerts: [String], buffered: Int) {
        if unfiltered { stages.assembler.operations = nil }
        var alerts: [Alert] = []
        var buffered = 0
        for e in records() {
            alerts += stages.take(e, held: { _ in buffered += 1 })
        }
        alerts += stages.finish()
        return (alerts.map(\.id).sorted(), buffered)
    }

    @Test func theRelevantOperationsAreThoseTheRulesName() {
        let named = Self.engine([Self.rule(id: "r1", selection: "operationName: \(Self.storageWrite)\nstatus: Succeeded")])
        #expect(StatefulStages.relevantOperations(engine: named) == [Self.storageWrite.lowercased()])
        // A rule that names no operation meets every assembled operation.
        let any = Self.engine([Self.rule(id: "r2", selection: "status: Failed")])
        #expect(StatefulStages.relevantOperations(engine: any) == nil)
        #expect(StatefulStages.relevantOperations(engine: nil) == [])
    }

    @Test func aLifecycleNoRuleCanUseIsNotAssembled() {
        let engine = Self.engine([Self.rule(id: "r1", selection: "operationName: \(Self.storageWrite)\nstatus: Succeeded")])
        var filtered = StatefulStages(anomaly: nil, engine: engine)
        #expect(filtered.assemblesOperations && filtered.assembler.operations == [Self.storageWrite.lowercased()])
        let f = Self.run(&filtered)
        var all = StatefulStages(anomaly: nil, engine: engine)
        let u = Self.run(&all, unfiltered: true)
        // The storage lifecycles are assembled (both succeed: two alerts); the compute ones are not even buffered.
        #expect(filtered.operationsAssembled == 2)
        #expect(all.operationsAssembled == 4)
        #expect(f.buffered == 3 && u.buffered == 6)
        #expect(f.alerts.count == 2)
        #expect(f.alerts == u.alerts)
    }

    @Test func withoutAnOperationRuleNothingIsAssembled() {
        var stages = StatefulStages(anomaly: nil, engine: Engine(rules: T.compile(T.rule("operationName: x")).0))
        #expect(!stages.assemblesOperations && !stages.isActive)
        let wanted = Self.records().filter { stages.wants($0) }
        #expect(wanted.isEmpty)
    }

    /// Anomaly rules on operations see every operation once, as its first record, and do not make
    /// the assembler take operations no Sigma rule names.
    @Test func anAnomalyRuleOnOperationsSeesEveryOperationOnceWithoutAssembly() throws {
        let engine = Self.engine([Self.rule(id: "r1", selection: "operationName: \(Self.storageWrite)\nstatus: Succeeded")])
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
        var stages = StatefulStages(anomaly: detector, engine: engine)
        #expect(stages.assembler.operations == [Self.storageWrite.lowercased()])
        let r = Self.run(&stages)
        #expect(stages.operationsAssembled == 2)
        #expect(r.alerts.count == 2)
        // Four lifecycles (six records): four operations learned, each once, and the data-plane read.
        #expect(stages.operationOnce.stats.records == 6)
        #expect(stages.operationOnce.stats.operations == 4)
        #expect(detector.stats.eventsLearned == 5)
    }
}
