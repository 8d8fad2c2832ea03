@testable import Detection
import EventDecoding
import EventModel
import Foundation
import TestSupport
import Testing

/// The corpus's SigmaHQ Azure rules evaluated (not just compiled) on the corpus's Entra records,
/// through the reader, the normaliser and detections/fieldmap.yml: the fixtures Panther labels as
/// the behaviour a SigmaHQ rule describes raise that rule, and the Log Analytics CSV rows meet the
/// sign-in rules by their success / authentication fields. Skips without ../shared/corpus.
@Suite struct AzureCorpusMatchTests {
    struct Collector: EventConsumer {
        var events: [Event] = []
        mutating func event(_ event: Event) throws { events.append(event) }
        mutating func diagnostic(_ diagnostic: Diagnostic) {}
    }

    static func events(_ relative: String) throws -> [Event]? {
        guard let url = Corpus.file(relative), let data = FileManager.default.contents(atPath: url.path) else { return nil }
        var reader = RecordReader(options: ReaderOptions(normalizer: Normalizer()))
        var c = Collector()
        try reader.read(bytes: Array(data), name: relative, into: &c)
        return c.events
    }

    /// Compiles the corpus's SigmaHQ rules (rules/ and rules-threat-hunting/, as published).
    static func rules() -> CompiledRuleSet? {
        guard let root = Corpus.file("rules/sigma") else { return nil }
        let paths = ["rules", "rules-threat-hunting"].map { root.appendingPathComponent($0).path }
        let map = FieldMap.load(path: PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path).0
        let (set, _) = RuleLoader.load(paths: paths)
        return Compiler.compile(set, fieldMap: map).0
    }

    /// Rule file name (without .yml) → the record lines it fires on.
    static func matches(_ set: CompiledRuleSet, _ events: [Event]) -> [String: Set<Int>] {
        let files = Dictionary(set.rules.map { ($0.id, (($0.location.file as NSString).lastPathComponent as NSString).deletingPathExtension) },
                               uniquingKeysWith: { a, _ in a })
        var engine = Engine(rules: set)
        var out: [String: Set<Int>] = [:]
        for e in events {
            for a in engine.process(e) { out[files[a.ruleId] ?? a.ruleId, default: []].insert(e.position.line ?? 0) }
        }
        return out
    }

    /// Every corpus rule finds its log source in the field map, and the only field names no shape
    /// has are the two SigmaHQ wrote by mistake (`Target`, `ActivityDetails`).
    @Test func corpusRulesResolveTheirLogSourcesAndFields() throws {
        guard let root = Corpus.file("rules/sigma") else {
            print(Corpus.skipReason)
            return
        }
        let map = FieldMap.load(path: PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path).0
        let (set, d1) = RuleLoader.load(paths: [root.path])
        let (_, d2) = Compiler.compile(set, fieldMap: map)
        let warnings = (d1 + d2).filter { $0.level == .warning }
        #expect(!warnings.contains { $0.code == "rule.unknown-logsource" })
        let unknown = warnings.filter { $0.code == "rule.unknown-field" }.map(\.message)
        #expect(unknown.count == 2 && unknown.contains { $0.contains("'Target'") } && unknown.contains { $0.contains("'ActivityDetails'") }, "\(unknown)")
    }

    @Test func pantherEntraFixturesRaiseTheMatchingSigmaHQRules() throws {
        guard let set = Self.rules(), let events = try Self.events("signin/panther/azure_audit.records.jsonl") else {
            print(Corpus.skipReason)
            return
        }
        let m = Self.matches(set, events)
        // Panther: "Set Federation Settings" (line 1, true) vs "Different Values Changed" (2, false).
        #expect(m["azure_federation_modified"] == [1])
        // "Unsuccessful invite" (9) is the only failed invitation; the successful ones (7, 8) are not.
        #expect(m["azure_guest_invite_failure"] == [9])
        // Conditional Access policy deleted (19) / updated (14, 15).
        #expect(m["azure_aad_secops_ca_policy_removedby_bad_actor"] == [19])
        #expect(m["azure_aad_secops_ca_policy_updatedby_bad_actor"] == [14, 15])
        // "Create Service Principal" (31), not "Add Service Principal Credentials" (30).
        #expect(m["azure_service_principal_created"] == [31])
        // The two legacy-auth sign-ins (BAV2ROPC user agent, error code 0: `Status: Success`).
        #expect(m["azure_ad_suspicious_signin_bypassing_mfa"] == [12, 13])
        // Export sign-ins with `networkLocationDetails: []` and an empty device id.
        #expect(m["azure_ad_sign_ins_from_unknown_devices"] == [12, 13])
        // Every hit is an Entra event of the rule's own kind.
        #expect(m.keys.allSatisfy { !$0.hasPrefix("azure_identity_protection") }, "sign-ins are not risk detections: \(m)")
    }

    @Test func logAnalyticsSignInRowsMeetSuccessAndAuthenticationRules() throws {
        guard let set = Self.rules(), let events = try Self.events("signin/sentinel-training-lab/sign-in_adelete.csv") else {
            print(Corpus.skipReason)
            return
        }
        #expect(events.allSatisfy { $0.kind == .signIn && $0.shape == .logAnalytics })
        let m = Self.matches(set, events)
        let byLine = Dictionary(events.map { ($0.position.line ?? 0, $0) }, uniquingKeysWith: { a, _ in a })
        // `Status: Success` + `AuthenticationRequirement: singleFactorAuthentication`, read from ResultType
        // and the AuthenticationRequirement column: exactly the rows that say so.
        let expected = Set(events.filter { $0.result == "0" && $0.text(at: "AuthenticationRequirement") == "singleFactorAuthentication" }
                            .compactMap(\.position.line))
        #expect(!expected.isEmpty)
        #expect(m["azure_ad_only_single_factor_auth_required"] == expected)
        // The CSV spells dynamic columns `DeviceDetail_dynamic`: `DeviceDetail.deviceId` still resolves.
        for line in m["azure_ad_sign_ins_from_unknown_devices"] ?? [] {
            #expect(byLine[line]?.values(at: "DeviceDetail_dynamic.deviceId").first?.text == "")
        }
        #expect((m["azure_ad_sign_ins_from_unknown_devices"] ?? []).count > 0)
    }

    @Test func failedExportSignInIsNotASuccess() throws {
        guard let set = Self.rules(), let events = try Self.events("signin/msdocs-entra/reference-azure-monitor-sign-ins-log-schema-01.json") else {
            print(Corpus.skipReason)
            return
        }
        #expect(events.count == 1 && events[0].outcome == "failure")
        let m = Self.matches(set, events)
        #expect(m["azure_ad_only_single_factor_auth_required"] == nil)
        #expect(m["azure_ad_suspicious_signin_bypassing_mfa"] == nil)
    }
}
