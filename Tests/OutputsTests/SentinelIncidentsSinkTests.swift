import Foundation
import Testing
@testable import Outputs

@Suite(.serialized, .enabled(if: LocalAzureServer.available, "python3 is not installed"))
struct SentinelIncidentsSinkTests {
    static let incidentId = "6f1c2a9e-0b7d-4c1e-9a51-3f0c8e2d7b14"

    func makeSink(_ server: LocalAzureServer) throws -> SentinelIncidentsSink {
        let config = SentinelIncidentsConfiguration(subscriptionId: "sub-1", resourceGroupName: "rg-sec", workspaceName: "law-sec",
                                                    endpoint: server.baseURL, http: server.http)
        return try SentinelIncidentsSink(name: "sentinel", configuration: config, credential: try server.credential())
    }

    func incident(_ server: LocalAzureServer) throws -> [String: Any] {
        try #require(((try server.state()["incidents"] as? [String: Any])?[Self.incidentId]) as? [String: Any])
    }

    func comments(_ server: LocalAzureServer) throws -> [String: Any] {
        ((try server.state()["comments"] as? [String: Any])?[Self.incidentId] as? [String: Any]) ?? [:]
    }

    @Test func createsTheIncidentAndCommentsEachAlert() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        let alerts = [Payloads.alert("a1", row: 1), Payloads.alert("a2", description: "second | with = and\nnewline", row: 2)]
        let batch = alerts + [Payloads.incident(Self.incidentId, alerts: ["a1", "a2"], newAlerts: alerts, row: 3)]
        try sink.deliver(batch)
        let inc = try incident(server)
        let p = try #require(inc["properties"] as? [String: Any])
        #expect(p["title"] as? String == "Credential access on ws1")
        #expect(p["severity"] as? String == "High")
        #expect(p["status"] as? String == "New")
        #expect(p["firstActivityTimeUtc"] as? String == "2025-03-04T09:15:02Z")
        #expect(p["lastActivityTimeUtc"] as? String == "2025-03-04T09:20:00Z")
        let labels = (p["labels"] as? [[String: Any]])?.compactMap { $0["labelName"] as? String } ?? []
        #expect(labels == ["vigil", "credential-access", "T1552.001", "rule:aml-listkeys"])
        let c = try comments(server)
        #expect(c.count == 2)
        #expect(c[SentinelIncidentsSink.commentId(alertId: "a1")] != nil)
        let message = (((c[SentinelIncidentsSink.commentId(alertId: "a2")] as? [String: Any])?["properties"] as? [String: Any])?["message"] as? String) ?? ""
        #expect(message.contains("Workspace keys listed"))
        #expect(message.contains("listKeys/action"))
        #expect(message.contains("second | with = and\nnewline"))
        let requests = try server.list("incident_requests")
        #expect(requests.allSatisfy { ($0["query"] as? [String: String])?["api-version"] == "2025-12-01" })
        // An incident this process has not seen is read first; the create carries no etag.
        #expect(requests.prefix(2).map { "\($0["method"]!) \($0["status"]!)" } == ["GET 404", "PUT 201"])
        #expect((requests[1]["body"] as? [String: Any])?["etag"] == nil)

