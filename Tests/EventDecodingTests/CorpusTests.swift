import EventDecoding
import EventModel
import Foundation
import TestSupport
import Testing

/// The real third-party files in ../shared/corpus, with the record counts its README states.
@Suite struct CorpusTests {
    static let expected: [(String, Int)] = [
        ("activity/msdocs-activity-log-schema/01-administrative-category-rest-api.json", 1),
        ("activity/msdocs-activity-log-schema/05-autoscale-category-rest-api.json", 1),
        ("activity/msdocs-activity-log-schema/07-recommendation-category-rest-api.json", 1),
        ("activity/msdocs-activity-log-schema/09-storage-eventhub-export-resource-log-schema.json", 1),
        ("activity/panther/azure_monitoractivity.records.jsonl", 136),
        ("resource/msdocs-keyvault/keyvault-general-logging-01.json", 1),
        ("resource/panther/azure_monitoractivity_resource_logs.records.jsonl", 27),
        ("defender/azure-rest-api-specs/GetAlertSubscriptionLocation_example.json", 1),
        ("defender/msticpy/alertlist.shared-slice.csv", 126),
        ("signin/msdocs-entra/reference-azure-monitor-sign-ins-log-schema-01.json", 1),
        ("signin/panther/azure_audit.records.jsonl", 33),
        ("signin/sentinel-training-lab/AuditLogs_Hunting.csv", 5),
        ("signin/sentinel-training-lab/sign-in_adelete.csv", 56),
    ]

    private func readCorpus(_ relative: String, chunkSize: Int = 4 << 20) throws -> (Collector, ReadStats)? {
        guard let url = Corpus.file(relative) else { return nil }
        var reader = RecordReader(options: ReaderOptions(chunkSize: chunkSize))
        var c = Collector()
        try reader.read(InputFile(path: url.path), into: &c)
        return (c, reader.stats)
    }

    @Test(.enabled(if: Corpus.root != nil, Comment(rawValue: Corpus.skipReason)), arguments: expected)
    func dataFileReadsWithTheDocumentedRecordCount(file: String, records: Int) throws {
        let (c, stats) = try #require(try readCorpus(file))
        #expect(stats.records == records, "\(file)")
        // Only the normaliser may complain (unknown shape); the reader itself must not.
        #expect(c.diagnostics.filter { $0.code != InputCode.unknownShape }.isEmpty, "\(c.diagnostics)")
        #expect(c.events.allSatisfy { $0.position.source.hasSuffix(file) })
    }

