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
    /// Where open correlation windows are kept between runs (nil: they live and die with this stage).
    private let correlationStore: CorrelationStore?
    public private(set) var eventsSeen = 0
    public private(set) var eventsDetected = 0

    /// - Parameter correlationStore: restores the open correlation windows saved there, and
    ///   `saveState()` keeps them up to date.
    public init(engine: Engine, stateful: StatefulStages, correlationStore: CorrelationStore? = nil) {
        self.engine = engine
        self.stateful = stateful
        self.correlationStore = engine.correlator == nil ? nil : correlationStore
        if let correlationStore, let correlator = engine.correlator { pendingDiagnostics += correlator.resume(from: correlationStore) }
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
        // Windows still open at the end of input: with a correlation store, only those whose
        // timespan has ended are judged, the rest are saved for the next run; without one, every
        // lt/lte/eq/neq window is judged now.
        alerts += correlationStore == nil ? engine.finish() : (engine.correlator?.finishKeepingOpenWindows() ?? [])
        return alerts
    }

    /// Writes learned baselines and changed correlation windows; call inside the transaction that
    /// commits the batch's alerts.
    public func saveState() throws {
        try stateful.anomaly.save()
        if let correlationStore { try engine.correlator?.save(to: correlationStore) }
    }

    /// Late events and baseline-store problems found since the last call.
    public func drainDiagnostics() -> [Diagnostic] {
        var out = pendingDiagnostics + stateful.buffer.lateDiagnostics()
        pendingDiagnostics = []
        out += stateful.anomaly.drainDiagnostics()
        return out
    }

    public var operationsAssembled: Int { stateful.assembler.stats.emittedComplete + stateful.assembler.stats.emittedIncomplete }
    public var lateEvents: Int { stateful.buffer.stats.late }
}
