import Detection
import EventModel
import StateStore

/// Told when an event enters the event-time path and when that path is done with it. `vigil run`
/// keeps, per source, the earliest position still held, so a checkpoint never passes an event that
/// has not been through stateful detection yet (`TrackedDetection`).
public protocol HeldEventObserver: AnyObject {
    /// `event` was buffered: stateful detection has not seen it yet.
    func held(_ event: Event)
    /// The event with this id is done: released in event-time order and through the consumers,
    /// found late, or flushed at the end; a lifecycle record once its operation is assembled (a
    /// restart that resumed past an open operation's Start would assemble it without its body).
    func released(_ id: UInt64)
}

/// Everything that turns events into alerts, on two paths (docs/ARCHITECTURE.md §4):
///
/// - **Arrival**: every record meets the Sigma rules as it arrives (`Engine.detect`), so a
///   single-event rule alerts at once, late records included. Its alert id comes from rule and
///   record, so arrival order does not matter.
/// - **Event time** (`StatefulStages`): only the records stateful consumers need — matches of a
///   correlation's base rules (with their matched rules), what the anomaly rules read, lifecycle
///   records when something reads assembled operations — wait in the event-time buffer and are
///   released in order to correlation windows, operation assembly and baselines.
///
/// `replay` and `run`/`tail` use this one stage; `run` adds a `HeldEventObserver`.
public final class DetectionStage {
    private var engine: Engine
    private var stateful: StatefulStages
    private var pendingDiagnostics: [Diagnostic] = []
    /// Where open correlation windows are kept between runs (nil: they live and die with this stage).
    private let correlationStore: CorrelationStore?
    /// Told of every event entering and leaving the event-time buffer.
    public weak var observer: (any HeldEventObserver)?
    public private(set) var eventsSeen = 0
    /// Events that entered the event-time buffer.
    public private(set) var eventsBuffered = 0

    /// - Parameters:
    ///   - engine: the Sigma rules (stateless and correlations).
    ///   - anomaly: the anomaly rules' detector; nil or rule-less when there are none.
    ///   - operationTimeoutSeconds: how long an operation waits for its final record, in event
    ///     time (nil: the lateness).
    ///   - correlationStore: restores the open correlation windows saved there, and `saveState()`
    ///     keeps them up to date.
    public init(engine: Engine, anomaly: AnomalyDetector?, latenessSeconds: Int64 = 900, operationTimeoutSeconds: Int64? = nil,
                correlationStore: CorrelationStore? = nil) {
        self.engine = engine
        let detector = (anomaly?.rules.isEmpty ?? true) ? nil : anomaly
        let timeout = Self.operationTimeout(latenessSeconds: latenessSeconds, configured: operationTimeoutSeconds)
        stateful = StatefulStages(buffer: EventTimeBuffer(latenessSeconds: latenessSeconds),
                                  assembler: OperationAssembler(configuration: .init(timeoutSeconds: timeout)),
                                  anomaly: detector, engine: engine)
        self.correlationStore = engine.correlator == nil ? nil : correlationStore
        if let correlationStore, let correlator = engine.correlator { pendingDiagnostics += correlator.resume(from: correlationStore) }
        if timeout <= 0 && stateful.assemblesOperations {
            pendingDiagnostics.append(Diagnostic(.warning, code: "detection.no-assembly",
                "operation timeout 0 (it follows the lateness unless set): each operation is emitted at its first record, so none is assembled and rules on assembled operations cannot alert; set detection.operation_timeout (or --operation-timeout), e.g. 15m",
                at: SourceLocation(file: "config")))
        }
    }

    /// How long an operation waits for its final record, in event time: the configured timeout,
    /// by default one lateness (docs/detections.md).
    public static func operationTimeout(latenessSeconds: Int64, configured: Int64?) -> Int64 {
        configured ?? latenessSeconds
    }

    public func process(_ event: Event) -> [Alert] {
        eventsSeen += 1
        let arrival = engine.detect(event)
        var alerts = arrival.alerts
        guard stateful.isActive else { return alerts }
        alerts += stateful.take(event, feeding: arrival.feeding, held: { held in
            eventsBuffered += 1
            observer?.held(held)
        }, released: { observer?.released($0) })
        return alerts
    }

    /// Whether the events the event-time path is done with are kept for `takeRetired()`, so the
    /// caller frees them on the thread that decoded them (replay); off, they are freed here.
    public var retiresEvents: Bool {
        get { stateful.retiresEvents }
        set { stateful.retiresEvents = newValue }
    }

    /// The events the event-time path is done with since the last call (`retiresEvents`).
    public func takeRetired() -> [Event] { stateful.takeRetired() }

    /// End of input: releases what the buffer and assembler still hold and judges open windows.
    public func finish() -> [Alert] {
        // Windows still open at the end of input: with a correlation store, only those whose
        // timespan has ended are judged, the rest are saved for the next run; without one, every
        // lt/lte/eq/neq window is judged now.
        stateful.finish(keepOpenWindows: correlationStore != nil) { observer?.released($0) }
    }

    /// Writes changed correlation windows and, with `baselines`, the learned baselines; call inside
    /// the transaction that commits the batch's alerts. A caller that leaves the baselines out must
    /// not move its source checkpoints in that transaction either (a restart from them would miss
    /// what was learned since the last save).
    public func saveState(baselines: Bool = true) throws {
        if baselines { try stateful.anomaly?.save() }
        if let correlationStore { try engine.correlator?.save(to: correlationStore) }
    }

    /// Late events, baseline-store and restored-window problems found since the last call.
    public func drainDiagnostics() -> [Diagnostic] {
        var out = pendingDiagnostics + stateful.buffer.lateDiagnostics()
        pendingDiagnostics = []
        out += stateful.anomaly?.drainDiagnostics() ?? []
        return out
    }

    /// Whether anomaly rules learn baselines here (what `saveState(baselines:)` writes).
    public var learnsBaselines: Bool { stateful.anomaly != nil }
    /// Whether the baselines ask to be saved at the next commit, before their regular time
    /// (`AnomalyDetector.saveWanted`).
    public var baselineSaveWanted: Bool { stateful.anomaly?.saveWanted ?? false }

    /// Whether anything runs in event time (correlations, anomaly rules, rules on assembled operations).
    public var usesEventTime: Bool { stateful.isActive }
    public var operationsAssembled: Int { stateful.operationsAssembled }
    public var lateEvents: Int { stateful.buffer.stats.late }
    /// Events held in event time without their record (`StatefulStages.heldWithoutRecord`).
    public var eventsHeldWithoutRecord: Int { stateful.heldWithoutRecord }
    /// Lifecycle records not held at all (`StatefulStages.repeatsNotHeld`).
    public var operationRepeatsNotHeld: Int { stateful.repeatsNotHeld }
    /// Most events the event-time buffer held at once: with `mostOperationsOpen`, what the lateness
    /// window and the operation timeout keep in memory at the input's density.
    public var mostEventsHeld: Int { stateful.buffer.stats.maxBuffered }
    /// Most operations open in the assembler at once.
    public var mostOperationsOpen: Int { stateful.assembler.stats.maxOpen }
    /// Event×baseline updates skipped because the stored baseline had learned the event already
    /// (`AnomalyDetector.Stats.updatesAlreadyLearned`).
    public var baselineUpdatesAlreadyLearned: Int { stateful.anomaly?.stats.updatesAlreadyLearned ?? 0 }
    /// What the state bounds have cost so far (`StatefulStages.Evictions`).
    public var evictions: StatefulStages.Evictions { stateful.evictions }
}
