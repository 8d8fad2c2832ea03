@testable import Detection
import EventModel
import FastJSON
import StateStore
import TestSupport
import Testing

/// Events the stateful path holds only for the baselines are held without their record: only
/// when no anomaly rule can alert on them (`AnomalyDetector.mayAlert`), so every alert still
/// carries its evidence.
@Suite struct HeldWithoutRecordTests {
    static let listSecrets = "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action"
    static let roleWrite = "Microsoft.Authorization/roleAssignments/write"

    @Test func droppingTheRecordKeepsEveryTypedField() throws {
        let event = Fixture.activity(time: Fixture.at(day: 1), operation: Self.listSecrets, result: "Success", ip: "198.18.7.5")
        let held = event.droppingRecord()
        #expect(!held.hasRecord && event.hasRecord)
        for field in TypedField.allCases {
            #expect(held.typedValue(field)?.text == event.typedValue(field)?.text, "\(field)")
        }
        #expect(held.id == event.id && held.kind == event.kind && held.time == event.time && held.position == event.position)
        #expect(held.record.root.type == .object && held.record.root.count == 0)
        // The original keeps its record.
        #expect(event.record.root["resultType"]?.string == "Success")
    }

    /// Each rule kind: what a baseline in memory rules out, and what it cannot.
    @Test func aBaselineRulesOutOnlyWhatCannotChangeAgain() throws {
        let history = AnomalyDetectorTests.history()
        func trained(_ id: String, mode: AnomalyDetector.Mode = .detect) throws -> AnomalyDetector {
            let detector = AnomalyDetector(rules: [try Fixture.rule(id)], store: InMemoryBaselineStore(), mode: mode)
            for e in history { _ = detector.process(e) }
            return detector
        }
        let usual = Fixture.dataPlane(time: Fixture.at(day: 20, hour: 10), serial: 900)
        let sundayNight = Fixture.dataPlane(time: Fixture.at(day: 20, hour: 3), serial: 901)
        let fromNewRange = Fixture.dataPlane(time: Fixture.at(day: 20, hour: 10), ip: "198.18.7.20", serial: 902)
        let newcomer = Fixture.dataPlane(time: Fixture.at(day: 20, hour: 10), caller: "bob@contoso.example", serial: 903)

        let firstAccess = try trained("vigil-aml-first-access-to-workspace")
        #expect(!firstAccess.mayAlert(on: usual) && !firstAccess.mayAlert(on: fromNewRange))
        #expect(firstAccess.mayAlert(on: newcomer))

        let newRange = try trained("vigil-aml-access-from-new-ip-range")
        #expect(!newRange.mayAlert(on: usual))
        #expect(newRange.mayAlert(on: fromNewRange) && newRange.mayAlert(on: newcomer))

        // max_share 0: activity near the hour settles it; none near does not.
        let unusualHour = try trained("vigil-aml-access-at-unusual-hour")
        #expect(!unusualHour.mayAlert(on: usual))
        #expect(unusualHour.mayAlert(on: sundayNight))

        let credentialPull = try trained("vigil-aml-first-credential-pull")
        let pull = Fixture.operation(time: Fixture.at(day: 20, hour: 10), operation: Self.listSecrets, serial: 1)
        #expect(credentialPull.mayAlert(on: pull))
        _ = credentialPull.process(pull)
        #expect(!credentialPull.mayAlert(on: Fixture.operation(time: Fixture.at(day: 20, hour: 11), operation: Self.listSecrets, serial: 2)))
        // No rule selects a data-plane read: nothing to alert on, whatever the baseline.
        #expect(!credentialPull.mayAlert(on: newcomer))

        // A volume spike depends on today's count: never ruled out while a rule selects the event.
        let spike = try trained("vigil-aml-data-plane-read-spike")
        #expect(spike.mayAlert(on: usual))

        // Learning only: no alert at all.
        #expect(!(try trained("vigil-aml-first-access-to-workspace", mode: .learnOnly)).mayAlert(on: newcomer))
    }

