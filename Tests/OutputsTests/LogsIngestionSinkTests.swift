import Foundation
import Testing
@testable import Outputs

@Suite(.serialized, .enabled(if: LocalAzureServer.available, "python3 is not installed"))
struct LogsIngestionSinkTests {
    func makeSink(_ server: LocalAzureServer, maxRequestBytes: Int = 1_048_576) throws -> LogsIngestionSink {
        let config = LogsIngestionConfiguration(endpoint: server.baseURL, dcrImmutableId: LocalAzureServer.dcrId,
                                                maxRequestBytes: maxRequestBytes, http: server.http)
        return try LogsIngestionSink(name: "logs", configuration: config, credential: try server.credential())
    }

    func rows(_ server: LocalAzureServer, _ stream: String) throws -> [[String: Any]] {
        ((try server.state()["rows"] as? [String: Any])?[stream] as? [[String: Any]]) ?? []
    }

    @Test func alertsAndIncidentsLandInTheirStreams() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try sink.deliver([Payloads.alert("a1", row: 1), Payloads.alert("a2", row: 2), Payloads.incident("i1", alerts: ["a1", "a2"], row: 3)])
        let alerts = try rows(server, "Custom-VigilAlerts_CL")
        let incidents = try rows(server, "Custom-VigilIncidents_CL")
        #expect(alerts.map { $0["AlertId"] as? String } == ["a1", "a2"])
        #expect(alerts.first?["Severity"] as? String == "High")
        #expect(alerts.first?["AccountUPN"] as? String == "mallory@contoso.example")
        #expect(alerts.first?["SourceIP"] as? String == "203.0.113.7")
        #expect(alerts.first?["AlertTime"] as? String == "2025-03-04T09:15:02Z")
        #expect((alerts.first?["Evidence"] as? [[String: Any]])?.count == 1)
        #expect(incidents.first?["IncidentId"] as? String == "i1")
        #expect(incidents.first?["AlertIds"] as? [String] == ["a1", "a2"])
        #expect(incidents.first?["Revision"] as? Int == 1)
        let requests = try server.list("logs_requests")
        #expect(requests.count == 2)
        for r in requests {
            let headers = try #require(r["headers"] as? [String: String])
            #expect(headers["content-encoding"] == "gzip")
            #expect(headers["content-type"] == "application/json")
            #expect(headers["x-ms-client-request-id"]?.count == 36)
            #expect((r["query"] as? [String: String])?["api-version"] == "2023-01-01")
            #expect(r["status"] as? Int == 204)
        }
        // One client, one kept-alive connection.
        #expect(Set(requests.compactMap { $0["client_port"] as? Int }).count == 1)
        #expect(try server.list("token_requests").count == 1)
    }

    @Test func batchesStayUnderOneMegabyteUncompressed() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        let evidence = ["\"" + String(repeating: "x", count: 20_000) + "\""]
        let batch = (0..<120).map { Payloads.alert("big-\($0)", evidence: evidence, row: Int64($0)) }   // ≈ 2.5 MB of JSON
        try sink.deliver(batch)
        let requests = try server.list("logs_requests")
        #expect(requests.count >= 3)
        for r in requests {
            #expect(r["status"] as? Int == 204)
            #expect((r["body_bytes"] as? Int ?? .max) <= 1_048_576)
        }
        #expect(try rows(server, "Custom-VigilAlerts_CL").count == 120)
    }

    @Test func a413SplitsTheBatchAndResends() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try server.fault(["match": "/dataCollectionRules", "status": 413, "count": 1,
                          "body": ["error": ["code": "ContentLengthLimitExceeded", "message": "Maximum allowed content length: 1048576 bytes (1 MB)."]]])
        try sink.deliver((0..<10).map { Payloads.alert("s\($0)", row: Int64($0)) })
        let statuses = try server.list("logs_requests").map { $0["status"] as? Int }
        #expect(statuses == [204, 204])   // the faulted request is not recorded as accepted; two halves are
        #expect(try rows(server, "Custom-VigilAlerts_CL").count == 10)

        // The server's own limit: a sink allowed 3 MB per call gets real 413s and splits until it fits.
        let loose = try makeSink(server, maxRequestBytes: 3_000_000)
        let evidence = ["\"" + String(repeating: "y", count: 20_000) + "\""]
        try loose.deliver((0..<100).map { Payloads.alert("L\($0)", evidence: evidence, row: Int64($0)) })
        let after = try server.list("logs_requests")
        #expect(after.contains { $0["status"] as? Int == 413 })
        #expect(try rows(server, "Custom-VigilAlerts_CL").count == 110)
    }

    @Test func throttlingAndServerErrorsAreRetriable() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try server.fault(["match": "/dataCollectionRules", "status": 429, "headers": ["Retry-After": "2"], "count": 1])
        let e1 = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("t1")]) }
        #expect(e1.disposition == .retry(retryAfter: 2))
        #expect(e1.delivered.isEmpty)
        try server.fault(["match": "/dataCollectionRules", "status": 503, "count": 1])
        let e2 = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("t1")]) }
        #expect(e2.disposition == .retry(retryAfter: nil))
        try sink.deliver([Payloads.alert("t1")])
        #expect(try rows(server, "Custom-VigilAlerts_CL").count == 1)
    }

    @Test func expiredTokenIsRefreshedOnce() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try sink.deliver([Payloads.alert("r1")])
        try server.post("/_control/config", ["revoke_tokens": true])   // the cached token now gets 401
        try sink.deliver([Payloads.alert("r2")])
        #expect(try server.list("token_requests").count == 2)
        #expect(try rows(server, "Custom-VigilAlerts_CL").count == 2)
    }

    @Test func otherClientErrorsArePermanentWithTheBody() throws {
        let server = try LocalAzureServer()
        let config = LogsIngestionConfiguration(endpoint: server.baseURL, dcrImmutableId: "dcr-ffffffffffffffffffffffffffffffff", http: server.http)
        let sink = try LogsIngestionSink(name: "logs", configuration: config, credential: try server.credential())
        let e = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("p1")]) }
        #expect(e.disposition == .permanent)
        #expect(e.reason.contains("404"))
        #expect(e.reason.contains("dcr-ffffffffffffffffffffffffffffffff"))
        // A malformed item fails alone; the rest of its batch is delivered.
        let good = try makeSink(server)
        let bad = OutboxItem(rowId: 9, kind: .alert, objectId: "x", revision: 1, payload: "not json")
        let e2 = try #require(throws: DeliveryError.self) { try good.deliver([Payloads.alert("ok", row: 8), bad]) }
        #expect(e2.disposition == .permanent)
        #expect(e2.delivered == [8])
    }

    @Test func slowResetAndDownServersAreRetriable() throws {
        let server = try LocalAzureServer()
        var http = server.http
        http.timeout = 1
        let config = LogsIngestionConfiguration(endpoint: server.baseURL, dcrImmutableId: LocalAzureServer.dcrId, http: http)
        let sink = try LogsIngestionSink(name: "logs", configuration: config, credential: try server.credential())
        try server.fault(["match": "/dataCollectionRules", "action": "slow", "delay": 2, "count": 1])
        let slow = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("d1")]) }
        #expect(slow.disposition == .retry(retryAfter: nil))
        try server.fault(["match": "/dataCollectionRules", "action": "reset", "count": 1])
        let reset = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("d1")]) }
        #expect(reset.disposition == .retry(retryAfter: nil))

        // The server dies mid-run, then comes back on the same port.
        let port = server.httpPort
        server.stop()
        let down = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("d1")]) }
        #expect(down.disposition == .retry(retryAfter: nil))
        let again = try LocalAzureServer(["--http-port", String(port)])
        try sink.deliver([Payloads.alert("d1")])
        #expect(try rows(again, "Custom-VigilAlerts_CL").count == 1)
    }

    @Test func chunkingIsGreedyAndBounded() {
        let rows = (0..<10).map { LogsIngestionSink.Row(rowId: Int64($0), json: Array(repeating: UInt8(ascii: "x"), count: 100)) }
        let chunks = LogsIngestionRows.chunks(rows, maxBytes: 2 + 3 * 100 + 2)
        #expect(chunks.map(\.count) == [3, 3, 3, 1])
    }
}
