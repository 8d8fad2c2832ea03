@testable import Detection
import EventModel
import Foundation
import TestSupport
import Testing

/// The anomaly hot path's shortcuts give the answers of the plain code they replaced.
@Suite struct AnomalyHotPathTests {
    // MARK: IP ranges

    /// The general parser, as it was before the byte-level fast paths (the oracle).
    static func oracleRange(_ address: String, _ v4: Int, _ v6: Int) -> String? {
        var text = Substring(address)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { text = text[text.index(after: text.startIndex)..<close] }
        if let pct = text.firstIndex(of: "%") { text = text[..<pct] }
        if let a = IPRange.ipv4(text) { return IPRange.format4(a, v4) }
        guard let g = IPRange.ipv6(text) else { return nil }
        if g[0..<5].allSatisfy({ $0 == 0 }), g[5] == 0xFFFF { return IPRange.format4(UInt32(g[6]) << 16 | UInt32(g[7]), v4) }
        return IPRange.format6(g, v6)
    }

    @Test func fastIPParsingAgreesWithTheGeneralParser() {
        var rng = SplitMix64(seed: 42)
        let alphabet = Array("0123456789abcdefABCDEF:.")
        var inputs = ["203.0.113.7", "2001:db8:1:2::5", "::", "::1", "1::", "::ffff:203.0.113.7", "::FFFF:1.2.3.4",
                      "2001:db8::1.2.3.4", "1.2.3.4::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::",
                      "1::2::3", ":::", ":1::2", "1::2:", "1:", ":", "12345::1", "0:0:0:0:0:ffff:a00:1",
                      "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "[2001:db8::1]", "2001:db8::1%eth0",
                      "[2001:db8::1]:443", "+1::2", "1.2.3", "01.02.03.004", "256.1.1.1", "1.2.3.4.5", "", "a.b.c.d",
                      "fe80::1:2.3.4.5:6", "1::2.3.4.5", "1:2.3.4.5::"]
        for _ in 0..<5_000 {
            let n = Int(rng.next() % 16) + 1
            inputs.append(String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }))
            // Mostly-valid shapes too, so both sides parse something.
            let groups = (0..<Int(rng.next() % 9)).map { _ in String(rng.next() % 0x10000, radix: 16) }
            let cut = Int(rng.next() % UInt64(groups.count + 1))
            inputs.append(rng.next() % 2 == 0 ? groups.joined(separator: ":")
                : groups[..<cut].joined(separator: ":") + "::" + groups[cut...].joined(separator: ":"))
        }
        var mismatches: [String] = []
        for input in inputs {
            for (v4, v6) in [(24, 48), (16, 64), (32, 128), (0, 0), (20, 52)] {
                let fast = IPRange.of(input, ipv4Prefix: v4, ipv6Prefix: v6)
                if fast != Self.oracleRange(input, v4, v6) { mismatches.append("\(input) /\(v4) /\(v6): \(fast ?? "nil")") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
        #expect(IPRange.of("2001:db8:1:2::5") == "2001:db8:1::/48")
        #expect(IPRange.of("::ffff:203.0.113.7") == "203.0.113.0/24")
    }

    // MARK: rule selection

    /// `copies` 6: more than 64 rules, so the selection keeps its full bit sets.
    @Test(arguments: [1, 6])
    func selectorAgreesWithEachRulesOwnMatch(copies: Int) throws {
        let rules = Array(repeating: try Fixture.anomalyRules(), count: copies).flatMap { $0 }
        let spaces = Space.group(rules)
        let compiled = spaces.flatMap(\.rules).sorted { $0.index < $1.index }
        var selector = AnomalyRuleSelector(rules: compiled, spaces: spaces)
        var operationIds = Interner()
        let ops = ["Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action",
                   "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action",
                   "Microsoft.Authorization/roleAssignments/write", "Microsoft.Storage/storageAccounts/write",
                   "Microsoft.MachineLearningServices/workspaces/delete"]
        var events: [Event] = []
        for (i, op) in ops.enumerated() {
            events.append(Fixture.operation(time: Fixture.at(day: 0), operation: op, serial: i))
            events.append(Fixture.activity(time: Fixture.at(day: 0), operation: op, result: "Start"))
        }
        for category in ["DataStoreReadEvent", "amlmodelsevent", "AmlComputeClusterEvent"] {
            events.append(Fixture.dataPlane(time: Fixture.at(day: 0), category: category))
        }
        var selected = 0
        for event in events {
            // Twice: the second answer comes from the caches.
            for _ in 0..<2 {
                let selection = selector.select(event, operationIds: &operationIds)
                for rule in compiled {
                    #expect(selection.selects(rule) == rule.matches(event, category: event.category?.lowercased()), "\(rule.rule.id)")
                    if selection.selects(rule) { selected += 1 }
                }
                #expect(selection.operationId.map(operationIds.key) == event.operation)
                for space in spaces {
                    #expect(selection.keepsOperation(space) == (event.operation.map { space.watchedOperations.matches($0) } ?? false))
                }
            }
        }
        #expect(selected > 0)
    }

    // MARK: wants

    @Test func wantsWhatSomeBaselineLearnsFrom() throws {
        let detector = AnomalyDetector(rules: try Fixture.anomalyRules(), store: InMemoryBaselineStore())
        let op = Fixture.operation(time: Fixture.at(day: 0), operation: "Microsoft.MachineLearningServices/workspaces/read")
        #expect(detector.wants(op))
        #expect(detector.wants(Fixture.dataPlane(time: Fixture.at(day: 0))))
        // Raw Activity records are left to their assembled operation.
        #expect(!detector.wants(Fixture.activity(time: Fixture.at(day: 0), operation: "Microsoft.MachineLearningServices/workspaces/read",
                                                 result: "Start")))
        // No caller: no subject, nothing to learn.
        let nobody = Fixture.event(#"{"time":"2025-03-03T10:00:00Z","resourceId":"\#(Fixture.workspaceId)","category":"DataStoreReadEvent","operationName":"Microsoft.MachineLearningServices/workspaces/datastores/read","resultType":"Succeeded"}"#)
        #expect(nobody.caller == nil)
        #expect(!detector.wants(nobody))
        // Outside any workspace, an operation still feeds the global and subscription baselines.
        let storage = Fixture.operation(time: Fixture.at(day: 0), operation: "Microsoft.Storage/storageAccounts/write",
                                        resource: "/subscriptions/\(Fixture.subscription)/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1")
        #expect(detector.wants(storage))
        // Only workspace-scoped rules: the same storage operation is not wanted.
        let workspaceOnly = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: InMemoryBaselineStore())
        #expect(!workspaceOnly.wants(storage))
        #expect(workspaceOnly.wants(op))
        // An event it does not want leaves it unchanged: nothing learned, nothing stored.
        _ = workspaceOnly.process(storage)
        #expect(workspaceOnly.stats.eventsLearned == 0)
        _ = workspaceOnly.process(op)
        #expect(workspaceOnly.stats.eventsLearned == 1)
        // No rules, nothing wanted.
        #expect(!AnomalyDetector(rules: [], store: InMemoryBaselineStore()).wants(op))
    }

    // MARK: bounds

    /// Past the interner bound (2 × (profiles + scopes) distinct keys), everything is written back
    /// and dropped, and the baselines read back from the store give the same alerts.
    @Test func startingOverKeepsTheBaselines() throws {
        let rules = [try Fixture.rule("vigil-aml-first-access-to-workspace")]
        var events: [Event] = []
        for day in 0..<16 {
            for i in 0..<30 where i < 20 || day == 15 {
                events.append(Fixture.dataPlane(time: Fixture.at(day: day, hour: 9, minute: i), caller: "user\(i)@contoso.example",
                                                serial: day * 100 + i))
            }
        }
        func run(_ configuration: AnomalyDetector.Configuration) -> ([String], InMemoryBaselineStore, AnomalyDetector) {
            let store = InMemoryBaselineStore()
            let detector = AnomalyDetector(rules: rules, store: store, configuration: configuration)
            let alerts = events.flatMap { detector.process($0) }
            _ = detector.finish()
            return (alerts.map { $0.description ?? "" }, store, detector)
        }
        let (roomy, roomyStore, _) = run(.init())
        let (tight, tightStore, detector) = run(.init(maxProfiles: 4, maxScopes: 2))
        #expect(roomy.count == 10)
        #expect(tight == roomy)
        #expect(detector.stats.profileEvictions > 0)
        #expect(detector.stats.profilesInMemory <= 13)
        #expect(try tightStore.baselineKeys(namespace: AnomalyDetector.profileNamespace).count == 30)
        for key in try roomyStore.baselineKeys(namespace: AnomalyDetector.profileNamespace) {
            let a = try roomyStore.baselineValue(namespace: AnomalyDetector.profileNamespace, key: key).flatMap(AccessProfile.decode)
            let b = try tightStore.baselineValue(namespace: AnomalyDetector.profileNamespace, key: key).flatMap(AccessProfile.decode)
            #expect(a != nil && a == b, "\(key)")
        }
    }
}
