// Microsoft Sentinel incidents through the SecurityInsights REST API (ARM).
//
// - An incident revision → PUT …/incidents/{id}. The id is Vigil's deterministic incident id, so
//   a replay or retry updates the same incident (idempotent).
// - ETags: the body carries the last etag we saw for that incident. On 409/412 (someone else
//   changed it) we GET the incident, keep what analysts own (owner, classification, a status they
//   moved forward, their labels) and PUT again with the fresh etag.
// - Each alert becomes a comment on its incident: PUT …/comments/{uuid(alert id)}, so re-sending
//   the same alert rewrites the same comment instead of adding another.
// - A row is delivered only when what it carries is on the server. An incident revision row carries
//   the alerts it added (the producer embeds them, `"new":true`): it is delivered once the incident
//   and those comments are written. An alert row that names its incident (`incidentId`) is commented
//   directly; while the incident does not exist (404) the row is *deferred* and stays in the outbox
//   (see `DeliveryError.Disposition.deferred`). An alert row without `incidentId` needs no request:
//   its comment travels with the incident revision row that added it, committed in the same
//   transaction. Within a batch, incident rows go before alert rows.
// - In memory only caches, bounded (`cacheCapacity`): etags and analyst fields per incident (a miss
//   costs a GET before the PUT, so a restart never overwrites an analyst's edits) and comments known
//   to be written (a miss costs a repeated, idempotent PUT). Nothing waits in memory.
// Thread-safety: all state sits behind one Mutex; deliver calls are serialised.
import EventModel
import FastJSON
import Logging
import Synchronization

public struct SentinelIncidentsConfiguration: Sendable, Equatable {
    public var subscriptionId: String
    public var resourceGroupName: String
    public var workspaceName: String
    /// ARM endpoint (sovereign clouds differ).
    public var endpoint: String
    public var apiVersion: String
    public var scope: String
    /// Bound on one comment's message (UTF-8 bytes).
    public var commentMaxBytes: Int
    public var descriptionMaxBytes: Int
    /// Labels added to every incident.
    public var labels: [String]
    public var maxBatch: Int
    public var http: HTTPClientConfiguration
    public var credential: AzureCredentialConfiguration

    public init(subscriptionId: String, resourceGroupName: String, workspaceName: String,
                endpoint: String = "https://management.azure.com", apiVersion: String = "2025-12-01",
                scope: String = AzureScope.management, commentMaxBytes: Int = 30_000, descriptionMaxBytes: Int = 5_000,
                labels: [String] = ["vigil"], maxBatch: Int = 50,
                http: HTTPClientConfiguration = HTTPClientConfiguration(), credential: AzureCredentialConfiguration = AzureCredentialConfiguration()) {
        self.subscriptionId = subscriptionId
        self.resourceGroupName = resourceGroupName
        self.workspaceName = workspaceName
        self.endpoint = endpoint
        self.apiVersion = apiVersion
        self.scope = scope
        self.commentMaxBytes = commentMaxBytes
        self.descriptionMaxBytes = descriptionMaxBytes
        self.labels = labels
        self.maxBatch = maxBatch
        self.http = http
        self.credential = credential
    }

    /// Keys: subscription_id, resource_group_name, workspace_name, endpoint, api_version, scope,
    /// comment_max_bytes, description_max_bytes, label, max_batch, credential, + HTTP keys.
    init(reading r: inout ConfigReader) throws(ConfigError) {
        self.init(subscriptionId: try r.requiredString("subscription_id"), resourceGroupName: try r.requiredString("resource_group_name"),
                  workspaceName: try r.requiredString("workspace_name"))
        if let v = try r.string("endpoint") { endpoint = v }
        if let v = try r.string("api_version") { apiVersion = v }
        if let v = try r.string("scope") { scope = v }
        if let v = try r.int("comment_max_bytes") { commentMaxBytes = v }
        if let v = try r.int("description_max_bytes") { descriptionMaxBytes = v }
        if let v = try r.string("label") { labels = v.isEmpty ? [] : [v] }
        if let v = try r.int("max_batch") { maxBatch = v }
        http = try r.httpConfiguration()
        credential = try r.credentialConfiguration()
    }

