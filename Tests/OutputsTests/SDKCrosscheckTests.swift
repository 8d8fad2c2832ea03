import Foundation
import Testing
import TestSupport
@testable import Outputs

enum SDKCapture {
    nonisolated(unsafe) static let value: [String: Any]? = LocalAzureServer.available ? ((try? run()) ?? nil) : nil

    /// The SDK capture, or nil when the packages are not installed (`pip install azure-monitor-ingestion azure-mgmt-securityinsight`).
    static func run() throws -> [String: Any]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: LocalAzureServer.python!)
        p.arguments = [PackageRoot.url.appendingPathComponent("Tests/TestServers/sdk_crosscheck.py").path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

}

/// Compares our requests with those of Microsoft's Python SDKs (azure-monitor-ingestion,
/// azure-mgmt-securityinsight), captured by Tests/TestServers/sdk_crosscheck.py.
@Suite(.serialized, .enabled(if: LocalAzureServer.available, "python3 is not installed"),
       .enabled(if: SDKCapture.value != nil, "azure-monitor-ingestion is not installed (pip install azure-monitor-ingestion azure-identity azure-mgmt-securityinsight)"))
struct SDKCrosscheckTests {

    static func shape(_ path: String) -> String {
        // Host-independent path with ids normalised.
        path.replacingOccurrences(of: #"/incidents/[^/]+"#, with: "/incidents/{id}", options: .regularExpression)
            .replacingOccurrences(of: #"/comments/[^/]+"#, with: "/comments/{id}", options: .regularExpression)
    }

    @Test func ourRequestsMatchTheSDKs() throws {
        let sdk = try #require(SDKCapture.value)
        let server = try LocalAzureServer()
        let logs = try LogsIngestionSink(name: "logs", configuration: LogsIngestionConfiguration(endpoint: server.baseURL, dcrImmutableId: LocalAzureServer.dcrId, http: server.http),
                                         credential: try server.credential())
        try logs.deliver([Payloads.alert("a1")])
        let ours = try #require(try server.list("logs_requests").first)
        let theirs = try #require((sdk["logs"] as? [[String: Any]])?.first)
        #expect(ours["path"] as? String == theirs["path"] as? String)
        #expect(ours["query"] as? [String: String] == theirs["query"] as? [String: String])
        let oh = try #require(ours["headers"] as? [String: String]), th = try #require(theirs["headers"] as? [String: String])
        for h in ["content-type", "content-encoding", "accept"] { #expect(oh[h] == th[h], "header \(h)") }
        #expect(oh["x-ms-client-request-id"] != nil && th["x-ms-client-request-id"] != nil)
        #expect(theirs["body"] is [[String: Any]])
        #expect((sdk["scopes"] as? [String])?.contains(AzureScope.monitor) == true)

        guard let sdkIncident = sdk["incident"] as? [String: Any], let sdkComment = sdk["comment"] as? [String: Any] else {
            print("SecurityInsights cross-check skipped: azure-mgmt-securityinsight is not installed")
            return
        }
        let sentinel = try SentinelIncidentsSink(name: "s", configuration: SentinelIncidentsConfiguration(subscriptionId: "sub-1", resourceGroupName: "rg-sec",
                                                 workspaceName: "law-sec", endpoint: server.baseURL, http: server.http), credential: try server.credential())
        let a1 = Payloads.alert("a1", row: 1)
        try sentinel.deliver([a1, Payloads.incident("6f1c2a9e-0b7d-4c1e-9a51-3f0c8e2d7b14", alerts: ["a1"], newAlerts: [a1], row: 2)])
        let reqs = try server.list("incident_requests")
        let ourIncident = try #require(reqs.first { ($0["comment"] is NSNull || $0["comment"] == nil) && $0["method"] as? String == "PUT" })
        let ourComment = try #require(reqs.first { $0["comment"] is String })
        #expect(Self.shape(ourIncident["path"] as! String) == Self.shape(sdkIncident["path"] as! String))
        #expect(Self.shape(ourComment["path"] as! String) == Self.shape(sdkComment["path"] as! String))
        let ourProps = Set(((ourIncident["body"] as? [String: Any])?["properties"] as? [String: Any])?.keys ?? [:].keys)
        let sdkProps = Set(((sdkIncident["body"] as? [String: Any])?["properties"] as? [String: Any])?.keys ?? [:].keys)
        #expect(sdkProps.isSubset(of: ourProps), "SDK sends \(sdkProps.subtracting(ourProps)) that we do not")
        #expect(Set((ourComment["body"] as? [String: Any])?.keys ?? [:].keys) == Set((sdkComment["body"] as? [String: Any])?.keys ?? [:].keys))
        let ih = try #require(ourIncident["headers"] as? [String: String]), sh = try #require(sdkIncident["headers"] as? [String: String])
        for h in ["content-type", "accept"] { #expect(ih[h] == sh[h], "header \(h)") }
        #expect(ih["x-ms-client-request-id"] != nil)
    }
}
