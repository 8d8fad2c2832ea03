import Detection
import EventModel
import StateStore

/// Where an event can be read again: a source key (`file:<fingerprint>`, `kafka:<topic>/<p>`), the
/// file generation, and the offset to restart from (the line's first byte, the message's offset).
struct Origin: Hashable, Comparable {
    var key: String
    var generation: Int
    var resume: Int64
    static func < (a: Origin, b: Origin) -> Bool { (a.generation, a.resume) < (b.generation, b.resume) }
}

/// The detection stage of `vigil run`: the one `DetectionStage`, plus a record of where each event
/// it still holds in event time came from.
///
/// Why: an event held in the event-time buffer has not been through correlation windows,
/// assembly or baselines yet, and a lifecycle record stays in the operation assembler until its
/// operation is emitted. If its source position were committed past it and the process died,
/// those would never see it (an open operation would be assembled without its Start's request
/// body). So a source's checkpoint never passes the earliest event still held (`earliestHeld`); a
/// restart re-reads from there and the alerts table absorbs the repeats (a re-read operation is
/// assembled from the same records, so under the same id). Events no stateful consumer wants are
/// done on arrival and never held.
final class TrackedDetection: HeldEventObserver {
    let stage: DetectionStage
    private var current: Origin?
    private var held: [UInt64: [Origin]] = [:]
    private var heldByKey: [String: [Origin: Int]] = [:]

    init(stage: DetectionStage) {
        self.stage = stage
        stage.observer = self
    }

    convenience init(rules: RuleSetup, database: StateDatabase, latenessSeconds: Int64, operationTimeoutSeconds: Int64? = nil) {
        self.init(stage: rules.makeDetection(database: database, latenessSeconds: latenessSeconds,
                                             operationTimeoutSeconds: operationTimeoutSeconds))
    }

    func process(_ event: Event, from origin: Origin) -> [Alert] {
        current = origin
        defer { current = nil }
        return stage.process(event)
    }

    /// The earliest position of `key` whose events are not all through detection yet.
    func earliestHeld(_ key: String) -> Origin? { heldByKey[key]?.keys.min() }

    var heldEvents: Int { held.values.reduce(0) { $0 + $1.count } }

    func held(_ event: Event) {
        guard let origin = current else { return }
        held[event.id, default: []].append(origin)
        heldByKey[origin.key, default: [:]][origin, default: 0] += 1
    }

    func released(_ id: UInt64) {
        guard var list = held[id], !list.isEmpty else { return }
        let origin = list.removeFirst()
        held[id] = list.isEmpty ? nil : list
        if let n = heldByKey[origin.key]?[origin] {
            heldByKey[origin.key]![origin] = n > 1 ? n - 1 : nil
            if heldByKey[origin.key]!.isEmpty { heldByKey[origin.key] = nil }
        }
    }

    /// Writes changed correlation windows and, with `baselines`, the learned baselines; call inside
    /// the batch's transaction (`DetectionStage.saveState`).
    func saveState(baselines: Bool = true) throws { try stage.saveState(baselines: baselines) }

    /// Whether anomaly rules learn baselines here.
    var learnsBaselines: Bool { stage.learnsBaselines }
    var baselineSaveWanted: Bool { stage.baselineSaveWanted }

    func drainDiagnostics() -> [Diagnostic] { stage.drainDiagnostics() }
}