    var baseURL: String {
        var e = endpoint
        while e.hasSuffix("/") { e.removeLast() }
        return "\(e)/subscriptions/\(subscriptionId)/resourceGroups/\(resourceGroupName)/providers/Microsoft.OperationalInsights/workspaces/\(workspaceName)/providers/Microsoft.SecurityInsights"
    }
}

public final class SentinelIncidentsSink: Sink, @unchecked Sendable {
    public let name: String
    public let configuration: SentinelIncidentsConfiguration
    public var maxBatch: Int { configuration.maxBatch }
    private let logger: Logger

    /// What we last saw of an incident on the server.
    struct Known {
        var etag: String?
        var revision: Int = 0
        var status: String?
        /// Analyst-owned properties as JSON text, carried into our PUTs.
        var owner: String?
        var classification: String?
        var classificationReason: String?
        var classificationComment: String?
        var userLabels: [String] = []
    }

    struct State {
        var session: AzureHTTPSession
        /// What we last saw of each incident on the server.
        var incidents = BoundedCache<String, Known>(capacity: SentinelIncidentsSink.cacheCapacity)
        /// Comments known to be on the server, as "incident id/comment id".
        var commented = BoundedCache<String, Bool>(capacity: SentinelIncidentsSink.cacheCapacity)
    }
    private let state: Mutex<State>
    static let cacheCapacity = 20_000

    /// Whether a comment could be written.
    enum CommentOutcome { case written, incidentMissing }

