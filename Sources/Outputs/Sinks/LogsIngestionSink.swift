// Azure Monitor Logs Ingestion API (DCR-based): alerts → Custom-VigilAlerts_CL, incidents →
// Custom-VigilIncidents_CL (column sets in deploy/dcr/, documented in docs/outputs.md).
//
// POST {endpoint}/dataCollectionRules/{dcr_immutable_id}/streams/{stream}?api-version=2023-01-01
// with a gzip JSON array. Each call's *uncompressed* body stays ≤ 1,048,576 bytes (the documented
// limit applies to both forms; the SDKs chunk before compressing, so do we). 204 = accepted.
// 413 → split and resend; 401 → new token, once; 408/429/5xx → retry (Retry-After); other 4xx →
// permanent with the response body. Logs Ingestion has no idempotency key: a retried batch after a
// lost 204 duplicates rows (at-least-once; `AlertId`/`IncidentId`+`Revision` identify them).
import EventModel
import FastJSON
import Logging
import Synchronization

public struct LogsIngestionConfiguration: Sendable, Equatable {
    /// DCE logs-ingestion URL or the DCR's own `logsIngestion` endpoint.
    public var endpoint: String
    /// `dcr-` + 32 hex characters (the DCR's `immutableId`, not its ARM id).
    public var dcrImmutableId: String
    /// Input stream for alerts; nil skips alerts.
    public var alertsStreamName: String?
    /// Input stream for incidents; nil skips incidents.
    public var incidentsStreamName: String?
    public var apiVersion: String
    public var scope: String
    /// Largest uncompressed request body.
    public var maxRequestBytes: Int
    public var gzip: Bool
    public var maxBatch: Int
    public var http: HTTPClientConfiguration
    public var credential: AzureCredentialConfiguration

    public static let defaultAlertsStream = "Custom-VigilAlerts_CL"
    public static let defaultIncidentsStream = "Custom-VigilIncidents_CL"

    public init(endpoint: String, dcrImmutableId: String, alertsStreamName: String? = defaultAlertsStream,
                incidentsStreamName: String? = defaultIncidentsStream, apiVersion: String = "2023-01-01",
                scope: String = AzureScope.monitor, maxRequestBytes: Int = 1_048_576, gzip: Bool = true, maxBatch: Int = 500,
                http: HTTPClientConfiguration = HTTPClientConfiguration(), credential: AzureCredentialConfiguration = AzureCredentialConfiguration()) {
        self.endpoint = endpoint
        self.dcrImmutableId = dcrImmutableId
        self.alertsStreamName = alertsStreamName
        self.incidentsStreamName = incidentsStreamName
        self.apiVersion = apiVersion
        self.scope = scope
        self.maxRequestBytes = maxRequestBytes
        self.gzip = gzip
        self.maxBatch = maxBatch
        self.http = http
        self.credential = credential
    }

    /// Keys: endpoint, dcr_immutable_id, alerts_stream_name, incidents_stream_name ("" disables),
    /// api_version, scope, max_request_bytes, gzip, max_batch, credential, + HTTP keys.
    init(reading r: inout ConfigReader) throws(ConfigError) {
        self.init(endpoint: try r.requiredString("endpoint"), dcrImmutableId: try r.requiredString("dcr_immutable_id"))
        if r.has("alerts_stream_name") { alertsStreamName = try r.string("alerts_stream_name").flatMap { $0.isEmpty ? nil : $0 } }
        if r.has("incidents_stream_name") { incidentsStreamName = try r.string("incidents_stream_name").flatMap { $0.isEmpty ? nil : $0 } }
        if let v = try r.string("api_version") { apiVersion = v }
        if let v = try r.string("scope") { scope = v }
        if let v = try r.int("max_request_bytes") { maxRequestBytes = v }
        if let v = try r.bool("gzip") { gzip = v }
        if let v = try r.int("max_batch") { maxBatch = v }
        http = try r.httpConfiguration()
        credential = try r.credentialConfiguration()
        for key in ["alerts_stream_name", "incidents_stream_name"] { _ = try r.string(key) }
        if !dcrImmutableId.hasPrefix("dcr-") {
            throw ConfigError(path: r.sub("dcr_immutable_id"), message: "expected the DCR immutable id (dcr-<32 hex>), not its name or ARM id")
        }
        for s in [alertsStreamName, incidentsStreamName].compactMap({ $0 }) where !s.hasPrefix("Custom-") && !s.hasPrefix("Microsoft-") {
            throw ConfigError(path: r.sub("alerts_stream_name"), message: "stream '\(s)' must be a DCR input stream (Custom-…)")
        }
    }
}

public final class LogsIngestionSink: Sink, @unchecked Sendable {
    public let name: String
    public let configuration: LogsIngestionConfiguration
    public var maxBatch: Int { configuration.maxBatch }
    private let session: Mutex<AzureHTTPSession>
    private let logger: Logger
    private let clock: @Sendable () -> Double

