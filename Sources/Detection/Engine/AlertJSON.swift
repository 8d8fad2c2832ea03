// Alerts as JSON lines: `{"type":"alert", …}`, one object per alert, the matched events inline.
import EventModel
import FastJSON

/// One alert as a single-line JSON object (the `--output jsonl` format).
public func alertJSON(_ alert: Alert) -> String {
    var out = "{\"type\":\"alert\",\"id\":"
    YAMLTree.quote(alert.id, into: &out)
    out += ",\"rule\":{\"id\":"
    YAMLTree.quote(alert.ruleId, into: &out)
    out += ",\"title\":"
    YAMLTree.quote(alert.ruleTitle, into: &out)
    out += "},\"severity\":"
    YAMLTree.quote(alert.severity.rawValue, into: &out)
    func list(_ xs: [String]) {
        out += "["
        for (i, x) in xs.enumerated() {
            if i > 0 { out += "," }
            YAMLTree.quote(x, into: &out)
        }
        out += "]"
    }
    out += ",\"tactics\":"; list(alert.tactics)
    out += ",\"techniques\":"; list(alert.techniques)
    out += ",\"entities\":["
    for (i, e) in alert.entities.enumerated() {
        if i > 0 { out += "," }
        out += "{\"kind\":"; YAMLTree.quote(e.kind.rawValue, into: &out)
        out += ",\"value\":"; YAMLTree.quote(e.value, into: &out)
        out += "}"
    }
    out += "],\"time\":"; YAMLTree.quote(alert.time.iso8601, into: &out)
    out += ",\"source\":"; YAMLTree.quote(alert.position.description, into: &out)
    out += ",\"description\":"
    if let d = alert.description { YAMLTree.quote(d, into: &out) } else { out += "null" }
    if !alert.baselineControls.isEmpty { out += ",\"baseline\":"; list(alert.baselineControls) }
    if !alert.groupBy.isEmpty {
        out += ",\"group_by\":"; list(alert.groupBy.map(\.rawValue))
        out += ",\"group_match\":\"\(alert.groupByAll ? "all" : "any")\""
    }
    out += ",\"event_ids\":"; list(alert.eventIds)
    out += ",\"evidence\":["
    for (i, e) in alert.evidence.enumerated() {
        if i > 0 { out += "," }
        // Evidence is the event's own JSON text: embed it as an object, not as a string.
        if (try? JSONDocument.parse(e)) != nil { out += e } else { YAMLTree.quote(e, into: &out) }
    }
    out += "]}"
    return out
}