    /// Should an event held without its record alert after all, the alert is raised, without
    /// evidence, and counted.
    @Test func anAlertOnAnEventWithoutItsRecordIsStillRaised() throws {
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
        for e in AnomalyDetectorTests.history() { _ = detector.process(e) }
        let bob = Fixture.dataPlane(time: Fixture.at(day: 20, hour: 12), caller: "bob@contoso.example", ip: "198.51.100.7", serial: 501)
        let alerts = detector.process(bob.droppingRecord())
        try #require(alerts.count == 1)
        #expect(alerts[0].evidence.isEmpty && alerts[0].eventIds == [bob.idString])
        #expect(alerts[0].entities.contains(Entity(kind: .account, value: "bob@contoso.example")))
        #expect(detector.stats.alertsWithoutRecord == 1)
    }

    /// A month of mixed activity (a few identities, ranges, hours and sensitive operations, with
    /// lifecycle records), pushed in time order and shuffled within the lateness, through the
    /// whole pack: routine events are held without their record, every alert has its evidence,
    /// and both orders give the same alerts.
    @Test(arguments: [UInt64(7), 11])
    func everyAlertKeepsItsEvidenceWhateverTheOrder(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let callers = ["alice@contoso.example", "bob@contoso.example", "carol@contoso.example"]
        let operations = [Self.listSecrets, Self.roleWrite, "Microsoft.MachineLearningServices/workspaces/computes/listKeys/action",
                          "Microsoft.MachineLearningServices/workspaces/write"]
        var events: [Event] = []
        for day in 0..<30 {
            for n in 0..<24 {
                let hour = Int(rng.next() % 10) + (rng.next() % 40 == 0 ? 0 : 8)
                let time = Fixture.at(day: day, hour: hour, minute: Int(rng.next() % 60), second: n)
                let caller = callers[Int(rng.next() % UInt64(callers.count))]
                let ip = "203.0.\(113 + Int(rng.next() % (day > 20 ? 6 : 2))).\(n)"
                let serial = day * 100 + n
                let pick = rng.next() % 6
                if pick == 0 {
                    let op = operations[Int(rng.next() % UInt64(operations.count))]
                    let corr = "c0ffee00-0000-4000-8000-\(String(serial, radix: 10).leftPadded(to: 12))"
                    events.append(Fixture.activity(time: time, operation: op, result: "Start", correlationId: corr, caller: caller, ip: ip,
                                                   line: serial * 2))
                    events.append(Fixture.activity(time: time.adding(seconds: 2), operation: op, result: "Success", correlationId: corr,
                                                   caller: caller, ip: ip, line: serial * 2 + 1))
                } else if pick < 4 {
                    events.append(Fixture.activity(time: time, operation: "Microsoft.MachineLearningServices/workspaces/read", result: "Success",
                                                   correlationId: "c0ffee01-0000-4000-8000-\(String(serial, radix: 10).leftPadded(to: 12))",
                                                   caller: caller, ip: ip, line: serial * 2))
                } else {
                    // Data-plane reads are counted by a volume rule: those keep their record.
                    events.append(Fixture.dataPlane(time: time, caller: caller, ip: ip, serial: serial))
                }
            }
        }
        events.sort { $0.time! < $1.time! }
        func run(_ arrival: [Event]) throws -> (alerts: [Alert], held: Int, withoutRecord: Int) {
            let detector = AnomalyDetector(rules: try Fixture.anomalyRules(), store: InMemoryBaselineStore())
            var stages = StatefulStages(buffer: EventTimeBuffer(latenessSeconds: 900), anomaly: detector)
            var alerts: [Alert] = []
            for e in arrival { alerts += stages.take(e) }
            alerts += stages.finish()
            return (alerts, stages.heldWithoutRecord, detector.stats.alertsWithoutRecord)
        }
        // Shuffled within the lateness: each event arrives up to 14 minutes after its place.
        let shuffled = events.enumerated().map { ($0.element, $0.element.time!.nanoseconds + Int64(rng.next() % 840) * 1_000_000_000) }
            .sorted { $0.1 < $1.1 }.map(\.0)
        let inOrder = try run(events)
        let reordered = try run(shuffled)
        #expect(!inOrder.alerts.isEmpty)
        #expect(inOrder.held > events.count / 3, "held without record: \(inOrder.held) of \(events.count)")
        #expect(inOrder.withoutRecord == 0 && reordered.withoutRecord == 0)
        #expect(inOrder.alerts.allSatisfy { $0.evidence.count == 1 })
        #expect(inOrder.alerts.map(\.id).sorted() == reordered.alerts.map(\.id).sorted())
        #expect(inOrder.alerts.map { $0.description ?? "" }.sorted() == reordered.alerts.map { $0.description ?? "" }.sorted())
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
