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
        // The producer (Incidents/IncidentJSON.swift) writes camelCase keys; snake_case and the nested
        // `rule` object are accepted too, for payloads written by other tools or older versions.
        func str(_ keys: String...) -> String? { keys.lazy.compactMap { r[$0]?.scalarText }.first }
        func list(_ keys: String...) -> [String] {
            keys.lazy.compactMap { r[$0]?.children.compactMap { $0.scalarText } }.first ?? []
        }
        let entities = r["entities"]?.children.compactMap { e -> PayloadEntity? in
            guard let k = e["kind"]?.string, let v = e["value"]?.scalarText else { return nil }
            return PayloadEntity(kind: k, value: v)
        } ?? []
        let severity = str("severity").flatMap { Severity(lenient: $0) } ?? .medium
        let type = str("type") ?? item.kind.rawValue
        switch type {
        case "alert":
            let rule = r["rule"]
            return .alert(AlertPayload(
                id: str("id") ?? item.objectId,
                ruleId: rule?["id"]?.scalarText ?? str("ruleId", "rule_id") ?? "",
                ruleTitle: rule?["title"]?.scalarText ?? str("ruleTitle", "rule_title") ?? "",
                severity: severity, tactics: list("tactics"), techniques: list("techniques"), entities: entities,
                time: str("time"), description: str("description"),
                evidence: r["evidence"]?.children.map { $0.type == .string ? ($0.string ?? "") : $0.jsonText } ?? [],
                evidenceJSON: r["evidence"]?.children.map { $0.jsonText } ?? [],
                incidentId: str("incidentId", "incident_id")))
        case "incident":
            return .incident(IncidentPayload(
                id: str("id") ?? item.objectId, title: str("title") ?? "Vigil incident", description: str("description") ?? "",
                severity: severity, status: str("status") ?? "New", tactics: list("tactics"), techniques: list("techniques"),
                entities: entities, alertIds: list("alertIds", "alert_ids"), ruleIds: list("ruleIds", "rule_ids"),
                firstActivity: str("firstActivityTime", "first_activity"), lastActivity: str("lastActivityTime", "last_activity"),
                revision: r["revision"]?.int64.map { Int($0) } ?? item.revision))
        default:
            throw DeliveryError(.permanent, "outbox row \(item.rowId): unknown payload type '\(type)'")
        }
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