        // Redelivery (at-least-once) rewrites the same incident and comments, adds nothing; so does a
        // redelivery by a new sink (a restart), which has no cache.
        try sink.deliver(batch)
        try makeSink(server).deliver(batch)
        #expect(try comments(server).count == 2)
        #expect((try server.state()["incidents"] as? [String: Any])?.count == 1)
    }

    @Test func updatesSendTheEtagAndResolveConflicts() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: ["a1"], severity: "medium", revision: 1)])
        let etag1 = try incident(server)["etag"] as? String
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: ["a1"], severity: "high", revision: 2)])
        var requests = try server.list("incident_requests")
        #expect((requests.last?["body"] as? [String: Any])?["etag"] as? String == etag1)
        #expect(((try incident(server)["properties"] as? [String: Any])?["severity"]) as? String == "High")

        // An analyst takes the incident in the portal: new etag, owner, status Active.
        try server.post("/_control/incident_edit", ["id": Self.incidentId, "status": "Active",
                                                     "owner": ["objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "email": "analyst@contoso.example"]])
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: ["a1", "a3"], severity: "critical", revision: 3)])
        requests = try server.list("incident_requests")
        let tail = requests.suffix(3).map { "\($0["method"]!) \($0["status"]!)" }
        #expect(tail == ["PUT 409", "GET 200", "PUT 200"])
        let p = try #require(try incident(server)["properties"] as? [String: Any])
        #expect(p["status"] as? String == "Active")        // the analyst's status is kept
        #expect((p["owner"] as? [String: Any])?["email"] as? String == "analyst@contoso.example")
        #expect(p["severity"] as? String == "High")        // critical → High

        // Closing: status Closed with a classification.
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: ["a1", "a3"], status: "Closed", revision: 4)])
        let closed = try #require(try incident(server)["properties"] as? [String: Any])
        #expect(closed["status"] as? String == "Closed")
        #expect(closed["classification"] as? String == "Undetermined")

        // A stale revision (an old retry) is ignored.
        let before = try server.list("incident_requests").count
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: ["a1"], revision: 2)])
        #expect(try server.list("incident_requests").count == before)
    }

    @Test func aRestartedSinkReadsTheIncidentBeforeWritingIt() throws {
        let server = try LocalAzureServer()
        try makeSink(server).deliver([Payloads.incident(Self.incidentId, alerts: ["a1"], revision: 1)])
        try server.post("/_control/incident_edit", ["id": Self.incidentId, "status": "Active",
                                                     "owner": ["objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "email": "analyst@contoso.example"]])
        // A new process knows no etag: it GETs, so the PUT keeps the analyst's work (no blind overwrite).
        try makeSink(server).deliver([Payloads.incident(Self.incidentId, alerts: ["a1", "a2"], revision: 2)])
        let tail = try server.list("incident_requests").suffix(2).map { "\($0["method"]!) \($0["status"]!)" }
        #expect(tail == ["GET 200", "PUT 200"])
        let p = try #require(try incident(server)["properties"] as? [String: Any])
        #expect(p["status"] as? String == "Active")
        #expect((p["owner"] as? [String: Any])?["email"] as? String == "analyst@contoso.example")
    }

    @Test func anAlertBeforeItsIncidentIsDeferredThenCommented() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        let lonely = Payloads.alert("lonely", incidentId: Self.incidentId, row: 1)
        let e = try #require(throws: DeliveryError.self) { try sink.deliver([lonely]) }
        #expect(e.disposition == .deferred)                            // not delivered, not a failure
        #expect(e.delivered.isEmpty)
        #expect(e.reason.contains(Self.incidentId) && e.reason.contains("404"))
        #expect(try comments(server).isEmpty)
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: ["other"], row: 2)])
        try sink.deliver([lonely])                                     // the outbox's retry
        #expect(try comments(server)[SentinelIncidentsSink.commentId(alertId: "lonely")] != nil)
    }

    @Test func inOneBatchTheIncidentGoesBeforeItsAlerts() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try sink.deliver([Payloads.alert("first", incidentId: Self.incidentId, row: 1),
                          Payloads.incident(Self.incidentId, alerts: ["first"], row: 2)])
        #expect(try comments(server).count == 1)
        let commentPuts = try server.list("incident_requests").filter { $0["comment"] as? String != nil }
        #expect(commentPuts.map { $0["status"] as? Int } == [201])   // no 404 first: the incident was written first
    }

    @Test func onlyTheAlertsWithoutTheirIncidentAreDeferred() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: [], row: 1)])
        let missing = "0b5d7c1e-4f3a-4e2b-9c8d-7a6b5c4d3e2f"
        let e = try #require(throws: DeliveryError.self) {
            try sink.deliver([Payloads.alert("w", incidentId: missing, row: 2), Payloads.alert("ok", incidentId: Self.incidentId, row: 3)])
        }
        #expect(e.disposition == .deferred)
        #expect(e.delivered == [3] && e.deferred == [2])
        #expect(try comments(server).count == 1)

        // A failure after a deferral: the error names both, each with its own reason.
        try server.fault(["match": SentinelIncidentsSink.commentId(alertId: "ok2"), "status": 500, "count": 1])
        let mixed = try #require(throws: DeliveryError.self) {
            try sink.deliver([Payloads.alert("w", incidentId: missing, row: 2), Payloads.alert("ok2", incidentId: Self.incidentId, row: 4)])
        }
        #expect(mixed.disposition == .retry(retryAfter: nil) && mixed.reason.contains("500"))
        #expect(mixed.delivered.isEmpty && mixed.deferred == [2])
        #expect(mixed.deferredReason?.contains(missing) == true)
    }

    @Test func aRestartedSinkCommentsAlertsOfIncidentsFromAnEarlierRun() throws {
        let server = try LocalAzureServer()
        try makeSink(server).deliver([Payloads.incident(Self.incidentId, alerts: ["a0"], row: 1)])
        // New process: nothing in memory. An alert naming the incident is commented directly.
        let restarted = try makeSink(server)
        try restarted.deliver([Payloads.alert("after-restart", incidentId: Self.incidentId, row: 2)])
        #expect(try comments(server)[SentinelIncidentsSink.commentId(alertId: "after-restart")] != nil)
        // The producer's shape: the alert row carries no incident id (no request for it); the next
        // incident revision row embeds it and writes its comment.
        let before = try server.list("incident_requests").count
        let plain = Payloads.alert("plain", row: 3)
        try restarted.deliver([plain])
        #expect(try server.list("incident_requests").count == before)
        try makeSink(server).deliver([Payloads.incident(Self.incidentId, alerts: ["a0", "plain"], revision: 2, newAlerts: [plain], row: 4)])
        #expect(try comments(server)[SentinelIncidentsSink.commentId(alertId: "plain")] != nil)
    }

    @Test func aCommentNotFoundIsDeferredThenWritten() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: [], row: 1)])
        try server.fault(["match": "/comments/", "status": 404, "count": 1,
                          "body": ["error": ["code": "NotFound", "message": "Incident does not exist."]]])
        let alert = Payloads.alert("flaky", incidentId: Self.incidentId, row: 2)
        let e = try #require(throws: DeliveryError.self) { try sink.deliver([alert]) }
        #expect(e.disposition == .deferred)
        try sink.deliver([alert])
        #expect(try comments(server).count == 1)
    }

    @Test func aCommentOfTheIncidentRowThatFailsRetriesTheRow() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        let a = Payloads.alert("a1", row: 1)
        let inc = Payloads.incident(Self.incidentId, alerts: ["a1"], newAlerts: [a], row: 2)
        try server.fault(["match": "/comments/", "status": 503, "count": 1])
        let e = try #require(throws: DeliveryError.self) { try sink.deliver([a, inc]) }
        #expect(e.disposition == .retry(retryAfter: nil))
        #expect(e.delivered == [1])                                    // the alert row needs nothing; the incident row waits
        try sink.deliver([inc])
        #expect(try comments(server).count == 1)
    }

    @Test func throttlingAndErrorsMapToDispositions() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        try server.fault(["match": "/incidents/", "status": 429, "headers": ["Retry-After": "3"], "count": 1])
        let e = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.incident(Self.incidentId, alerts: [])]) }
        #expect(e.disposition == .retry(retryAfter: 3))
        try server.fault(["match": "/incidents/", "status": 500, "count": 1])
        let e5 = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.incident(Self.incidentId, alerts: [])]) }
        #expect(e5.disposition == .retry(retryAfter: nil))
        try server.fault(["match": "/incidents/", "status": 401, "count": 1,
                          "body": ["error": ["code": "AuthenticationFailed", "message": "expired"]]])
        try sink.deliver([Payloads.incident(Self.incidentId, alerts: [])])   // 401 → new token → success
        #expect(try server.list("token_requests").count == 2)
        try server.fault(["match": "/incidents/", "status": 400, "count": 1,
                          "body": ["error": ["code": "BadRequest", "message": "Invalid severity"]]])
        let bad = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.incident(Self.incidentId, alerts: [], revision: 2, row: 7)]) }
        #expect(bad.disposition == .permanent)
        #expect(bad.reason.contains("Invalid severity"))
    }

    @Test func commentsAreBounded() throws {
        let server = try LocalAzureServer()
        let sink = try makeSink(server)
        let huge = (0..<40).map { _ in "\"" + String(repeating: "z", count: 2_000) + "\"" }
        let big = Payloads.alert("big", evidence: huge, row: 1)
        try sink.deliver([big, Payloads.incident(Self.incidentId, alerts: ["big"], newAlerts: [big], row: 2)])
        let c = try comments(server)
        let message = (((c.values.first as? [String: Any])?["properties"] as? [String: Any])?["message"] as? String) ?? ""
        #expect(message.utf8.count <= 30_000)
        #expect(message.contains("omitted"))
    }
}
