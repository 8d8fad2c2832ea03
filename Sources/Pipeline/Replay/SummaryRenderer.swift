import Detection
import EventModel
import FastJSON

/// The end-of-replay report: a table for people, JSON for machines (`--summary json`).
public enum SummaryRenderer {
    public static func text(_ s: ReplaySummary, incidents: [Incident]) -> String {
        var out = ""
        func line(_ t: String = "") { out += t + "\n" }
        let rate = s.elapsedSeconds > 0 ? Double(s.events) / s.elapsedSeconds : 0
        line("Replay finished in \(fmt(s.elapsedSeconds)) s: \(s.read.files) file(s), \(fmtBytes(s.read.bytesDecoded)), \(s.events) events (\(fmt(rate, digits: 0)) events/s, \(fmt(s.megabytesPerSecond, digits: 1)) MB/s)")
        if s.filesSkippedByTime > 0 { line("  \(s.filesSkippedByTime) export file(s) skipped by --from/--to") }
        if s.filesJoinedBehind > 0 {
            line("  \(s.filesJoinedBehind) file(s) opened after the merge had passed their start (more overlapping files than --max-open-files)")
        }
        line()
        line("Events by kind")
        for (k, n) in s.eventsByKind.sorted(by: { $0.value > $1.value }) { line("  \(pad(k, 16)) \(n)") }
        if s.read.filtered > 0 { line("  \(pad("(filtered)", 16)) \(s.read.filtered)") }
        line()
        if s.operationsAssembled > 0 { line("Operations assembled: \(s.operationsAssembled)") }
        if s.eventsHeld > 0 {
            line("Held in event time: \(s.eventsHeld) events, at most \(s.mostEventsHeld) at once"
                 + (s.mostOperationsOpen > 0 ? "; at most \(s.mostOperationsOpen) operation\(s.mostOperationsOpen == 1 ? "" : "s") open at once" : ""))
        }
        let bounds = s.evictions.all.filter { $0.count > 0 }.map { "\($0.count) \(words($0.kind))" }
        if !bounds.isEmpty { line("State bounds reached: " + bounds.joined(separator: ", ")) }
        if s.baselineUpdatesAlreadyLearned > 0 {
            line("Baselines: \(s.baselineUpdatesAlreadyLearned) event×baseline updates skipped (covered by what the baselines had learned)")
        }
        if s.lateEvents > 0 { line("Late events: \(s.lateEvents) (beyond the allowed lateness: seen by stateless rules only)") }
        line("Input errors: \(s.read.errorCount)")
        for (code, n) in s.read.errors.sorted(by: { $0.key < $1.key }) { line("  \(pad(code, 28)) \(n)") }
        line()
        line("Alerts: \(s.newAlerts) new" + (s.duplicateAlerts > 0 ? ", \(s.duplicateAlerts) already raised before" : ""))
        let order = Severity.allCases.reversed().map(\.rawValue)
        let sev = order.compactMap { k in s.alertsBySeverity[k].map { "\(k) \($0)" } }
        if !sev.isEmpty { line("  by severity: " + sev.joined(separator: ", ")) }
        for (rule, n) in s.alertsByRule.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            line("  \(pad(String(n), 5)) \(s.ruleTitles[rule] ?? rule)")
        }
        line()
        line("Incidents: \(s.incidentsCreated) new, \(s.incidentsUpdated) update(s)")
        for i in incidents.sorted(by: { ($0.severity, $0.firstActivity.nanoseconds) > ($1.severity, $1.firstActivity.nanoseconds) }) {
            line("  [\(i.severity.rawValue)] \(i.title)")
            line("     id \(i.id)  \(i.firstActivity.iso8601) → \(i.lastActivity.iso8601)  \(i.alertIds.count) alert(s)")
        }
        if let d = s.delivery {
            line()
            line("Delivery: \(d.delivered) delivered, \(d.deadLettered) dead-lettered, \(d.remaining) still queued" + (d.remaining > 0 ? " (see 'vigil outbox status')" : ""))
        }
        return out
    }

    /// An eviction kind in words.
    static func words(_ kind: StatefulStages.Evictions.Kind) -> String {
        switch kind {
        case .eventsReleasedEarly: return "events released early (event-time buffer full)"
        case .operationsForcedOut: return "operations emitted incomplete (assembler full)"
        case .closedOperationsForgotten: return "closed operations forgotten early (assembler's memory of them full)"
        case .correlationGroupsDropped: return "open correlation groups dropped"
        case .correlationEventsDropped: return "events dropped from full correlation groups"
        case .baselinesWrittenBack: return "baselines written back to the state store (memory cap; nothing lost)"
        case .operationsForgotten: return "operations forgotten early (the anomaly rules' operation cap)"
        case .operationsStoppedWaiting: return "incomplete operations that stopped waiting for their final record (cap)"
        }
    }

    public static func json(_ s: ReplaySummary) -> String {
        var w = JSONWriter()
        var first = true
        w.beginObject()
        w.field("elapsed_seconds", first: &first); w.raw(JSONWriter.format(s.elapsedSeconds))
        w.field("files", first: &first); w.raw(String(s.read.files))
        w.field("bytes_read", first: &first); w.raw(String(s.read.bytesRead))
        w.field("bytes_decoded", first: &first); w.raw(String(s.read.bytesDecoded))
        w.field("records", first: &first); w.raw(String(s.read.records))
        w.field("events", first: &first); w.raw(String(s.events))
        w.field("filtered", first: &first); w.raw(String(s.read.filtered))
        w.field("events_by_kind", first: &first); counts(s.eventsByKind, &w)
        w.field("errors_by_code", first: &first); counts(s.read.errors, &w)
        w.field("late_events", first: &first); w.raw(String(s.lateEvents))
        w.field("most_files_open", first: &first); w.raw(String(s.mostFilesOpen))
        w.field("files_joined_behind", first: &first); w.raw(String(s.filesJoinedBehind))
        w.field("operations_assembled", first: &first); w.raw(String(s.operationsAssembled))
        w.field("events_held", first: &first); w.raw(String(s.eventsHeld))
        w.field("events_held_without_record", first: &first); w.raw(String(s.eventsHeldWithoutRecord))
        w.field("operation_repeats_not_held", first: &first); w.raw(String(s.operationRepeatsNotHeld))
        w.field("baseline_updates_already_learned", first: &first); w.raw(String(s.baselineUpdatesAlreadyLearned))
        w.field("most_events_held", first: &first); w.raw(String(s.mostEventsHeld))
        w.field("most_operations_open", first: &first); w.raw(String(s.mostOperationsOpen))
        w.field("state_evictions", first: &first)
        w.beginObject()
        var firstBound = true
        for (kind, count) in s.evictions.all {
            w.field(kind.rawValue, first: &firstBound); w.raw(String(count))
        }
        w.endObject()
        w.field("alerts_new", first: &first); w.raw(String(s.newAlerts))
        w.field("alerts_duplicate", first: &first); w.raw(String(s.duplicateAlerts))
        w.field("alerts_by_rule", first: &first); counts(s.alertsByRule, &w)
        w.field("alerts_by_severity", first: &first); counts(s.alertsBySeverity, &w)
        w.field("incidents_created", first: &first); w.raw(String(s.incidentsCreated))
        w.field("incidents_updated", first: &first); w.raw(String(s.incidentsUpdated))
        w.field("incident_ids", first: &first)
        w.beginArray()
        for (i, id) in s.incidentIds.enumerated() { if i > 0 { w.comma() }; w.writeString(id) }
        w.endArray()
        if let d = s.delivery {
            w.field("delivery", first: &first)
            var f2 = true
            w.beginObject()
            w.field("delivered", first: &f2); w.raw(String(d.delivered))
            w.field("dead_lettered", first: &f2); w.raw(String(d.deadLettered))
            w.field("remaining", first: &f2); w.raw(String(d.remaining))
            w.endObject()
        }
        w.endObject()
        return w.text
    }

    private static func counts(_ d: [String: Int], _ w: inout JSONWriter) {
        var first = true
        w.beginObject()
        for (k, v) in d.sorted(by: { $0.key < $1.key }) { w.field(k, first: &first); w.raw(String(v)) }
        w.endObject()
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    static func fmt(_ v: Double, digits: Int = 2) -> String {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (v * p).rounded() / p
        if digits == 0 { return String(Int64(r)) }
        return String(r)
    }

    static func fmtBytes(_ b: Int64) -> String {
        let d = Double(b)
        if d >= 1e9 { return fmt(d / 1e9) + " GB" }
        if d >= 1e6 { return fmt(d / 1e6) + " MB" }
        if d >= 1e3 { return fmt(d / 1e3) + " KB" }
        return "\(b) B"
    }
}

