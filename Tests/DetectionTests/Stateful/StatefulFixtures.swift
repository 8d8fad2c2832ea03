import Detection
import EventDecoding
import EventModel
import FastJSON
import Foundation
import TestSupport

/// Builders for the stateful tests: real JSON records, normalised by the real Normalizer.
enum Fixture {
    static let subscription = "11111111-2222-3333-4444-555555555555"
    static let workspaceId = "/subscriptions/\(subscription)/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"

    /// 2025-03-03 is a Monday; `at(day: 0, hour: 9)` = Monday 09:00 UTC.
    static let base = EventTime(parsing: "2025-03-03T00:00:00Z")!

    static func at(day: Int, hour: Int = 10, minute: Int = 0, second: Int = 0) -> EventTime {
        base.adding(seconds: Int64(day * 86_400 + hour * 3600 + minute * 60 + second))
    }

    static func event(_ json: String, line: Int = 1, source: String = "test.jsonl") -> Event {
        let doc = try! JSONDocument.parse(json)
        return try! Normalizer().normalize(doc, position: SourcePosition(source: source, line: line, offset: Int64(line * 100)),
                                           id: fastHash64(json))
    }

    static func quote(_ s: String) -> String {
        var w = JSONWriter()
        w.writeString(s)
        return w.text
    }

    /// An Activity Log export record.
    static func activity(time: EventTime, operation: String, result: String, correlationId: String = "c0ffee00-0000-4000-8000-000000000001",
                         caller: String = "alice@contoso.example", ip: String? = "203.0.113.10",
                         resource: String = workspaceId, requestBody: String? = nil, responseBody: String? = nil,
                         line: Int = 1) -> Event {
        var props: [String] = ["\"eventCategory\":\"Administrative\""]
        if let requestBody { props.append("\"requestbody\":\(quote(requestBody))") }
        if let responseBody { props.append("\"responseBody\":\(quote(responseBody))") }
        let ipField = ip.map { "\"callerIpAddress\":\"\($0)\"," } ?? ""
        let json = """
        {"time":"\(time.iso8601)","resourceId":"\(resource)","operationName":"\(operation)","category":"Administrative",\
        "resultType":"\(result)","resultSignature":"\(result).","correlationId":"\(correlationId)",\(ipField)\
        "identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)","appid":"app-1"}},\
        "level":"Information","properties":{\(props.joined(separator: ","))}}
        """
        return event(json, line: line)
    }

    /// An AML resource-log (diagnostic) record, e.g. category DataStoreReadEvent.
    static func dataPlane(time: EventTime, category: String = "DataStoreReadEvent",
                          operation: String = "Microsoft.MachineLearningServices/workspaces/datastores/read",
                          caller: String = "alice@contoso.example", ip: String? = "203.0.113.10",
                          workspace: String = workspaceId, serial: Int = 0) -> Event {
        let ipField = ip.map { "\"callerIpAddress\":\"\($0)\"," } ?? ""
        let json = """
        {"time":"\(time.iso8601)","resourceId":"\(workspace)","category":"\(category)",\
        "operationName":"\(operation)","resultType":"Succeeded",\(ipField)\
        "identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)"}},\
        "properties":{"AmlDatastoreName":"ds\(serial)"}}
        """
        return event(json, line: serial + 1)
    }

    /// An assembled operation as the OperationAssembler would emit it (Start + Success).
    static func operation(time: EventTime, operation: String, caller: String = "alice@contoso.example",
                          ip: String? = "203.0.113.10", resource: String = workspaceId, serial: Int = 0,
                          result: String = "Success") -> Event {
        var assembler = OperationAssembler()
        let corr = "00000000-0000-4000-8000-\(String(format: "%012d", serial))"
        _ = assembler.process(activity(time: time, operation: operation, result: "Start", correlationId: corr, caller: caller,
                                       ip: ip, resource: resource, line: serial * 2 + 1))
        let out = assembler.process(activity(time: time.adding(seconds: 1), operation: operation, result: result,
                                             correlationId: corr, caller: caller, ip: ip, resource: resource, line: serial * 2 + 2))
        return out[0]
    }

    static func anomalyRules() throws -> [AnomalyRule] {
        let folder = PackageRoot.url.appendingPathComponent("detections/anomaly")
        var rules: [AnomalyRule] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasSuffix(".yml") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let result = AnomalyRuleParser.parse(text, file: "detections/anomaly/\(name)")
            guard result.diagnostics.isEmpty else { throw RuleFileError(diagnostics: result.diagnostics) }
            rules += result.rules
        }
        return rules
    }

    static func rule(_ id: String) throws -> AnomalyRule {
        guard let r = try anomalyRules().first(where: { $0.id == id }) else { throw RuleFileError(diagnostics: []) }
        return r
    }
}

struct RuleFileError: Error { var diagnostics: [Diagnostic] }

/// A fresh folder under the system temp dir, removed when the value is released.
final class StatefulTemporaryFolder {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-stateful-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