    public init(name: String, configuration: LogsIngestionConfiguration, credential: any TokenCredential,
                logger: Logger = Logger(label: "vigil.sink.logs_ingestion"),
                clock: @escaping @Sendable () -> Double = wallClockSeconds) throws(ConfigError) {
        self.name = name
        self.configuration = configuration
        self.session = Mutex(try AzureHTTPSession(http: configuration.http, credential: credential, scope: configuration.scope, logger: logger))
        self.logger = logger
        self.clock = clock
    }

    struct Row { var rowId: Int64; var json: [UInt8] }

    public func deliver(_ batch: [OutboxItem]) throws(DeliveryError) {
        var streams: [(String, [Row])] = []
        var delivered: [Int64] = []
        var rejected: [String] = []
        let now = EventTime(nanoseconds: Int64(clock() * 1e9))
        for item in batch {
            let payload: SinkPayload
            do throws(DeliveryError) { payload = try SinkPayload.parse(item) } catch { rejected.append(error.reason); continue }
            let stream: String?
            let row: [UInt8]
            switch payload {
            case .alert(let a): stream = configuration.alertsStreamName; row = LogsIngestionRows.alert(a, now: now)
            case .incident(let i): stream = configuration.incidentsStreamName; row = LogsIngestionRows.incident(i, now: now)
            }
            guard let stream else { delivered.append(item.rowId); continue }   // kind not routed here
            if row.count + 2 > configuration.maxRequestBytes {
                rejected.append("outbox row \(item.rowId): row of \(row.count) bytes exceeds max_request_bytes \(configuration.maxRequestBytes)")
                continue
            }
            if let i = streams.firstIndex(where: { $0.0 == stream }) { streams[i].1.append(Row(rowId: item.rowId, json: row)) } else { streams.append((stream, [Row(rowId: item.rowId, json: row)])) }
        }
        try session.withLock { (s: inout AzureHTTPSession) throws(DeliveryError) in
            for (stream, rows) in streams {
                for chunk in LogsIngestionRows.chunks(rows, maxBytes: configuration.maxRequestBytes) {
                    try post(chunk, stream: stream, session: s, delivered: &delivered, rejected: &rejected)
                }
            }
        }
        if !rejected.isEmpty {
            throw DeliveryError(.permanent, rejected.joined(separator: "; "), delivered: delivered)
        }
    }

    private func post(_ rows: [Row], stream: String, session: AzureHTTPSession, delivered: inout [Int64], rejected: inout [String]) throws(DeliveryError) {
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (i, r) in rows.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: r.json)
        }
        body.append(UInt8(ascii: "]"))
        var endpoint = configuration.endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        let url = "\(endpoint)/dataCollectionRules/\(FormEncoding.percentEncode(configuration.dcrImmutableId))/streams/\(FormEncoding.percentEncode(stream))?api-version=\(configuration.apiVersion)"
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        var wire = body
        if configuration.gzip {
            wire = Gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        }
        let response = try session.send(HTTPRequest(method: "POST", url: url, headers: headers, body: wire))
        if response.isSuccess {
            delivered.append(contentsOf: rows.map(\.rowId))
            logger.debug("logs ingestion accepted", metadata: ["sink": "\(name)", "stream": "\(stream)", "rows": "\(rows.count)", "bytes": "\(body.count)", "wire_bytes": "\(wire.count)"])
            return
        }
        if response.status == 413 {
            if rows.count == 1 {
                rejected.append("outbox row \(rows[0].rowId): HTTP 413 \(response.bodyText)")
                return
            }
            logger.info("413 from logs ingestion: splitting batch", metadata: ["sink": "\(name)", "rows": "\(rows.count)", "bytes": "\(body.count)"])
            let mid = rows.count / 2
            try post(Array(rows[..<mid]), stream: stream, session: session, delivered: &delivered, rejected: &rejected)
            try post(Array(rows[mid...]), stream: stream, session: session, delivered: &delivered, rejected: &rejected)
            return
        }
        throw HTTPDelivery.failure(response, "logs ingestion \(stream)", delivered: delivered)
    }
}

/// Row shapes of the two custom tables (keep in step with deploy/dcr/*.json).
enum LogsIngestionRows {
    /// Evidence beyond this many bytes per row is dropped (Azure truncates values over 64 KB).
    static let evidenceBudget = 32 * 1024

