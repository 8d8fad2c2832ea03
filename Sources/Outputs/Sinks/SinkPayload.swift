// The outbox payloads (`{"type":"alert",…}` / `{"type":"incident",…}`) as the sinks read them.
import EventModel
import FastJSON

struct PayloadEntity: Sendable, Equatable {
    var kind: String
    var value: String
}

struct AlertPayload: Sendable {
    var id: String
    var ruleId: String
    var ruleTitle: String
    var severity: Severity
    var tactics: [String]
    var techniques: [String]
    var entities: [PayloadEntity]
    var time: String?
    var description: String?
    /// Each evidence item for people: a string item's text, else the item's compact JSON.
    var evidence: [String]
    /// Each evidence item as JSON text (strings quoted), for sinks that embed it as JSON.
    var evidenceJSON: [String]
    /// Set when the producer already knows the incident (`incident_id`), else nil.
    var incidentId: String?
}

struct IncidentPayload: Sendable {
    var id: String
    var title: String
    var description: String
    var severity: Severity
    var status: String
    var tactics: [String]
    var techniques: [String]
    var entities: [PayloadEntity]
    var alertIds: [String]
    var ruleIds: [String]
    var firstActivity: String?
    var lastActivity: String?
    var revision: Int
    /// The alerts that joined in this revision, in full (the producer embeds them in `alerts`, marked
    /// `"new":true` with their evidence), each with `incidentId` set to this incident.
    var newAlerts: [AlertPayload] = []
}

enum SinkPayload: Sendable {
    case alert(AlertPayload)
    case incident(IncidentPayload)

    /// Parses an outbox item; a malformed payload is a permanent failure of that item.
    static func parse(_ item: OutboxItem) throws(DeliveryError) -> SinkPayload {
        guard let doc = try? JSONDocument.parse(item.payload), doc.root.type == .object else {
            throw DeliveryError(.permanent, "outbox row \(item.rowId): payload is not a JSON object")
        }
        let r = doc.root
        let fields = PayloadFields(r)
        let type = fields.str("type") ?? item.kind.rawValue
        switch type {
        case "alert":
            return .alert(fields.alert(defaultId: item.objectId))
        case "incident":
            let id = fields.str("id") ?? item.objectId
            // Only the alerts this revision added carry their evidence; an alert listed without it
            // (`incidents show` lists them all) must not overwrite what was sent with it.
            var newAlerts: [AlertPayload] = []
            for a in r["alerts"]?.children ?? [] where a["new"]?.bool == true || a["evidence"] != nil {
                guard let alertId = a["id"]?.scalarText else { continue }
                var alert = PayloadFields(a).alert(defaultId: alertId)
                alert.incidentId = id
                newAlerts.append(alert)
            }
            return .incident(IncidentPayload(
                id: id, title: fields.str("title") ?? "Vigil incident", description: fields.str("description") ?? "",
                severity: fields.severity, status: fields.str("status") ?? "New", tactics: fields.list("tactics"),
                techniques: fields.list("techniques"), entities: fields.entities, alertIds: fields.list("alertIds", "alert_ids"),
                ruleIds: fields.list("ruleIds", "rule_ids"), firstActivity: fields.str("firstActivityTime", "first_activity"),
                lastActivity: fields.str("lastActivityTime", "last_activity"),
                revision: r["revision"]?.int64.map { Int($0) } ?? item.revision, newAlerts: newAlerts))
        default:
            throw DeliveryError(.permanent, "outbox row \(item.rowId): unknown payload type '\(type)'")
        }
    }
}

/// Field readers over one payload object. The producer (Incidents/IncidentJSON.swift) writes camelCase
/// keys; snake_case and the nested `rule` object are accepted too, for payloads written by other
/// tools or older versions.
private struct PayloadFields {
    let r: JSONValue
    init(_ r: JSONValue) { self.r = r }

    func str(_ keys: String...) -> String? { keys.lazy.compactMap { r[$0]?.scalarText }.first }
    func list(_ keys: String...) -> [String] {
        keys.lazy.compactMap { r[$0]?.children.compactMap { $0.scalarText } }.first ?? []
    }
    var entities: [PayloadEntity] {
        r["entities"]?.children.compactMap { e -> PayloadEntity? in
            guard let k = e["kind"]?.string, let v = e["value"]?.scalarText else { return nil }
            return PayloadEntity(kind: k, value: v)
        } ?? []
    }
    var severity: Severity { str("severity").flatMap { Severity(lenient: $0) } ?? .medium }

    func alert(defaultId: String) -> AlertPayload {
        let rule = r["rule"]
        return AlertPayload(
            id: str("id") ?? defaultId,
            ruleId: rule?["id"]?.scalarText ?? str("ruleId", "rule_id") ?? "",
            ruleTitle: rule?["title"]?.scalarText ?? str("ruleTitle", "rule_title") ?? "",
            severity: severity, tactics: list("tactics"), techniques: list("techniques"), entities: entities,
            time: str("time"), description: str("description"),
            evidence: r["evidence"]?.children.map { $0.type == .string ? ($0.string ?? "") : $0.jsonText } ?? [],
            evidenceJSON: r["evidence"]?.children.map { $0.jsonText } ?? [],
            incidentId: str("incidentId", "incident_id"))
    }
}

extension Array where Element == PayloadEntity {
    /// First value of an entity kind (case-insensitive kind match).
    func first(_ kind: String) -> String? {
        first(where: { $0.kind.lowercased() == kind.lowercased() })?.value
    }
}

/// Truncates to at most `maxBytes` UTF-8 bytes on a character boundary, marking the cut.
func truncated(_ s: String, maxBytes: Int) -> String {
    guard s.utf8.count > maxBytes else { return s }
    var out = ""
    var used = 0
    for ch in s {
        let n = ch.utf8.count
        if used + n > maxBytes - 3 { break }
        out.append(ch)
        used += n
    }
    return out + "…"
}