    public init(name: String, configuration: SentinelIncidentsConfiguration, credential: any TokenCredential,
                logger: Logger = Logger(label: "vigil.sink.sentinel")) throws(ConfigError) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        state = Mutex(State(session: try AzureHTTPSession(http: configuration.http, credential: credential, scope: configuration.scope, logger: logger)))
    }

    public func deliver(_ batch: [OutboxItem]) throws(DeliveryError) {
        var delivered: [Int64] = []
        var deferred: [Int64] = []
        var waitingFor: [String] = []
        var rejected: [String] = []
        var incidents: [(OutboxItem, IncidentPayload)] = []
        var alerts: [(item: OutboxItem, alert: AlertPayload, incidentId: String)] = []
        for item in batch {
            do throws(DeliveryError) {
                switch try SinkPayload.parse(item) {
                case .incident(let inc): incidents.append((item, inc))
                case .alert(let a):
                    if let incidentId = a.incidentId {
                        alerts.append((item, a, incidentId))
                    } else {
                        // The comment is written by the incident revision row that added the alert
                        // (same commit, still in the outbox): nothing to send for this row.
                        delivered.append(item.rowId)
                    }
                }
            } catch { rejected.append(error.reason) }
        }
        try state.withLock { (s: inout State) throws(DeliveryError) in
            do throws(DeliveryError) {
                // Incidents first: a comment needs its incident on the server.
                for (item, inc) in incidents {
                    try upsert(inc, &s)
                    for a in inc.newAlerts {
                        guard try comment(a, on: inc.id, &s) == .written else {
                            throw DeliveryError(.retry(retryAfter: nil),
                                                "incident \(inc.id) was not found right after it was written (HTTP 404 on the comment for alert \(a.id))")
                        }
                    }
                    delivered.append(item.rowId)
                }
                for (item, a, incidentId) in alerts {
                    if try comment(a, on: incidentId, &s) == .incidentMissing {
                        deferred.append(item.rowId)
                        if !waitingFor.contains(incidentId) { waitingFor.append(incidentId) }
                    } else {
                        delivered.append(item.rowId)
                    }
                }
            } catch {
                var e = error
                e.delivered = delivered
                e.deferred = deferred
                e.deferredReason = Self.waitReason(deferred.count, waitingFor)
                throw e
            }
        }
        if !rejected.isEmpty {
            throw DeliveryError(.permanent, rejected.joined(separator: "; "), delivered: delivered, deferred: deferred,
                                deferredReason: Self.waitReason(deferred.count, waitingFor))
        }
        if !deferred.isEmpty {
            logger.debug("alerts deferred until their incident exists", metadata: ["sink": "\(name)", "incident_id": "\(waitingFor.joined(separator: ","))"])
            throw DeliveryError(.deferred, Self.waitReason(deferred.count, waitingFor), delivered: delivered, deferred: deferred)
        }
    }

    static func waitReason(_ count: Int, _ incidents: [String]) -> String {
        let shown = incidents.prefix(3).joined(separator: ", ") + (incidents.count > 3 ? " and \(incidents.count - 3) more" : "")
        return "\(count) alert comment(s) wait for incident \(shown), not in Sentinel yet (HTTP 404)"
    }

    // MARK: incidents

    private func upsert(_ inc: IncidentPayload, _ s: inout State) throws(DeliveryError) {
        let url = "\(configuration.baseURL)/incidents/\(inc.id)?api-version=\(configuration.apiVersion)"
        var known: Known
        if let cached = s.incidents.value(for: inc.id) {
            known = cached
        } else {
            // Not seen by this process (new, restarted, or forgotten by the cache): read what the server
            // holds first, so a PUT never overwrites an analyst's owner, status or labels.
            known = try read(inc.id, url: url, over: Known(), &s)
        }
        if inc.revision < known.revision {
            logger.debug("stale incident revision skipped", metadata: ["incident_id": "\(inc.id)", "revision": "\(inc.revision)"])
            return
        }
        var attempt = 0
        while true {
            attempt += 1
            let body = incidentBody(inc, known: known)
            let response = try s.session.send(HTTPRequest(method: "PUT", url: url, headers: [("Content-Type", "application/json")], body: body))
            if response.isSuccess {
                known.revision = inc.revision
                absorb(response, into: &known)
                s.incidents.insert(known, for: inc.id)
                logger.info("sentinel incident upserted", metadata: ["sink": "\(name)", "incident_id": "\(inc.id)", "revision": "\(inc.revision)", "status": "\(response.status)"])
                break
            }
            guard response.status == 409 || response.status == 412, attempt < 4 else {
                throw HTTPDelivery.failure(response, "PUT incident \(inc.id)")
            }
            logger.info("sentinel etag conflict: re-reading incident", metadata: ["incident_id": "\(inc.id)", "attempt": "\(attempt)"])
            known = try read(inc.id, url: url, over: known, &s)
        }
    }

    /// GETs the incident: its etag and analyst fields over `known`, or a fresh `Known` (keeping the
    /// revision) when it does not exist.
    private func read(_ id: String, url: String, over known: Known, _ s: inout State) throws(DeliveryError) -> Known {
        let current = try s.session.send(HTTPRequest(method: "GET", url: url))
        if current.status == 404 { return Known(revision: known.revision) }
        guard current.isSuccess else { throw HTTPDelivery.failure(current, "GET incident \(id)") }
        var updated = known
        absorb(current, into: &updated)
        return updated
    }

    /// Remembers the server's etag and the properties analysts own.
    private func absorb(_ response: HTTPResponse, into known: inout Known) {
        guard let doc = try? JSONDocument.parse(response.body) else {
            known.etag = response.header("ETag")
            return
        }
        let root = doc.root
        known.etag = root["etag"]?.string ?? response.header("ETag")
        guard let p = root["properties"] else { return }
        known.status = p["status"]?.string
        known.owner = p["owner"].flatMap { $0.type == .object ? $0.jsonText : nil }
        known.classification = p["classification"]?.string
        known.classificationReason = p["classificationReason"]?.string
        known.classificationComment = p["classificationComment"]?.string
        known.userLabels = p["labels"]?.children.compactMap { l in
            l["labelType"]?.string == "User" ? l["labelName"]?.string : nil
        } ?? []
    }

    func incidentBody(_ inc: IncidentPayload, known: Known) -> [UInt8] {
        // Never move an incident backwards: an analyst's Active or Closed wins over our New.
        var status = ["New", "Active", "Closed"].contains(inc.status) ? inc.status : "New"
        if status == "New", let server = known.status, server == "Active" || server == "Closed" { status = server }
        var w = JSONWriter(capacity: 1024)
        var first = true
        w.beginObject()
        if let etag = known.etag { w.field("etag", first: &first); w.writeString(etag) }
        w.field("properties", first: &first)
        var f = true
        w.beginObject()
        w.field("title", first: &f); w.writeString(truncated(inc.title, maxBytes: 256))
        w.field("description", first: &f); w.writeString(truncated(inc.description, maxBytes: configuration.descriptionMaxBytes))
        w.field("severity", first: &f); w.writeString(inc.severity.sentinel)
        w.field("status", first: &f); w.writeString(status)
        if status == "Closed" {
            w.field("classification", first: &f); w.writeString(known.classification ?? "Undetermined")
            if let r = known.classificationReason { w.field("classificationReason", first: &f); w.writeString(r) }
            w.field("classificationComment", first: &f); w.writeString(known.classificationComment ?? "Closed by Vigil")
        }
        if let owner = known.owner { w.field("owner", first: &f); w.raw(owner) }
        w.field("labels", first: &f)
        w.beginArray()
        var seen = Set<String>()
        let names = configuration.labels + inc.tactics + inc.techniques + inc.ruleIds.map { "rule:\($0)" } + known.userLabels
        for label in names where !label.isEmpty && seen.insert(label.lowercased()).inserted {
            if seen.count > 1 { w.comma() }
            var lf = true
            w.beginObject(); w.field("labelName", first: &lf); w.writeString(label); w.endObject()
        }
        w.endArray()
        if let t = inc.firstActivity.flatMap(EventTime.init(parsing:)) { w.field("firstActivityTimeUtc", first: &f); w.writeString(t.iso8601) }
        if let t = inc.lastActivity.flatMap(EventTime.init(parsing:)) { w.field("lastActivityTimeUtc", first: &f); w.writeString(t.iso8601) }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    // MARK: comments

    static func commentId(alertId: String) -> String { StableID.uuid(from: "vigil-comment|\(alertId)") }

    /// Writes the alert's comment on `incidentId` (once per process while the cache remembers it).
    /// A 404 means the incident does not exist (yet): the caller decides whether to wait or retry.
    private func comment(_ alert: AlertPayload, on incidentId: String, _ s: inout State) throws(DeliveryError) -> CommentOutcome {
        let cid = Self.commentId(alertId: alert.id)
        let key = "\(incidentId)/\(cid)"
        if s.commented.value(for: key) != nil { return .written }
        let url = "\(configuration.baseURL)/incidents/\(incidentId)/comments/\(cid)?api-version=\(configuration.apiVersion)"
        var w = JSONWriter(capacity: 2048)
        w.raw("{\"properties\":{\"message\":")
        w.writeString(commentMessage(alert))
        w.raw("}}")
        let response = try s.session.send(HTTPRequest(method: "PUT", url: url, headers: [("Content-Type", "application/json")], body: w.bytes))
        if response.status == 404 {
            s.incidents.removeValue(for: incidentId)
            return .incidentMissing
        }
        guard response.isSuccess else { throw HTTPDelivery.failure(response, "PUT comment for alert \(alert.id)") }
        s.commented.insert(true, for: key)
        return .written
    }

    func commentMessage(_ a: AlertPayload) -> String {
        var lines = ["Vigil alert: \(a.ruleTitle) [\(a.ruleId)]", "Severity: \(a.severity.sentinel)  Alert id: \(a.id)"]
        if let t = a.time { lines.append("Time: \(t)") }
        if let d = a.description, !d.isEmpty { lines.append(d) }
        if !a.tactics.isEmpty || !a.techniques.isEmpty { lines.append("ATT&CK: " + (a.tactics + a.techniques).joined(separator: ", ")) }
        if !a.entities.isEmpty { lines.append("Entities: " + a.entities.map { "\($0.kind)=\($0.value)" }.joined(separator: ", ")) }
        var text = lines.joined(separator: "\n")
        if !a.evidence.isEmpty {
            text += "\nEvidence (\(a.evidence.count)):"
            for (n, e) in a.evidence.enumerated() {
                let piece = "\n[\(n + 1)] " + e
                if text.utf8.count + piece.utf8.count > configuration.commentMaxBytes - 64 {
                    text += "\n… \(a.evidence.count - n) more evidence item(s) omitted"
                    break
                }
                text += piece
            }
        }
        return truncated(text, maxBytes: configuration.commentMaxBytes)
    }
}
