import Foundation
import Outputs
import TestSupport

/// Runs Tests/TestServers/azure_local.py as a subprocess on free loopback ports.
final class LocalAzureServer: @unchecked Sendable {
    static let script = PackageRoot.url.appendingPathComponent("Tests/TestServers/azure_local.py").path
    static let tenant = "00000000-0000-0000-0000-00000000000a"
    static let clientId = "00000000-0000-0000-0000-00000000000b"
    static let clientSecret = "local-test-secret"
    static let dcrId = "dcr-0123456789abcdef0123456789abcdef"

    /// python3 on PATH (tests that need the server are disabled, visibly, without it).
    static let python: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()
    static var available: Bool { python != nil }

    let process: Process
    let httpPort: Int
    let tcpPort: Int
    let udpPort: Int
    let scheme: String
    let caPath: String?
    private let control: HTTPClient

    init(_ extra: [String] = []) throws {
        guard let python = Self.python else { throw TestServerError.noPython }
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.script] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var buffer = Data()
        while !buffer.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { throw TestServerError.didNotStart(String(decoding: buffer, as: UTF8.self)) }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer.prefix(while: { $0 != 0x0A }), as: UTF8.self)
        guard line.hasPrefix("READY "),
              let info = try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] else {
            throw TestServerError.didNotStart(line)
        }
        httpPort = info["http"] as! Int
        tcpPort = info["tcp"] as! Int
        udpPort = info["udp"] as! Int
        scheme = info["scheme"] as! String
        caPath = info["ca"] as? String
        control = try HTTPClient(configuration: HTTPClientConfiguration(timeout: 10, caBundle: caPath))
    }

    deinit { stop() }

    func stop() {
        // SIGKILL: the test runner's blocked-signal mask is inherited, so SIGTERM might not land.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var baseURL: String { "\(scheme)://127.0.0.1:\(httpPort)" }

    @discardableResult
    func post(_ path: String, _ body: [String: Any] = [:]) throws -> Any {
        let data = try JSONSerialization.data(withJSONObject: body)
        let r = try control.send(HTTPRequest(method: "POST", url: baseURL + path, headers: [("Content-Type", "application/json")], body: Array(data)))
        return try JSONSerialization.jsonObject(with: Data(r.body), options: [.fragmentsAllowed])
    }

    func fault(_ rule: [String: Any]) throws { try post("/_control/fault", rule) }

    func state() throws -> [String: Any] {
        try post("/_control/state") as! [String: Any]
    }

    func list(_ key: String) throws -> [[String: Any]] {
        (try state()[key] as? [[String: Any]]) ?? []
    }

    /// A client-secret credential against this server's token endpoint.
    func credential(refreshMargin: Double = 300) throws -> any TokenCredential {
        try AzureCredentialConfiguration(kind: .clientSecret, tenantId: Self.tenant, clientId: Self.clientId,
                                         clientSecret: Secret(Self.clientSecret), authorityHost: baseURL, refreshMargin: refreshMargin)
            .makeCredential(environment: [:], http: http)
    }

    var http: HTTPClientConfiguration { HTTPClientConfiguration(connectTimeout: 2, timeout: 5, caBundle: caPath) }
}

enum TestServerError: Error { case noPython, didNotStart(String) }

/// Outbox items shaped like the state helper's payloads.
enum Payloads {
    static func alert(_ id: String, rule: String = "aml-listkeys", title: String = "Workspace keys listed",
                      severity: String = "high", description: String = "listKeys by mallory@contoso.example",
                      evidence: [String] = [#"{"operationName":"Microsoft.MachineLearningServices/workspaces/listKeys/action"}"#],
                      incidentId: String? = nil, row: Int64 = 1) -> OutboxItem {
        let incident = incidentId.map { "\"incidentId\":\"\($0)\"," } ?? ""
        let payload = """
        {"type":"alert","id":"\(id)",\(incident)"rule":{"id":"\(rule)","title":\(jsonString(title))},"severity":"\(severity)",\
        "tactics":["credential-access"],"techniques":["T1552.001"],\
        "entities":[{"kind":"Account","value":"mallory@contoso.example"},{"kind":"IP","value":"203.0.113.7"},\
        {"kind":"AzureResource","value":"/subscriptions/s/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws1"}],\
        "time":"2025-03-04T09:15:02Z","description":\(jsonString(description)),"evidence":[\(evidence.joined(separator: ","))]}
        """
        return OutboxItem(rowId: row, kind: .alert, objectId: id, revision: 1, payload: payload)
    }

    /// `newAlerts` are embedded as the producer does (`"alerts":[{"new":true,…}]`): the alerts this revision added.
    static func incident(_ id: String, alerts: [String], severity: String = "high", status: String = "New",
                         revision: Int = 1, title: String = "Credential access on ws1", newAlerts: [OutboxItem] = [],
                         row: Int64 = 100) -> OutboxItem {
        let embedded = newAlerts.map { "{\"new\":true," + $0.payload.dropFirst() }.joined(separator: ",")
        let payload = """
        {"type":"incident","id":"\(id)","title":\(jsonString(title)),"description":"Keys of ws1 listed by mallory",\
        "severity":"\(severity)","status":"\(status)","tactics":["credential-access"],"techniques":["T1552.001"],\
        "entities":[{"kind":"Account","value":"mallory@contoso.example"}],"alert_ids":[\(alerts.map { "\"\($0)\"" }.joined(separator: ","))],\
        "rule_ids":["aml-listkeys"],"first_activity":"2025-03-04T09:15:02Z","last_activity":"2025-03-04T09:20:00Z","revision":\(revision),\
        "alerts":[\(embedded)]}
        """
        return OutboxItem(rowId: row, kind: .incident, objectId: id, revision: revision, payload: payload)
    }

    static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
