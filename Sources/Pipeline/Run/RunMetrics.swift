import Detection
import Outputs
import Synchronization

/// The counters and gauges `vigil run` serves at `GET /metrics` (Prometheus text format 0.0.4).
/// Written by the service loop and the outbox thread, read by the metrics server: all behind one lock.
public final class RunMetrics: Sendable {
    struct State {
        var eventsIn: [String: Int] = [:]
        var eventsOut: [String: Int] = [:]
        var decodeErrors: [String: Int] = [:]
        var sourceUp: [String: Bool] = [:]
        var sourceErrors: [String: Int] = [:]
        var fileLag: [String: [String: Int64]] = [:]
        var partitionLag: [String: [String: Int64]] = [:]
        var alerts: [String: Int] = [:]
        var incidentsChanged = 0
        var commits = 0
        var outboxDepth: [String: Int] = [:]
        var deliveryErrors: [String: Int] = [:]
        var delivered: [String: Int] = [:]
        var lastCommitUnix: Double = 0
        /// What the state bounds have cost so far (`StatefulStages.Evictions`).
        var stateEvictions = StatefulStages.Evictions()
        var lateEvents = 0
    }
    private let state = Mutex(State())

    public init() {}

    func update(_ body: (inout State) -> Void) { state.withLock { body(&$0) } }

    public func eventsIn(_ source: String) -> Int { state.withLock { $0.eventsIn[source] ?? 0 } }
    public func eventsOut(_ source: String) -> Int { state.withLock { $0.eventsOut[source] ?? 0 } }
    public func alerts(rule: String) -> Int { state.withLock { $0.alerts[rule] ?? 0 } }
    public var totalAlerts: Int { state.withLock { $0.alerts.values.reduce(0, +) } }
    public var commits: Int { state.withLock { $0.commits } }

    /// `(ok, text)` for `GET /healthz`: not ok while a source is failing.
    public var health: (ok: Bool, text: String) {
        let down = state.withLock { $0.sourceUp.filter { !$0.value }.keys.sorted() }
        return down.isEmpty ? (true, "ok") : (false, "degraded: failing source(s) \(down.joined(separator: ", ")) (see the logs)")
    }

    /// The Prometheus exposition text.
    public func render() -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels = sample.labels.isEmpty ? "" : "{" + sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(labels) \(sample.value)\n"
            }
        }
        func perSource(_ m: [String: Int]) -> [(labels: [(String, String)], value: String)] {
            m.keys.sorted().map { ([("source", $0)], String(m[$0]!)) }
        }
        family("vigil_source_events_in_total", "counter", "Records read per source (lines, messages).", perSource(s.eventsIn))
        family("vigil_source_events_out_total", "counter", "Events decoded and handed to detection per source.", perSource(s.eventsOut))
        family("vigil_source_decode_errors_total", "counter", "Input problems per source (not JSON, unknown shape).", perSource(s.decodeErrors))
        family("vigil_source_errors_total", "counter", "Source failures per source (unreachable broker, I/O).", perSource(s.sourceErrors))
        family("vigil_source_up", "gauge", "1 when the source's last poll succeeded.",
               s.sourceUp.keys.sorted().map { ([("source", $0)], s.sourceUp[$0]! ? "1" : "0") })
        var fileSamples: [(labels: [(String, String)], value: String)] = []
        for source in s.fileLag.keys.sorted() {
            for (file, lag) in s.fileLag[source]!.sorted(by: { $0.key < $1.key }) { fileSamples.append(([("source", source), ("file", file)], String(lag))) }
        }
        family("vigil_file_lag_bytes", "gauge", "Bytes behind the end of each tailed file.", fileSamples)
        var partitionSamples: [(labels: [(String, String)], value: String)] = []
        for source in s.partitionLag.keys.sorted() {
            for (p, lag) in s.partitionLag[source]!.sorted(by: { $0.key < $1.key }) { partitionSamples.append(([("source", source), ("partition", p)], String(lag))) }
        }
        family("vigil_partition_lag_messages", "gauge", "Messages behind the high watermark per owned partition.", partitionSamples)
        family("vigil_alerts_total", "counter", "New alerts per rule.", s.alerts.keys.sorted().map { ([("rule", $0)], String(s.alerts[$0]!)) })
        family("vigil_incident_revisions_total", "counter", "Incidents created or changed.", [([], String(s.incidentsChanged))])
        family("vigil_commits_total", "counter", "Batches committed (alerts + checkpoints in one transaction).", [([], String(s.commits))])
        family("vigil_last_commit_timestamp_seconds", "gauge", "Unix time of the last commit.", [([], String(s.lastCommitUnix))])
        family("vigil_state_evictions_total", "counter",
               "What the stateful bounds let go, by kind (docs/configuration.md lists the kinds and their caps).",
               s.stateEvictions.all.map { ([("kind", $0.kind.rawValue)], String($0.count)) })
        family("vigil_late_events_total", "counter",
               "Events behind the event-time watermark: they met the stateless rules only, no window, assembly or baseline.",
               [([], String(s.lateEvents))])
        family("vigil_outbox_depth", "gauge", "Outbox rows waiting per sink.", s.outboxDepth.keys.sorted().map { ([("sink", $0)], String(s.outboxDepth[$0]!)) })
        family("vigil_delivered_total", "counter", "Outbox rows accepted per sink.", s.delivered.keys.sorted().map { ([("sink", $0)], String(s.delivered[$0]!)) })
        family("vigil_delivery_errors_total", "counter", "Failed delivery attempts per sink.", s.deliveryErrors.keys.sorted().map { ([("sink", $0)], String(s.deliveryErrors[$0]!)) })
        return out
    }

    private func escape(_ v: String) -> String {
        var o = ""
        for c in v {
            switch c {
            case "\\": o += "\\\\"
            case "\"": o += "\\\""
            case "\n": o += "\\n"
            default: o.append(c)
            }
        }
        return o
    }
}

/// Counts a sink's deliveries and failures into `RunMetrics`; everything else passes through.
struct MeteredSink: Sink {
    let base: any Sink
    let metrics: RunMetrics
    var name: String { base.name }
    var maxBatch: Int { base.maxBatch }

    func deliver(_ batch: [OutboxItem]) throws(DeliveryError) {
        do {
            try base.deliver(batch)
            metrics.update { $0.delivered[name, default: 0] += batch.count }
        } catch {
            metrics.update {
                $0.deliveryErrors[name, default: 0] += 1
                $0.delivered[name, default: 0] += error.delivered.count
            }
            throw error
        }
    }

    func close() throws { try base.close() }
}
