import Foundation
import TestSupport
import Testing

/// Issue 5's end-to-end check: `vigil replay samples --config examples/local.yaml` against the
/// local stand-ins for Azure (Tests/TestServers/azure_local.py) delivers the samples' incident and
/// alerts to every sink: Sentinel incidents API (with a comment per alert), Logs Ingestion (both
/// streams), CEF over syslog, the signed webhook and JSON lines.
@Suite(.serialized) struct ReplayDeliveryTests {
    static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? ProcessInfo.processInfo.environment["PATH"].flatMap { path in
            path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
    static let canRun = VigilBinary.exists && python != nil

    /// Starts the server on free ports and returns it with (http, tcp) ports read from its READY line.
    func startServer(_ dir: URL) throws -> (Process, Int, Int) {
        let out = dir.appendingPathComponent("server.out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.python))
        p.arguments = [PackageRoot.url.appendingPathComponent("Tests/TestServers/azure_local.py").path,
                       "--http-port", "0", "--tcp-port", "0", "--udp-port", "0", "--webhook-secret", "local-hook"]
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) {
                let ready = try json(String(line.dropFirst(6)))
                return (p, try #require(ready["http"] as? Int), try #require(ready["tcp"] as? Int))
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        p.terminate()
        throw CancellationError()
    }

    func serverState(_ port: Int) throws -> [String: Any] {
        let r = try VigilBinary.runTool("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/_control/state"])
        return try json(r)
    }

    @Test(.enabled(if: canRun, "needs python3 and the built vigil binary"))
    func samplesReachEverySink() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, http, tcp) = try startServer(dir)
        defer { server.terminate(); server.waitUntilExit() }

        let jsonl = dir.appendingPathComponent("out.jsonl")
        let env = ["VIGIL_LOCAL_AZURE": "http://127.0.0.1:\(http)", "VIGIL_SYSLOG_PORT": "\(tcp)",
                   "VIGIL_STATE": dir.appendingPathComponent("state.db").path, "VIGIL_JSONL_PATH": jsonl.path]
        let samples = ["samples/export", "samples/eventhub", "samples/defender"].map { PackageRoot.url.appendingPathComponent($0).path }
        let r = try VigilBinary.run(["replay"] + samples + [
            "--config", PackageRoot.url.appendingPathComponent("examples/local.yaml").path,
            "--rules", PackageRoot.url.appendingPathComponent("detections").path, "--quiet", "--summary", "json",
        ], environment: env)
        #expect(r.status == 0, "replay failed: \(r.stderr.suffix(2000))")
        let summary = try json(try #require(r.lines.last))
        let delivery = try #require(summary["delivery"] as? [String: Any])
        #expect(delivery["dead_lettered"] as? Int == 0)
        #expect(delivery["remaining"] as? Int == 0)

        let rows = try String(contentsOf: jsonl, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
        let alertIds = Set(rows.filter { $0["type"] as? String == "alert" }.compactMap { $0["id"] as? String })
        let incidentIds = Set(rows.filter { $0["type"] as? String == "incident" }.compactMap { $0["id"] as? String })
        #expect(alertIds.count == summary["alerts_new"] as? Int)
        #expect(incidentIds.count == 1)

        let state = try serverState(http)
        // Sentinel: the incident under its deterministic id, one comment per alert, activity times set.
        let incidents = try #require(state["incidents"] as? [String: Any])
        #expect(Set(incidents.keys) == incidentIds)
        let comments = try #require(state["comments"] as? [String: Any])
        #expect((comments[incidentIds.first ?? ""] as? [String: Any])?.count == alertIds.count)
        let props = (incidents.values.first as? [String: Any])?["properties"] as? [String: Any]
        #expect(props?["severity"] as? String == "High")
        #expect(props?["firstActivityTimeUtc"] as? String != nil)
        // Logs Ingestion: a row per alert, a row per incident revision.
        let streams = try #require(state["rows"] as? [String: [Any]])
        #expect(streams["Custom-VigilAlerts_CL"]?.count == alertIds.count)
        #expect((streams["Custom-VigilIncidents_CL"]?.count ?? 0) >= 1)
        // CEF and webhook: every outbox item, the webhook signatures verified by the receiver.
        let syslog = try #require(state["syslog"] as? [[String: Any]])
        let webhook = try #require(state["webhook"] as? [[String: Any]])
        #expect(syslog.count == webhook.count)
        #expect(syslog.count >= alertIds.count + 1)
        #expect(webhook.allSatisfy { $0["signature_valid"] as? Bool == true })
        #expect(syslog.allSatisfy { (($0["cef"] as? [String: Any])?["vendor"] as? String) == "Vigil" })
    }
}
