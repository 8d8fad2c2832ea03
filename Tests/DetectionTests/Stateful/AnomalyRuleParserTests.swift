import TestSupport
import Detection
import EventModel
import Testing

@Suite struct AnomalyRuleParserTests {
    @Test func shippedRulesParseCleanlyAndCoverTheirDetections() throws {
        let rules = try Fixture.anomalyRules()
        #expect(rules.count >= 12)
        #expect(Set(rules.map(\.kind)) == Set(AnomalyRule.Kind.allCases))
        let controls = Set(rules.flatMap(\.baselineControls))
        for d in ["D1", "D3", "D4", "D5", "D6", "D9", "D22", "D23"] { #expect(controls.contains(d), "no anomaly rule covers \(d)") }
        #expect(Set(rules.map(\.id)).count == rules.count)
        for rule in rules {
            #expect(!rule.techniques.isEmpty, "\(rule.id) has no ATT&CK technique")
            #expect(rule.learningDays == 14)
        }
        let pull = try Fixture.rule("vigil-aml-first-credential-pull")
        #expect(pull.kind == .firstSensitiveOperation)
        #expect(pull.scope == .workspace)
        #expect(pull.operations.contains("microsoft.machinelearningservices/workspaces/datastores/listsecrets/action"))
        #expect(pull.level == .high)
        #expect(pull.tactics == ["credential-access"])
        #expect(pull.techniques == ["T1555.006", "T1552"])
        #expect(pull.entities.map(\.kind) == [.account, .ip, .azureResource])
        let spike = try Fixture.rule("vigil-aml-data-plane-read-spike")
        #expect(spike.eventKinds == [.resourceLog])
        #expect(spike.thresholds.factor == 3 && spike.thresholds.minimum == 50)
        #expect(try Fixture.rule("vigil-rbac-first-role-grant-by-identity").scope == .path("vigil.resource.subscription"))
    }

    @Test func errorsAndWarningsPointAtTheirPlace() {
        let text = """
        vigil_rule: anomaly
        id: broken
        title: Broken rule
        level: severe
        colour: blue
        anomaly:
          kind: first_sighting
          learning_days: many
          threshold: {factor: 0.5}
        vigil:
          entities: {Acount: vigil.caller}

        """
        let result = AnomalyRuleParser.parse(text, file: "detections/anomaly/broken.yml")
        #expect(result.rules.isEmpty)
        #expect(result.hasErrors)
        func find(_ code: String) -> Diagnostic? { result.diagnostics.first { $0.code == code } }
        #expect(find("rule.unknown-key")?.location.line == 5)
        #expect(find("rule.unknown-key")?.level == .warning)
        #expect(find("rule.unknown-anomaly-kind")?.description.hasPrefix("detections/anomaly/broken.yml:7:9: error[rule.unknown-anomaly-kind]") == true)
        let bad = result.diagnostics.filter { $0.code == "rule.bad-value" }.compactMap(\.location.line)
        #expect(bad == [4, 8, 9])
        #expect(find("rule.unknown-entity")?.location.line == 11)
    }

    @Test func missingPiecesAreReported() {
        let text = """
        vigil_rule: anomaly
        title: No id
        anomaly:
          kind: first_sensitive_operation
        """
        let result = AnomalyRuleParser.parse(text, file: "x.yml")
        #expect(result.rules.isEmpty)
        let messages = result.diagnostics.map(\.message)
        #expect(messages.contains("rule needs 'id'"))
        #expect(messages.contains("first_sensitive_operation needs 'operations'"))
        #expect(result.diagnostics.allSatisfy { $0.location.line != nil })
    }

    @Test func invalidYAMLIsLocatedAndSigmaDocumentsAreSkipped() {
        let broken = AnomalyRuleParser.parse("vigil_rule: anomaly\nid: [unclosed\n", file: "y.yml")
        #expect(broken.diagnostics.count == 1)
        #expect(broken.diagnostics[0].code == "rule.yaml")
        #expect(broken.diagnostics[0].location.line != nil)
        let sigma = "title: A Sigma rule\nlogsource: {product: azure}\ndetection: {sel: {a: 1}, condition: sel}\n"
        #expect(AnomalyRuleParser.parse(sigma, file: "s.yml").rules.isEmpty)
        #expect(AnomalyRuleParser.parse(sigma, file: "s.yml").diagnostics.isEmpty)
        #expect(!AnomalyRuleParser.isAnomalyRule(sigma))
        #expect(AnomalyRuleParser.isAnomalyRule("id: x\nvigil_rule: anomaly\n"))
    }

    @Test func ipRanges() {
        #expect(IPRange.of("203.0.113.45") == "203.0.113.0/24")
        #expect(IPRange.of("203.0.113.45", ipv4Prefix: 16) == "203.0.0.0/16")
        #expect(IPRange.of("2001:db8:1:2::5") == "2001:db8:1::/48")
        #expect(IPRange.of("[2001:DB8:abcd:12:1::1]") == "2001:db8:abcd::/48")
        #expect(IPRange.of("::ffff:198.18.7.9") == "198.18.7.0/24")
        #expect(IPRange.of("::1", ipv6Prefix: 128) == "0:0:0:0:0:0:0:1/128")
        #expect(IPRange.of("not an ip") == nil)
        #expect(IPRange.of("1.2.3") == nil)
        #expect(IPRange.of("1:2:3::4::5") == nil)
    }
}