    @Test(.enabled(if: Corpus.root != nil, Comment(rawValue: Corpus.skipReason)))
    func corpusTotalsMatchTheReadme() throws {
        var total = 0
        for (file, _) in Self.expected { total += try #require(try readCorpus(file)).1.records }
        // README summary: activity 141 (incl. 1 invalid as published), resource 28, defender 127, signin 95.
        #expect(total == 141 - 1 + 28 + 127 + 95)
    }

    @Test(.enabled(if: Corpus.root != nil, Comment(rawValue: Corpus.skipReason)), arguments: [1, 64, 4 << 20])
    func csvWithCRLFAndMultiLineJSONCellsReadsInAnyChunkSize(chunk: Int) throws {
        let (c, _) = try #require(try readCorpus("defender/msticpy/alertlist.shared-slice.csv", chunkSize: chunk))
        #expect(c.events.count == 126)
        #expect(c.events.first?.text(at: "AlertName") == "DC local group addition - Demo")
        #expect(c.events.first?.text(at: "ExtendedProperties.Alert Mode") == "Aggregated")
        #expect(c.events.first?.record.root[""] == nil)   // the unnamed index column is dropped
    }

    @Test(.enabled(if: Corpus.root != nil, Comment(rawValue: Corpus.skipReason)))
    func asPublishedFilesGiveLocatedDiagnostics() throws {
        let root = try #require(Corpus.root)
        let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".as-published.json") }
        #expect(!files.isEmpty)
        for file in files {
            let (c, _) = try #require(try readCorpus(file))
            #expect(!c.diagnostics.isEmpty, "\(file)")
            for d in c.diagnostics {
                #expect(d.location.file.hasSuffix(file))
                #expect(d.location.line != nil || d.location.offset != nil)
            }
        }
        // The policy sample: its string is wrapped at line 67.
        let (c, _) = try #require(try readCorpus("activity/msdocs-activity-log-schema/08-policy-category-rest-api.as-published.json"))
        #expect(c.diagnostics.map(\.code) == [InputCode.malformedJSON])
        #expect(c.diagnostics.first?.location.line == 67)
    }

    /// Whatever the files hold (this set or one laid out the same way): each record gets a kind its
    /// folder allows, and the typed fields are filled wherever the record carries the raw field.
    @Test(.enabled(if: Corpus.root != nil, Comment(rawValue: Corpus.skipReason)))
    func everyRecordHasAKindOfItsFolderAndItsTypedFields() throws {
        let root = try #require(Corpus.root)
        let allowed: [String: Set<EventKind>] = [
            "activity": [.activity, .resourceLog, .defenderAlert], "resource": [.resourceLog, .activity],
            "defender": [.defenderAlert], "signin": [.signIn, .audit],
        ]
        let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }.filter {
            let folder = String($0.prefix { $0 != "/" })
            return allowed[folder] != nil && !$0.hasSuffix(".labels.jsonl") && !$0.hasSuffix(".as-published.json")
                && ($0.hasSuffix(".json") || $0.hasSuffix(".jsonl") || $0.hasSuffix(".csv"))
        }
        #expect(!files.isEmpty)
        for file in files {
            let (c, _) = try #require(try readCorpus(file))
            #expect(c.diagnostics.isEmpty, "\(file): \(c.diagnostics.prefix(3))")
            let kinds = allowed[String(file.prefix { $0 != "/" })]!
            for e in c.events {
                let at = "\(file) \(e.position)"
                #expect(kinds.contains(e.kind), "\(at): \(e.kind)")
                #expect(e.time != nil || e.operationName != nil, "\(at)")
                for path in ["time", "eventTimestamp", "TimeGenerated", "createdDateTime", "activityDateTime"]
                where e.text(at: path).flatMap(EventTime.init(parsing:)) != nil {
                    #expect(e.time != nil, "\(at): \(path)")
                }
                if nonEmpty(e.text(at: "callerIpAddress")) { #expect(e.callerIP != nil, "\(at)") }
                if e.kind != .defenderAlert, nonEmpty(e.text(at: "correlationId")) { #expect(e.correlationId != nil, "\(at)") }
                if let id = e.text(at: "resourceId") ?? e.text(at: "_ResourceId"), id.hasPrefix("/"), e.kind != .defenderAlert {
                    #expect(e.resource != nil, "\(at)")
                }
                if e.kind == .defenderAlert { #expect(e.severity != nil && e.title != nil, "\(at)") }
            }
        }
    }

    private func nonEmpty(_ s: String?) -> Bool { !(s ?? "").isEmpty }

    @Test(.enabled(if: Corpus.root != nil, Comment(rawValue: Corpus.skipReason)))
    func restExampleAndEnvelopeRecordsAreUnwrapped() throws {
        let (alert, _) = try #require(try readCorpus("defender/azure-rest-api-specs/GetAlertSubscriptionLocation_example.json"))
        #expect(alert.events.first?.text(at: "properties.alertType") == "VM_EICAR")
        let (kv, _) = try #require(try readCorpus("resource/msdocs-keyvault/keyvault-general-logging-01.json"))
        #expect(kv.events.first?.text(at: "operationName") == "VaultGet")
        #expect(kv.events.first?.position.recordIndex == 0)
    }
}