    static func alert(_ a: AlertPayload, now: EventTime) -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        var first = true
        w.beginObject()
        w.field("TimeGenerated", first: &first); w.writeString(now.iso8601)
        w.field("AlertId", first: &first); w.writeString(a.id)
        if let t = a.time.flatMap(EventTime.init(parsing:)) { w.field("AlertTime", first: &first); w.writeString(t.iso8601) }
        w.field("RuleId", first: &first); w.writeString(a.ruleId)
        w.field("RuleTitle", first: &first); w.writeString(a.ruleTitle)
        w.field("Severity", first: &first); w.writeString(a.severity.sentinel)
        w.field("VigilSeverity", first: &first); w.writeString(a.severity.rawValue)
        w.field("Description", first: &first); w.writeString(truncated(a.description ?? "", maxBytes: 16 * 1024))
        stringArray(&w, "Tactics", a.tactics, &first)
        stringArray(&w, "Techniques", a.techniques, &first)
        entities(&w, a.entities, &first)
        w.field("Evidence", first: &first)
        w.beginArray()
        var used = 0
        var count = 0
        for e in a.evidenceJSON where used + e.utf8.count <= evidenceBudget {
            if count > 0 { w.comma() }
            w.raw(e)
            used += e.utf8.count
            count += 1
        }
        w.endArray()
        w.field("EvidenceCount", first: &first); w.raw(String(a.evidenceJSON.count))
        if let inc = a.incidentId { w.field("IncidentId", first: &first); w.writeString(inc) }
        w.endObject()
        return w.bytes
    }

    static func incident(_ i: IncidentPayload, now: EventTime) -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        var first = true
        w.beginObject()
        w.field("TimeGenerated", first: &first); w.writeString(now.iso8601)
        w.field("IncidentId", first: &first); w.writeString(i.id)
        w.field("Revision", first: &first); w.raw(String(i.revision))
        w.field("IncidentTitle", first: &first); w.writeString(i.title)
        w.field("Description", first: &first); w.writeString(truncated(i.description, maxBytes: 16 * 1024))
        w.field("Severity", first: &first); w.writeString(i.severity.sentinel)
        w.field("VigilSeverity", first: &first); w.writeString(i.severity.rawValue)
        w.field("Status", first: &first); w.writeString(i.status)
        if let t = i.firstActivity.flatMap(EventTime.init(parsing:)) { w.field("FirstActivityTime", first: &first); w.writeString(t.iso8601) }
        if let t = i.lastActivity.flatMap(EventTime.init(parsing:)) { w.field("LastActivityTime", first: &first); w.writeString(t.iso8601) }
        stringArray(&w, "Tactics", i.tactics, &first)
        stringArray(&w, "Techniques", i.techniques, &first)
        stringArray(&w, "AlertIds", i.alertIds, &first)
        stringArray(&w, "RuleIds", i.ruleIds, &first)
        w.field("AlertCount", first: &first); w.raw(String(i.alertIds.count))
        entities(&w, i.entities, &first)
        w.endObject()
        return w.bytes
    }

    private static func stringArray(_ w: inout JSONWriter, _ key: String, _ values: [String], _ first: inout Bool) {
        w.field(key, first: &first)
        w.beginArray()
        for (n, v) in values.enumerated() { if n > 0 { w.comma() }; w.writeString(v) }
        w.endArray()
    }

    /// `Entities` (dynamic) plus the flat columns analytics rules map 1:1 to Sentinel entities.
    private static func entities(_ w: inout JSONWriter, _ entities: [PayloadEntity], _ first: inout Bool) {
        w.field("Entities", first: &first)
        w.beginArray()
        for (n, e) in entities.enumerated() {
            if n > 0 { w.comma() }
            var f = true
            w.beginObject()
            w.field("kind", first: &f); w.writeString(e.kind)
            w.field("value", first: &f); w.writeString(e.value)
            w.endObject()
        }
        w.endArray()
        for (column, value) in entityColumns(entities) { w.field(column, first: &first); w.writeString(value) }
    }

    static func entityColumns(_ entities: [PayloadEntity]) -> [(String, String)] {
        var out: [(String, String)] = []
        let accounts = entities.filter { $0.kind.lowercased() == "account" }.map(\.value)
        if let upn = accounts.first(where: { $0.contains("@") }) { out.append(("AccountUPN", upn)) }
        if let oid = accounts.first(where: isGUID) { out.append(("AccountObjectId", oid)) }
        if let ip = entities.first("IP") { out.append(("SourceIP", ip)) }
        if let r = entities.first("AzureResource") { out.append(("AzureResourceId", r)) }
        if let h = entities.first("Host") { out.append(("HostName", h)) }
        if let u = entities.first("URL") { out.append(("Url", u)) }
        if let app = entities.first("CloudApplication") { out.append(("CloudApplication", app)) }
        return out
    }

    static func isGUID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) { if c != UInt8(ascii: "-") { return false } } else if !(c >= 48 && c <= 57 || c >= 97 && c <= 102 || c >= 65 && c <= 70) { return false }
        }
        return true
    }

    /// Packs rows greedily into arrays whose JSON text stays ≤ `maxBytes`.
    static func chunks(_ rows: [LogsIngestionSink.Row], maxBytes: Int) -> [[LogsIngestionSink.Row]] {
        var out: [[LogsIngestionSink.Row]] = []
        var current: [LogsIngestionSink.Row] = []
        var size = 2
        for r in rows {
            let add = r.json.count + (current.isEmpty ? 0 : 1)
            if !current.isEmpty && size + add > maxBytes {
                out.append(current)
                current = []
                size = 2
            }
            size += r.json.count + (current.isEmpty ? 0 : 1)
            current.append(r)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
