@testable import Detection
import EventModel
import FastJSON
import Foundation
import Testing

@Suite struct EngineTests {
    let pack = """
    title: role assignment
    id: op-rule
    logsource: {product: azure, service: activitylogs}
    detection:
      selection:
        operationName: Microsoft.Authorization/roleAssignments/write
      condition: selection
    level: high
    tags: [attack.privilege-escalation, attack.t1098.003, attack.g0016]
    vigil:
      entities: {Account: vigil.caller, IP: vigil.callerIp, AzureResource: vigil.resource.id, CloudApplication: properties.appId}
      group_by: [Account, AzureResource]
      group_match: all
      baseline: {area: identity, controls: [PA-7]}
      attack_v19: [T1686.001]
    ---
    title: any activity message
    id: kind-rule
    logsource: {product: azure, service: activitylogs}
    detection:
      selection:
        properties.message|contains: granted
      condition: selection
    ---
    title: sign-in failure
    id: signin-rule
    logsource: {product: azure, service: signinlogs}
    detection:
      selection:
        ResultType: 50126
      condition: selection
    """

    @Test func kindAndOperationIndex() {
        let (set, diags) = T.compile(pack)
        #expect(T.errors(diags).isEmpty, "\(diags)")
        #expect(set.rule(id: "op-rule")?.operations == ["microsoft.authorization/roleassignments/write"])
        #expect(set.rule(id: "kind-rule")?.operations == nil)
        var engine = Engine(rules: set)

        // Activity event with another operation: only the per-kind bucket (1 rule) is evaluated.
        let other = T.event(#"{"properties":{"message":"nothing"}}"#, operation: "Microsoft.Storage/storageAccounts/write")
        #expect(engine.process(other).isEmpty)
        #expect(engine.stats.rulesEvaluated == 1)

        // The matching operation meets both activity rules.
        let hit = T.event(#"{"properties":{"message":"Owner granted","appId":"app-1"},"resourceId":"/x"}"#,
                          operation: "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", caller: "alice@contoso.com", ip: "1.2.3.4")
        let alerts = engine.process(hit)
        #expect(alerts.map(\.ruleId).sorted() == ["kind-rule", "op-rule"])
        #expect(engine.stats.rulesEvaluated == 3)

        // A sign-in event never meets the activity rules.
        let signin = T.event(#"{"ResultType":"0"}"#, kind: .signIn, result: "50126")
        #expect(engine.process(signin).map(\.ruleId) == ["signin-rule"])
        #expect(engine.stats.rulesEvaluated == 4)

        // An unclassified event meets every rule unless configured otherwise.
        let unknown = T.event(#"{"ResultType":"0"}"#, kind: .unknown, result: "50126")
        #expect(engine.process(unknown).map(\.ruleId) == ["signin-rule"])
        #expect(engine.stats.rulesEvaluated == 7)
        var strict = Engine(rules: set, unknownKindMeetsAllRules: false)
        #expect(strict.process(unknown).isEmpty)
        #expect(strict.stats.rulesEvaluated == 0)
    }

    @Test func alertCarriesMetadata() throws {
        let (set, _) = T.compile(pack)
        var engine = Engine(rules: set)
        var hit = T.event(#"{"properties":{"message":"x","appId":"app-1"}}"#,
                          operation: "Microsoft.Authorization/roleAssignments/write", caller: "alice@contoso.com", ip: "1.2.3.4", id: 0xabc)
        hit.resource = ResourceID(raw: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w")
        let a = try #require(engine.process(hit).first)
        #expect(a.id == Alert.makeId(ruleId: "op-rule", eventIds: ["0000000000000abc"]))
        #expect(a.severity == .high)
        #expect(a.tactics == ["privilege-escalation"])
        #expect(a.techniques == ["T1098.003", "T1686.001"])
        #expect(a.entities.map(\.description) == ["Account=alice@contoso.com", "IP=1.2.3.4",
                                                  "AzureResource=/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w",
                                                  "CloudApplication=app-1"])
        #expect(a.groupBy == [.account, .azureResource] && a.groupByAll)
        #expect(a.baselineControls == ["identity", "PA-7"])
        #expect(a.eventIds == ["0000000000000abc"])
        #expect(a.time == EventTime(parsing: "2024-05-01T10:00:00Z"))

        // Evidence is the matched record's own JSON.
        let evidence = try JSONDocument.parse(try #require(a.evidence.first))
        #expect(evidence.root["properties"]?["appId"]?.string == "app-1")
    }

    @Test func defaultEntities() throws {
        let (set, _) = T.compile(T.rule("selection:\n  a: '1'"))
        var engine = Engine(rules: set)
        let a = try #require(engine.process(T.event(#"{"a":"1"}"#, caller: "bob", ip: "9.9.9.9")).first)
        #expect(a.entities.map(\.kind) == [.account, .ip])
    }

    @Test func perShapeFieldMapping() {
        let rule = T.rule("selection:\n  properties.message|contains: hello")
        let (set, _) = T.compile(rule)
        let engine = Engine(rules: set)
        let export = T.event(#"{"properties":{"message":"hello"}}"#, shape: .resourceLogExport)
        let la = T.event(#"{"Properties":"{\"message\":\"hello\"}"}"#, shape: .logAnalytics)
        let laMiss = T.event(#"{"properties":{"message":"bye"},"Properties":"{}"}"#, shape: .logAnalytics)
        #expect(engine.matchingRules(export).count == 1)
        #expect(engine.matchingRules(la).count == 1)
        #expect(engine.matchingRules(laMiss).isEmpty)
    }

    @Test func resourceLogCategoryConstraint() {
        let yaml = """
        title: aml compute
        id: c1
        logsource: {product: azure, service: resourcelogs, category: AmlComputeClusterEvent}
        detection:
          s: {operationName|contains: compute}
          condition: s
        """
        let (set, diags) = T.compile(yaml)
        #expect(T.errors(diags).isEmpty)
        let engine = Engine(rules: set)
        let good = T.event(#"{"operationName":"compute/create"}"#, kind: .resourceLog, category: "AmlComputeClusterEvent")
        let bad = T.event(#"{"operationName":"compute/create"}"#, kind: .resourceLog, category: "AmlRunStatusChangedEvent")
        #expect(engine.matchingRules(good).count == 1)
        #expect(engine.matchingRules(bad).isEmpty)
    }

    @Test func metaFilterAppliesToNamedRules() {
        let yaml = pack + """

        ---
        title: allow break-glass admin
        id: f1
        logsource: {product: azure, service: activitylogs}
        filter:
          rules: [op-rule]
          allowed:
            Caller|endswith: '@breakglass.contoso.com'
          condition: not allowed
        """
        let (set, diags) = T.compile(yaml)
        #expect(T.errors(diags).isEmpty, "\(diags)")
        #expect(set.rule(id: "op-rule")?.filters == ["f1"])
        let engine = Engine(rules: set)
        let op = "Microsoft.Authorization/roleAssignments/write"
        let normal = T.event(#"{"properties":{"message":"x"}}"#, operation: op, caller: "alice@contoso.com")
        let glass = T.event(#"{"properties":{"message":"x"}}"#, operation: op, caller: "root@BreakGlass.contoso.com")
        #expect(engine.matchingRules(normal).map { set.rules[$0].id } == ["op-rule"])
        #expect(engine.matchingRules(glass).isEmpty)
    }

    @Test func filterWithUnknownTargetWarns() {
        let yaml = "title: f\nid: f\nlogsource: {product: azure}\nfilter:\n  rules: [nothing]\n  s: {a: b}\n  condition: not s\n"
        #expect(T.compile(yaml).1.contains { $0.code == "rule.filter-unknown-target" && $0.level == .warning && $0.location.line == 5 })
    }

    @Test func equalityGroupAgreesWithSingleTests() {
        // Five rules with literals on one field share an equality group; results equal per-rule tests.
        var yaml = ""
        for (i, v) in ["alpha", "beta", "gamma", "delta", "Beta"].enumerated() {
            yaml += (i > 0 ? "---\n" : "") + "title: g\(i)\nid: g\(i)\nlogsource: {product: azure, service: activitylogs}\ndetection:\n  s: {f: \(v)}\n  condition: s\n"
        }
        let (set, _) = T.compile(yaml)
        #expect(set.groups.count == 1)
        let engine = Engine(rules: set)
        #expect(engine.matchingRules(T.event(#"{"f":"BETA"}"#)).map { set.rules[$0].id } == ["g1", "g4"])
        #expect(engine.matchingRules(T.event(#"{"f":["x","gamma"]}"#)).map { set.rules[$0].id } == ["g2"])
        #expect(engine.matchingRules(T.event(#"{"f":"epsilon"}"#)).isEmpty)
    }

    @Test func multiDocumentGlobalAction() {
        let yaml = """
        action: global
        title: shared
        logsource: {product: azure, service: activitylogs}
        detection:
          base: {category: Administrative}
          condition: base and s
        ---
        id: m1
        detection:
          s: {a: '1'}
        ---
        id: m2
        detection:
          s: {a: '2'}
        """
        let (set, diags) = T.compile(yaml)
        #expect(T.errors(diags).isEmpty, "\(diags)")
        #expect(set.rules.map(\.id) == ["m1", "m2"])
        let engine = Engine(rules: set)
        #expect(engine.matchingRules(T.event(#"{"category":"administrative","a":"2"}"#)).map { set.rules[$0].id } == ["m2"])
    }

    @Test func explainShowsThePlan() {
        let (set, _) = T.compile(pack)
        let text = set.explain(set.rule(id: "op-rule")!)
        #expect(text.contains("operation ∈ {microsoft.authorization/roleassignments/write}"))
        #expect(text.contains("vigil.operationName"))
        #expect(text.contains("equals 'microsoft.authorization/roleassignments/write'"))
    }

    @Test func ruleTestRunnerUsesTheNormaliser() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try T.rule("selection:\n  properties.message|contains: owner").write(to: dir.appendingPathComponent("r.yml"), atomically: true, encoding: .utf8)
        try """
        match:
          - name: owner
            event: {properties: {message: Owner granted}}
        no_match:
          - name: reader
            event: '{"properties":{"message":"Reader"}}'
          - name: wrongly expected
            event: {properties: {message: owner}}
        """.write(to: dir.appendingPathComponent("r.tests.yml"), atomically: true, encoding: .utf8)
        let (results, diags) = RuleTestRunner.run(paths: [dir.path], fieldMap: T.fieldMap) { doc, pos in
            Event(kind: .activity, shape: .resourceLogExport, record: doc, position: pos, id: 1)
        }
        #expect(diags.filter { $0.level == .error }.isEmpty, "\(diags)")
        #expect(results.map(\.passed) == [true, true, false])
        #expect(results[2].detail?.contains("expected no match") == true)
    }

    /// An alert's description is the rule's first paragraph on one line, then what the event says
    /// happened: a YAML block description wraps its sentences across lines.
    @Test func alertDescriptionsAreTheFirstParagraphAndTheEvent() {
        #expect(Engine.firstParagraph("A role assignment grants Owner to\n  a foreign principal.\n\nMore detail.\n")
                == "A role assignment grants Owner to a foreign principal.")
        #expect(Engine.firstParagraph("\n\n  \tIndented first line \t\nsecond") == "Indented first line second")
        #expect(Engine.firstParagraph("Windows line\r\nnext") == "Windows line next")
        #expect(Engine.firstParagraph("Ünïcode — first") == "Ünïcode — first")
        #expect(Engine.firstParagraph("") == "")
        var e = T.event(#"{"operationName":"x"}"#, operation: "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE",
                        caller: "mallory@contoso.example", ip: "203.0.113.45", result: "Succeeded")
        e.resource = ResourceID(raw: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1")
        #expect(Engine.alertDescription("An NSG rule allows RDP.", e)
                == "An NSG rule allows RDP. Event: MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE by mallory@contoso.example "
                + "on /subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1 from 203.0.113.45 (Succeeded).")
        #expect(Engine.alertDescription(nil, T.event("{}")) == nil)
    }
}
