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

/// The detection stage of `vigil run`: the same stages as `DetectionStage` (event-time reordering →
/// operation assembly → anomaly baselines → Sigma engine), plus a record of the events the
/// stateful stages still hold and where each came from.
///
/// Why: an event held in the event-time buffer has produced no alert yet. If its source position
/// were committed past it and the process died, the event would be lost. So a source's checkpoint
/// never passes the earliest event still held (`earliestHeld`); a restart re-reads from there and
/// the alerts table absorbs the repeats.
final class TrackedDetection {
    private var engine: Engine
    private var stateful: StatefulStages
    private var held: [UInt64: [Origin]] = [:]
    private var heldByKey: [String: [Origin: Int]] = [:]
    private let database: StateDatabase
    private var restoreDiagnostics: [Diagnostic] = []

    init(rules: RuleSetup, database: StateDatabase, latenessSeconds: Int64) {
        stateful = StatefulStages(
            buffer: EventTimeBuffer(latenessSeconds: latenessSeconds),
            assembler: OperationAssembler(configuration: .init(timeoutSeconds: latenessSeconds)),
            anomaly: AnomalyDetector(rules: rules.anomalyRules, store: database))
        engine = Engine(rules: rules.compiled, unknownKindMeetsAllRules: false)
        self.database = database
        // Open correlation windows saved by the last run; they are never force-judged at a stop.
        if let correlator = engine.correlator { restoreDiagnostics = correlator.resume(from: database) }
    }

    func process(_ event: Event, from origin: Origin) -> [Alert] {
        held[event.id, default: []].append(origin)
        heldByKey[origin.key, default: [:]][origin, default: 0] += 1
        var released: [(event: Event, late: Bool)] = []
        var alerts = stateful.push(event) { e, late in released.append((e, late)) }
        for (e, late) in released {
            release(e.id)
            // Late events reach stateless rules only, never correlation windows.
            alerts += late ? engine.processLate(e) : engine.process(e)
        }
        return alerts
    }

    /// The earliest position of `key` whose events are not all through detection yet.
    func earliestHeld(_ key: String) -> Origin? { heldByKey[key]?.keys.min() }

    var heldEvents: Int { held.values.reduce(0) { $0 + $1.count } }

    private func release(_ id: UInt64) {
        guard var list = held[id], !list.isEmpty else { return }
        let origin = list.removeFirst()
        held[id] = list.isEmpty ? nil : list
        if let n = heldByKey[origin.key]?[origin] {
            heldByKey[origin.key]![origin] = n > 1 ? n - 1 : nil
            if heldByKey[origin.key]!.isEmpty { heldByKey[origin.key] = nil }
        }
    }

    /// Writes learned baselines and changed correlation windows; call inside the batch's transaction.
    func saveState() throws {
        try stateful.anomaly.save()
        try engine.correlator?.save(to: database)
    }

    func drainDiagnostics() -> [Diagnostic] {
        defer { restoreDiagnostics = [] }
        return restoreDiagnostics + stateful.buffer.lateDiagnostics() + stateful.anomaly.drainDiagnostics()
    }
}
