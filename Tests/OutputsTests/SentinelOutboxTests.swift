import Foundation
@testable import Outputs
import StateStore
import Testing

/// The Sentinel sink behind the real outbox dispatcher: deferred comments wait in the state database,
/// not in memory, and never hold back the incident they wait for.
@Suite(.serialized, .enabled(if: LocalAzureServer.available, "python3 is not installed"))
struct SentinelOutboxTests {
    static let incidentId = SentinelIncidentsSinkTests.incidentId
    let clock = ManualOutboxClock()
    let folder = OutboxTemporaryFolder()

    func makeSink(_ server: LocalAzureServer, maxBatch: Int = 1) throws -> SentinelIncidentsSink {
        let config = SentinelIncidentsConfiguration(subscriptionId: "sub-1", resourceGroupName: "rg-sec", workspaceName: "law-sec",
                                                    endpoint: server.baseURL, maxBatch: maxBatch, http: server.http)
        return try SentinelIncidentsSink(name: "sentinel", configuration: config, credential: try server.credential())
    }

    func database(_ items: [OutboxItem]) throws -> StateDatabase {
        let db = try StateDatabase(path: folder.path("state.db"), clock: { [clock] in clock.now() })
        for item in items {
            try db.appendOutbox(kind: item.kind.rawValue, objectId: item.objectId, revision: item.revision, payload: item.payload)
        }
        return db
    }

    func dispatcher(_ db: StateDatabase, _ sink: any Sink, _ config: OutboxConfiguration = OutboxConfiguration()) throws -> OutboxDispatcher {
        try OutboxDispatcher(database: db, sinks: [sink], configuration: config, clock: clock, jitter: { $0 })
    }

    func comments(_ server: LocalAzureServer, _ incident: String = incidentId) throws -> [String: Any] {
        ((try server.state()["comments"] as? [String: Any])?[incident] as? [String: Any]) ?? [:]
    }

    @Test func anAlertInAnEarlierBatchThanItsIncidentIsCommentedOnceTheIncidentExists() throws {
        let server = try LocalAzureServer()
        // Batches of one: the alert goes alone, before its incident.
        let db = try database([Payloads.alert("early", incidentId: Self.incidentId),
                               Payloads.incident(Self.incidentId, alerts: ["early"])])
        let report = try dispatcher(db, try makeSink(server)).drain(until: clock.now() + 60)
        #expect(report.isComplete && report.delivered == 2 && report.deadLettered == 0)
        #expect(report.attemptsFailed == 0)                            // a deferral is not a failed attempt
        #expect(try comments(server)[SentinelIncidentsSink.commentId(alertId: "early")] != nil)
        #expect(clock.sleeps == [2])                                   // one short deferral, the incident did not wait
        #expect(try db.deadLetters().isEmpty)
    }

    @Test func aSinkRestartedBetweenIncidentAndAlertStillComments() throws {
        let server = try LocalAzureServer()
        let db = try database([Payloads.incident(Self.incidentId, alerts: ["a0"]),
                               Payloads.alert("late", incidentId: Self.incidentId)])
        let first = try dispatcher(db, try makeSink(server))
        #expect(try first.dispatchOnce().delivered == 1)               // the incident; then the process stops
        let report = try dispatcher(db, try makeSink(server)).drain(until: clock.now() + 60)
        #expect(report.isComplete && report.delivered == 1)
        #expect(try comments(server)[SentinelIncidentsSink.commentId(alertId: "late")] != nil)
    }

    @Test func aDeferredAlertWhoseIncidentNeverComesIsDeadLetteredWithItsReason() throws {
        let server = try LocalAzureServer()
        let missing = "0b5d7c1e-4f3a-4e2b-9c8d-7a6b5c4d3e2f"
        let db = try database([Payloads.alert("orphan", incidentId: missing), Payloads.incident(Self.incidentId, alerts: [])])
        let config = OutboxConfiguration(deferDelaySeconds: 2, maxDeferSeconds: 60)
        let report = try dispatcher(db, try makeSink(server), config).drain(until: clock.now() + 3600)
        #expect(report.isComplete && report.deadLettered == 1 && report.delivered == 1)
        let letter = try #require(try db.deadLetters().first)
        #expect(letter.objectId == "orphan")
        #expect(letter.attempts == 0)                                  // deferrals never counted as failures
        #expect(letter.reason.contains("limit: 60 s deferred"))
        #expect(letter.reason.contains(missing) && letter.reason.contains("404"))
        // Waits grow with the time waited (2, 2, 2, 3, 4.5, …), so a long wait costs few requests.
        #expect(clock.sleeps.prefix(5) == [2, 2, 2, 3, 4.5])
        #expect(clock.sleeps.reduce(0, +) >= 60 && clock.sleeps.count < 12)
        // `vigil outbox retry` puts it back; once the incident exists it is commented.
        #expect(try db.retryDeadLetters() == 1)
        try makeSink(server).deliver([Payloads.incident(missing, alerts: ["orphan"], row: 9)])
        #expect(try dispatcher(db, try makeSink(server), config).drain(until: clock.now() + 60).delivered == 1)
        #expect(try comments(server, missing).count == 1)
    }
}
