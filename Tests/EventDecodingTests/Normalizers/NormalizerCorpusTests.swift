import EventDecoding
import EventModel
import FastJSON
import Foundation
import TestSupport
import Testing

/// Every record of every data file in ../shared/corpus normalises to a sensible event: the kind
/// the folder says, a shape, and time, operation and caller wherever the record carries them.
/// Skips, saying so, when the corpus is absent. `*.as-published.json` files are malformed on
/// purpose and belong to the reader's bad-input tests; `*.labels.jsonl` are labels, not records.
@Suite struct NormalizerCorpusTests {
    struct Expectation: CustomStringConvertible, Sendable {
        var file: String
        var kinds: Set<EventKind>
        var shapes: Set<RecordShape>
        /// Records that may lack a time / a caller (Panther fixtures are partial).
        var timeOptional = false
        var callerOptional = false
        var description: String { file }
    }

    static let files: [Expectation] = [
        .init(file: "activity/msdocs-activity-log-schema/01-administrative-category-rest-api.json", kinds: [.activity], shapes: [.activityREST]),
        .init(file: "activity/msdocs-activity-log-schema/05-autoscale-category-rest-api.json", kinds: [.activity], shapes: [.activityREST]),
        .init(file: "activity/msdocs-activity-log-schema/07-recommendation-category-rest-api.json", kinds: [.activity],
              shapes: [.activityREST], callerOptional: true),
        .init(file: "activity/msdocs-activity-log-schema/09-storage-eventhub-export-resource-log-schema.json", kinds: [.activity],
              shapes: [.resourceLogExport]),
        .init(file: "activity/panther/azure_monitoractivity.records.jsonl", kinds: [.activity, .resourceLog],
              shapes: [.resourceLogExport], timeOptional: true, callerOptional: true),
        .init(file: "resource/msdocs-keyvault/keyvault-general-logging-01.json", kinds: [.resourceLog], shapes: [.resourceLogExport]),
        .init(file: "resource/panther/azure_monitoractivity_resource_logs.records.jsonl", kinds: [.resourceLog],
              shapes: [.resourceLogExport], timeOptional: true, callerOptional: true),
        .init(file: "signin/msdocs-entra/reference-azure-monitor-sign-ins-log-schema-01.json", kinds: [.signIn], shapes: [.resourceLogExport]),
        .init(file: "signin/panther/azure_audit.records.jsonl", kinds: [.signIn, .audit], shapes: [.resourceLogExport]),
        .init(file: "defender/azure-rest-api-specs/GetAlertSubscriptionLocation_example.json", kinds: [.defenderAlert],
              shapes: [.defenderREST], callerOptional: true),
        .init(file: "defender/msticpy/alertlist.shared-slice.csv", kinds: [.defenderAlert], shapes: [.logAnalytics], callerOptional: true),
        .init(file: "signin/sentinel-training-lab/sign-in_adelete.csv", kinds: [.signIn], shapes: [.logAnalytics]),
        // A projected hunting-query result: no time column at all.
        .init(file: "signin/sentinel-training-lab/AuditLogs_Hunting.csv", kinds: [.audit], shapes: [.logAnalytics], timeOptional: true),
    ]

