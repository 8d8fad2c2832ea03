import Detection
import EventModel
import StateStore

/// Everything that turns events into alerts, in the order it must run:
/// event-time reordering → operation assembly → anomaly baselines, and the Sigma engine on every
/// record and assembled operation the stateful stages release (late records included, so a
/// stateless rule never misses an event for arriving late).
public final class DetectionStage {
    private var engine: Engine
    private var stateful: StatefulStages
    private var pendingDiagnostics: [Diagnostic] = []
    public private(set) var eventsSeen = 0
    public private(set) var eventsDetected = 0

    public init(engine: Engine, stateful: StatefulStages) {
        self.engine = engine
        self.stateful = stateful
    }

    public func process(_ event: Event) -> [Alert] {
        eventsSeen += 1
        var released: [(event: Event, late: Bool)] = []
        var alerts = stateful.push(event) { e, late in released.append((e, late)) }
        // Late events reach stateless rules only, never correlation windows that already answered.
        for (e, late) in released { alerts += late ? engine.processLate(e) : engine.process(e) }
        eventsDetected += released.count
        return alerts
    }

    /// End of input: releases what the buffer and assembler still hold.
    public func finish() -> [Alert] {
        var released: [Event] = []
        var alerts = stateful.finish { e, _ in released.append(e) }
        for e in released { alerts += engine.process(e) }
        eventsDetected += released.count
        // Windows still open at the end of input (lt/lte/eq/neq correlations) are judged now.
        alerts += engine.finish()
        return alerts
    }

    /// Writes learned baselines; call inside the transaction that commits the batch's alerts.
    public func saveState() throws { try stateful.anomaly.save() }

    /// Late events and baseline-store problems found since the last call.
    public func drainDiagnostics() -> [Diagnostic] {
        var out = stateful.buffer.lateDiagnostics()
        out += stateful.anomaly.drainDiagnostics()
        return out
    }

    public var operationsAssembled: Int { stateful.assembler.stats.emittedComplete + stateful.assembler.stats.emittedIncomplete }
    public var lateEvents: Int { stateful.buffer.stats.late }
}