/// A one-line progress bar on stderr, redrawn in place: bytes and files done, events/s, MB/s, ETA,
/// alerts so far. Only used when stderr is a terminal and --quiet is off.
public struct ProgressBar {
    private var lastDraw = 0.0
    public init() {}

    public mutating func draw(_ p: ReplayProgress, force: Bool = false) {
        guard force || p.elapsedSeconds - lastDraw >= 0.2 else { return }
        lastDraw = p.elapsedSeconds
        let frac = p.bytesTotal > 0 ? min(1, Double(p.bytesDone) / Double(p.bytesTotal)) : 0
        let width = 24
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let mbps = p.elapsedSeconds > 0 ? Double(p.bytesDone) / 1e6 / p.elapsedSeconds : 0
        let eps = p.elapsedSeconds > 0 ? Double(p.events) / p.elapsedSeconds : 0
        let eta = frac > 0 ? p.elapsedSeconds * (1 - frac) / frac : 0
        let text = "\r\(bar) \(SummaryRenderer.fmt(frac * 100, digits: 0))%  \(p.filesDone)/\(p.filesTotal) files  \(SummaryRenderer.fmtBytes(p.bytesDone))  \(SummaryRenderer.fmt(eps, digits: 0)) ev/s  \(SummaryRenderer.fmt(mbps, digits: 1)) MB/s  ETA \(SummaryRenderer.fmt(eta, digits: 0))s  alerts \(p.alerts)\u{1B}[K"
        StandardStreams.writeError(text)
    }

    public func finish() { StandardStreams.writeError("\r\u{1B}[K") }
}