    @Test(arguments: files)
    func everyRecordNormalises(_ expected: Expectation) throws {
        guard let url = Corpus.file(expected.file) else {
            print("NormalizerCorpusTests: \(Corpus.skipReason) (\(expected.file))")
            return
        }
        let records = url.pathExtension == "csv"
            ? try NormalizerTestSupport.csvRecords(url)
            : try NormalizerTestSupport.jsonRecords(url)
        #expect(!records.isEmpty, "\(expected.file): no records read")
        var withTime = 0, withCaller = 0
        for record in records {
            let where_ = record.position.description
            let e: Event
            do throws(Diagnostic) {
                e = try NormalizerTestSupport.normalizer.normalize(record.document, position: record.position, id: 0)
            } catch {
                Issue.record("\(error)")
                continue
            }
            #expect(expected.kinds.contains(e.kind), "\(where_): kind \(e.kind)")
            #expect(expected.shapes.contains(e.shape), "\(where_): shape \(e.shape)")
            #expect(e.time != nil || e.operationName != nil, "\(where_): neither time nor operation")
            if let op = e.operationName {
                #expect(e.operation == FieldTextCheck.lower(op), "\(where_): operation is operationName lower-cased")
            }
            if let t = e.time {
                // Every corpus record is from 2016 or later and not from the future.
                #expect(t.seconds > 1_450_000_000 && t.seconds < 1_900_000_000, "\(where_): time \(t)")
                withTime += 1
            } else {
                #expect(expected.timeOptional, "\(where_): no time")
            }
            if let caller = e.caller {
                #expect(!caller.isEmpty && caller.first != " " && caller.last != " ", "\(where_): caller '\(caller)'")
                withCaller += 1
            } else {
                #expect(expected.callerOptional, "\(where_): no caller")
            }
            if e.kind == .defenderAlert {
                #expect(e.alertId != nil && e.severity != nil && e.title != nil, "\(where_): alert id/severity/title")
            }
        }
        print("NormalizerCorpusTests: \(expected.file): \(records.count) records, \(withTime) with time, \(withCaller) with caller")
    }

    /// Spot checks of values, one per source, read from the real files.
    @Test func knownValues() throws {
        guard Corpus.root != nil else { print("NormalizerCorpusTests: \(Corpus.skipReason)"); return }
        func first(_ file: String, where match: (Event) -> Bool = { _ in true }) throws -> Event? {
            let url = Corpus.file(file)!
            let records = url.pathExtension == "csv" ? try NormalizerTestSupport.csvRecords(url) : try NormalizerTestSupport.jsonRecords(url)
            for r in records {
                if let e = try? NormalizerTestSupport.normalizer.normalize(r.document, position: r.position, id: 0), match(e) { return e }
            }
            return nil
        }
        let nsg = try #require(try first("activity/msdocs-activity-log-schema/01-administrative-category-rest-api.json"))
        #expect(nsg.caller == "rob@contoso.com" && nsg.result == "Succeeded" && nsg.resource?.name == "myNSG")
        let sas = try #require(try first("activity/msdocs-activity-log-schema/09-storage-eventhub-export-resource-log-schema.json"))
        #expect(sas.caller == "admin@contoso.com" && sas.category == "Administrative" && sas.callerIP == "111.111.111.11")
        let kv = try #require(try first("resource/msdocs-keyvault/keyvault-general-logging-01.json"))
        #expect(kv.operation == "vaultget" && kv.caller == "live.com#username@outlook.com" && kv.category == "AuditEvent")
        let spSignIn = try #require(try first("signin/panther/azure_audit.records.jsonl") { $0.category == "ServicePrincipalSignInLogs" })
        #expect(spSignIn.kind == .signIn && spSignIn.caller == "some-service-principal" && spSignIn.time != nil)
        let eicar = try #require(try first("defender/azure-rest-api-specs/GetAlertSubscriptionLocation_example.json"))
        #expect(eicar.operationName == "VM_EICAR" && eicar.severity == .high && eicar.resource?.name == "vm1")
        let adele = try #require(try first("signin/sentinel-training-lab/sign-in_adelete.csv"))
        #expect(adele.caller == "adelev@m365x816222.onmicrosoft.com" && adele.time?.iso8601.hasPrefix("2021-04-28T14:08:45") == true)
        let alert = try #require(try first("defender/msticpy/alertlist.shared-slice.csv") { $0.alertId?.hasPrefix("2518547570966661760") == true })
        #expect(alert.resource?.name == "MSTICAlertsWin1" && alert.severity == .medium)
        let entities = EntityExtraction.alertEntities(for: alert)
        #expect(entities.contains(Entity(kind: .host, value: "MSTICALERTSWIN1")))
        #expect(entities.contains(Entity(kind: .account, value: "MSTICAlertsWin1\\MSTICAdmin")))
    }
}

enum FieldTextCheck {
    static func lower(_ s: String) -> String { String(s.map { $0.isASCII ? Character($0.lowercased()) : $0 }) }
}
