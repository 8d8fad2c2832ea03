import EventModel
import FastJSON

/// The JSON text the outbox carries and `vigil incidents … --format json` prints.
public enum IncidentJSON {
    /// `{"type":"incident","id":…,"revision":…,"title":…,…,"alerts":[…]}`, one line.
    ///
    /// `alertIds` always lists every alert; `alerts` lists the given ones, as given. In the outbox those
    /// are the alerts added by this revision, each with `"new":true` and its `evidence` (sinks add a
    /// comment per new alert). Alerts not in `withEvidence` are summaries without evidence.
    /// `incidents show --format json` passes all alerts, all with evidence.
    public static func incidentJSON(_ incident: Incident, alerts: [Alert], withEvidence: Set<String> = []) -> String {
        var w = JSONWriter(capacity: 1024)
        var first = true
        w.beginObject()
        w.field("type", first: &first); w.writeString("incident")
        w.field("id", first: &first); w.writeString(incident.id)
        w.field("revision", first: &first); w.raw(String(incident.revision))
        w.field("title", first: &first); w.writeString(incident.title)
        w.field("description", first: &first); w.writeString(incident.description)
        w.field("severity", first: &first); w.writeString(incident.severity.rawValue)
        w.field("sentinelSeverity", first: &first); w.writeString(incident.severity.sentinel)
        w.field("status", first: &first); w.writeString(incident.status.rawValue)
        w.field("firstActivityTime", first: &first); w.writeString(incident.firstActivity.iso8601)
        w.field("lastActivityTime", first: &first); w.writeString(incident.lastActivity.iso8601)
        w.field("tactics", first: &first); strings(incident.tactics, &w)
        w.field("techniques", first: &first); strings(incident.techniques, &w)
        w.field("entities", first: &first); entities(incident.entities, &w)
        w.field("ruleIds", first: &first); strings(incident.ruleIds, &w)
        w.field("alertIds", first: &first); strings(incident.alertIds, &w)
        var controls: [String] = []
        for a in alerts { for c in a.baselineControls where !controls.contains(c) { controls.append(c) } }
        w.field("baselineControls", first: &first); strings(controls, &w)
        w.field("alerts", first: &first)
        w.beginArray()
        for (n, a) in alerts.enumerated() {
            if n > 0 { w.comma() }
            alertFields(a, evidence: withEvidence.contains(a.id), &w)
        }
        w.endArray()
        w.endObject()
        return w.text
    }

    /// `{"type":"alert","id":…}` with every field and its evidence: the payload for alerts when the
    /// detection stage does not supply its own.
    public static func alertJSON(_ alert: Alert) -> String {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.key("type"); w.writeString("alert"); w.comma()
        w.key("id"); w.writeString(alert.id); w.comma()
        alertBody(alert, evidence: true, &w)
        w.endObject()
        return w.text
    }

    private static func alertFields(_ a: Alert, evidence: Bool, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.writeString(a.id); w.comma()
        if evidence { w.key("new"); w.raw("true"); w.comma() }
        alertBody(a, evidence: evidence, &w)
        w.endObject()
    }

    /// Fields after `id`, without braces.
    private static func alertBody(_ a: Alert, evidence: Bool, _ w: inout JSONWriter) {
        var first = true
        w.field("ruleId", first: &first); w.writeString(a.ruleId)
        w.field("ruleTitle", first: &first); w.writeString(a.ruleTitle)
        w.field("severity", first: &first); w.writeString(a.severity.rawValue)
        w.field("time", first: &first); w.writeString(a.time.iso8601)
        if let d = a.description { w.field("description", first: &first); w.writeString(d) }
        w.field("source", first: &first); w.writeString(a.position.description)
        w.field("tactics", first: &first); strings(a.tactics, &w)
        w.field("techniques", first: &first); strings(a.techniques, &w)
        w.field("entities", first: &first); entities(a.entities, &w)
        w.field("eventIds", first: &first); strings(a.eventIds, &w)
        if evidence { w.field("evidence", first: &first); strings(a.evidence, &w) }
    }

    private static func strings(_ values: [String], _ w: inout JSONWriter) {
        w.beginArray()
        for (n, v) in values.enumerated() {
            if n > 0 { w.comma() }
            w.writeString(v)
        }
        w.endArray()
    }

    private static func entities(_ values: [Entity], _ w: inout JSONWriter) {
        w.beginArray()
        for (n, e) in values.enumerated() {
            if n > 0 { w.comma() }
            w.beginObject()
            w.key("kind"); w.writeString(e.kind.rawValue); w.comma()
            w.key("value"); w.writeString(e.value)
            w.endObject()
        }
        w.endArray()
    }
}
