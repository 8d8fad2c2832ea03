// The event-time path of detection: what stateful consumers need, reordered by event time, then,
// per released event and in this order: correlation windows, anomaly baselines, operation
// assembly; assembled operations meet the Sigma rules (both paths at once: they are already in
// event time).
//
// Stateless rules never wait here: `Pipeline.DetectionStage` runs them on each record as it
// arrives (`Engine.detect`) and pushes only the records this path wants (`wants`). Each consumer
// is on only when something uses it, so with no correlations, no anomaly rules and no rule on
// assembled operations nothing is buffered or assembled.
//
// Invariants:
// - Released events reach the consumers in the buffer's order (time, id, position): the same
//   multiset of wanted events gives the same alerts whatever their arrival order within the
//   lateness. A late event (behind the watermark) reaches no stateful consumer.
// - Every timed event moves the watermark, wanted or not (`advance`), so what counts as late is
//   the same as when every event was buffered.
// - Correlation windows and the assembler's timeouts move with released events' times only (not
//   the watermark), so what they emit does not depend on when the watermark moved.
// - Only operations a Sigma rule of kind `operation` can use are assembled (`relevantOperations`):
//   those the rules name, or every one when a rule names none. The lifecycle records of the others
//   are neither buffered nor assembled for it (they still move event time); the decision reads the
//   operation only, which is part of the assembly key, so a lifecycle is taken or left whole.
// - Anomaly rules that read operations see each operation once, as the first record of its
//   lifecycle in event time that they read (a subject and a scope in some space: `readsAsOperation`;
//   `OperationOnce` never hears of the others), with kind `operation`; never the assembled event.
//   A lifecycle record known on arrival to be a repeat of its operation, and wanted by nothing
//   else, is not held: `OperationOnce` keeps its time only (`repeatsNotHeld`).
import EventModel

public struct StatefulStages {
    /// Read its stats, watermark and late events here; push events through `take` or `push`, never
    /// into it directly: an event pushed straight in carries no `Arrival`, so `OperationOnce` never
    /// counts it when it comes out.
    public var buffer: EventTimeBuffer
    public var assembler: OperationAssembler
    public let anomaly: AnomalyDetector?
    /// The Sigma engine's event-time side: correlation windows and rules on assembled operations.
    /// A copy of the caller's engine shares its correlator and scratch (both are objects).
    public private(set) var engine: Engine?
    /// A Sigma rule of kind `operation` reads assembled operations.
    public let assemblesOperations: Bool
    /// Event kinds the anomaly rules look at (`AnomalyRule.eventKinds`), as `EventKindMask` bits
    /// (tested for every record: a bit test, not a hash of the kind's name).
    private let anomalyKinds: UInt16
    /// Some anomaly rule reads operations: they get each lifecycle's first record (`OperationOnce`).
    private let anomalyReadsOperations: Bool
    public private(set) var operationOnce: OperationOnce
    /// Events held without their record (`Hold.withoutRecord`).
    public private(set) var heldWithoutRecord = 0
    /// Lifecycle records known on arrival to be repeats of their operation, wanted by nothing
    /// else, so not held at all (`Hold.repeatOnly`); they still move event time.
    public private(set) var repeatsNotHeld = 0
    private let correlates: Bool
    /// With `retiresEvents`, the events released from the buffer since `takeRetired()`, so the caller
    /// can free them on the thread that made them (replay: `InputLane`). glibc's malloc serializes
    /// a thread's frees of another thread's memory with that thread's own allocations.
    private var retired: [Event] = []
    /// Whether released events are kept for `takeRetired()`, which the caller must then call
    /// regularly; off (and when turned off), they are freed here.
    public var retiresEvents = false {
        didSet { if !retiresEvents { retired = [] } }
    }
    /// The newest event time `take` was given, wanted or not: how far `finish` judges kept windows.
    private var newestRead: Int64 = .min
    /// Base-rule matches of buffered events, by record id (the same bytes match the same rules).
    private var feeding: [UInt64: (matched: [Int], count: Int)] = [:]

    public init(buffer: EventTimeBuffer = EventTimeBuffer(), assembler: OperationAssembler = OperationAssembler(),
                anomaly: AnomalyDetector?, engine: Engine? = nil) {
        self.buffer = buffer
        self.assembler = assembler
        self.anomaly = anomaly
        self.engine = engine
        let kinds = Set((anomaly?.rules ?? []).flatMap(\.eventKinds))
        anomalyKinds = EventKindMask.of(kinds)
        anomalyReadsOperations = kinds.contains(.operation)
        operationOnce = OperationOnce(timeoutSeconds: assembler.configuration.timeoutSeconds,
                                      capacity: assembler.configuration.maxClosedRemembered)
        correlates = engine?.hasCorrelations ?? false
        let relevant = Self.relevantOperations(engine: engine)
        assemblesOperations = relevant.map { !$0.isEmpty } ?? true
        if assemblesOperations { self.assembler.operations = relevant }
        isActive = correlates || !kinds.isEmpty || assemblesOperations
    }

    /// The lower-cased operations whose assembled events some Sigma rule can use; nil: every one.
    /// A rule meets an assembled operation through its kind's bucket (`CompiledRuleSet.candidates`:
    /// its exact operation, or any operation for rules that name none).
    static func relevantOperations(engine: Engine?) -> Set<String>? {
        guard let bucket = engine?.rules.buckets[.operation] else { return [] }
        if !bucket.unconstrained.isEmpty { return nil }
        return Set(bucket.byOperation.keys)
    }

    /// False when no consumer is on: nothing needs event time. (Stored: it is read for every record,
    /// and a stored property is read in place where a computed one copies the whole struct out of
    /// the class that holds it.)
    public let isActive: Bool

    /// What the consumers read of a held event that was worked out when it arrived, held with it
    /// in the buffer (`EventTimeBuffer.Held`): not worked out again when it is released.
    struct Arrival {
        /// The `OperationOnce` key (`operationKey`): set for a timed lifecycle record the anomaly
        /// rules read as its operation, on time.
        var operation: UInt64?

        static var none: Arrival { Arrival() }
    }

    /// One event as the pipeline hands it on: held when this path wants it (`held` is told first),
    /// else its time still moves event time (`advance`). Whether it is wanted and whether its
    /// record is kept are decided together (`Hold`), reading the lifecycle and asking the anomaly
    /// rules once. Returns the alerts `push` or `advance` gave.
    public mutating func take(_ event: Event, feeding: [Int] = [], held: (Event) -> Void = { _ in },
                              released: (UInt64) -> Void = { _ in }) -> [Alert] {
        if let t = event.time?.nanoseconds, t > newestRead { newestRead = t }
        let life = lifecycle(of: event)
        let operation = operationKey(event, life: life)
        let hold = self.hold(event, feeding: feeding, life: life, operation: operation)
        switch hold {
        case .no:
            guard let t = event.time else { return [] }
            return advance(to: t, released: released)
        case .repeatOnly:
            let t = event.time!
            arrived(operation, time: t)
            operationOnce.noteRepeat(key: operation!, time: t.nanoseconds, id: event.id)
            repeatsNotHeld += 1
            return advance(to: t, released: released)
        case .withRecord, .withoutRecord:
            held(event)
            arrived(operation, time: event.time)
            return push(event, Arrival(operation: operation), feeding: feeding, withRecord: hold == .withRecord, released: released)
        }
    }

    /// Whether this path needs `event`. `feeding`: the correlation base rules it matched
    /// (`Engine.detect`). Assembled operations are built inside this path, so for raw records the
    /// baselines are asked directly (`AnomalyDetector.interest(in:)`: a kind, a subject and a scope).
    /// `mutating` though it changes nothing: it runs for every record, and a non-mutating call on
    /// this struct held in a class (`DetectionStage`) copied the whole struct (every buffer, table
    /// and window) out and destroyed it again each time.
    public mutating func wants(_ event: Event, feeding: [Int] = []) -> Bool {
        let life = lifecycle(of: event)
        return hold(event, feeding: feeding, life: life, operation: operationKey(event, life: life)) != .no
    }

    /// How an event is taken: not at all, held without its record or with it, or (a known repeat of
    /// its operation, for `OperationOnce`) its time only.
    private enum Hold { case no, withoutRecord, withRecord, repeatOnly }

    /// Held with its record when it feeds a correlation (its evidence), the assembler takes it (the
    /// operation's bodies), or an anomaly rule may alert on it (its evidence) or reads it. Held
    /// without it when only the baselines learn from it: then only its typed fields are ever read
    /// here, and the record, most of a held event's memory, is dropped (on dense input the buffer
    /// holds thousands). Not held when the anomaly rules would meet it only as its operation, and
    /// it is surely not its operation's first record (`OperationOnce.isRepeat`).
    private mutating func hold(_ event: Event, feeding: [Int], life: OperationAssembler.Lifecycle?, operation: UInt64?) -> Hold {
        if !feeding.isEmpty || assemblerTakes(life) { return .withRecord }
        guard let anomaly else { return .no }
        if let operation, anomalyKinds & EventKindMask.bit(event.kind) == 0,
           operationOnce.isRepeat(key: operation, time: event.time!.nanoseconds) {
            return .repeatOnly
        }
        switch anomalyInterest(event, isLifecycle: life != nil, anomaly) {
        case .none: return .no
        case .learn: return anomaly.readsRecord ? .withRecord : .withoutRecord
        case .mayAlert: return .withRecord
        }
    }

    /// The key `OperationOnce` remembers a lifecycle record's operation by, when the anomaly rules
    /// read it as its operation (`readsAsOperation`) and it is on time (a late one reaches no
    /// stateful consumer).
    private func operationKey(_ event: Event, life: OperationAssembler.Lifecycle?) -> UInt64? {
        guard anomalyReadsOperations, let life, let t = event.time, !buffer.isLate(t), readsAsOperation(event) else { return nil }
        return OperationOnce.key(of: life)
    }

    /// Whether the anomaly rules read a lifecycle record as its operation: some space finds its
    /// subject and scope. Only such records count for `OperationOnce`, on arrival (`arrived`,
    /// `isRepeat`) and in event time (`isFirst`, with the key kept from arrival): a record they do
    /// not read is held or not depending on other consumers and on whether it arrives as a known
    /// repeat, so counting it would make what the baselines learn depend on the Sigma rules and on
    /// arrival order.
    private func readsAsOperation(_ event: Event) -> Bool {
        anomaly?.reads(event, as: .operation) ?? false
    }

    /// Tells `OperationOnce` that a record of `operation` is taken (held, or noted as a repeat).
    private mutating func arrived(_ operation: UInt64?, time: EventTime?) {
        guard let operation, let time else { return }
        operationOnce.arrived(key: operation, time: time.nanoseconds, watermark: buffer.watermark?.nanoseconds)
    }

    /// The lifecycle of `event`, when some consumer reads lifecycle records (else nil, unread).
    private func lifecycle(of event: Event) -> OperationAssembler.Lifecycle? {
        assemblesOperations || anomalyReadsOperations ? OperationAssembler.lifecycle(of: event) : nil
    }

    private mutating func assemblerTakes(_ life: OperationAssembler.Lifecycle?) -> Bool {
        guard let life, assemblesOperations else { return false }
        return assembler.takes(life)
    }

    /// What the anomaly rules could do with `event` as they meet it: as itself when they read its
    /// kind, and, for a lifecycle record, as its operation (`OperationOnce`); the larger of the two.
    private func anomalyInterest(_ event: Event, isLifecycle: Bool, _ anomaly: AnomalyDetector) -> AnomalyDetector.Interest {
        var interest = AnomalyDetector.Interest.none
        if anomalyKinds & EventKindMask.bit(event.kind) != 0 { interest = anomaly.interest(in: event) }
        if interest != .mayAlert && isLifecycle && anomalyReadsOperations {
            interest = max(interest, anomaly.interest(in: Self.asOperation(event)))
        }
        return interest
    }

    /// A lifecycle record standing for its operation (`OperationOnce`).
    private static func asOperation(_ event: Event) -> Event {
        var op = event
        op.kind = .operation
        return op
    }

    /// Takes one event this path wants. `released` is told the id of every event this path is
    /// done with: once it has left the buffer and been through the consumers, or, for a lifecycle
    /// record, once its operation is emitted (at once when `event` itself is late: check
    /// `buffer.stats.late`). Returns the alerts of correlations, of rules on assembled operations
    /// and of anomaly rules.
    public mutating func push(_ event: Event, feeding matched: [Int] = [], released: (UInt64) -> Void = { _ in }) -> [Alert] {
        let life = lifecycle(of: event)
        let operation = operationKey(event, life: life)
        let withRecord = hold(event, feeding: matched, life: life, operation: operation) != .withoutRecord
        arrived(operation, time: event.time)
        return push(event, Arrival(operation: operation), feeding: matched, withRecord: withRecord, released: released)
    }

    private mutating func push(_ event: Event, _ arrival: Arrival, feeding matched: [Int], withRecord: Bool,
                               released: (UInt64) -> Void) -> [Alert] {
        let lateBefore = buffer.stats.late
        if !matched.isEmpty { feeding[event.id, default: (matched, 0)].count += 1 }
        var alerts: [Alert] = []
        var out = Self.takeScratch(&releasedScratch)
        if withRecord {
            buffer.push(event, note: arrival, into: &out)
        } else {
            heldWithoutRecord += 1
            buffer.push(event.droppingRecord(), note: arrival, into: &out)
        }
        for e in out { alerts += ordered(e.event, e.note, released: released) }
        retire(&out)
        if buffer.stats.late != lateBefore {
            // Behind the watermark: the stateless rules saw it on arrival; no window, assembly or baseline will.
            if !matched.isEmpty {
                _ = takeFeeding(event.id)
                engine?.correlator?.noteLate()
            }
            released(event.id)
        }
        alerts += catchUp(released: released)
        return alerts
    }

    /// An event this path does not want still moves event time: releases what its time lets go.
    public mutating func advance(to time: EventTime, released: (UInt64) -> Void = { _ in }) -> [Alert] {
        var alerts: [Alert] = []
        var out = Self.takeScratch(&releasedScratch)
        buffer.advance(to: time, into: &out)
        for e in out { alerts += ordered(e.event, e.note, released: released) }
        retire(&out)
        alerts += catchUp(released: released)
        return alerts
    }

    /// Operation timeouts follow the watermark, not only the records released: a stream whose later
    /// records nothing here wants still closes its open operations. Every record still to come is at
    /// or after the watermark, so the assembler's clock never passes one it has not seen.
    private mutating func catchUp(released: (UInt64) -> Void) -> [Alert] {
        // Every event still held is at or after the watermark: the repeats before it come first.
        if anomalyReadsOperations, let mark = buffer.watermark { operationOnce.countRepeats(before: mark.nanoseconds) }
        guard assemblesOperations, let mark = buffer.watermark else { return [] }
        var ops = Self.takeScratch(&operationScratch)
        assembler.advance(to: mark, into: &ops)
        var alerts: [Alert] = []
        for op in ops { alerts += operation(op) }
        Self.putBack(&ops, into: &operationScratch)
        assembler.drainDoneRecords(released)
        return alerts
    }

    /// The arrays released events and assembled operations pass through, kept between calls so a
    /// record costs no array allocation; taken out while in use (`ordered` runs inside the loop
    /// over released events).
    private var releasedScratch: [EventTimeBuffer.Held] = []
    private var operationScratch: [Event] = []

    /// Done with the released events in `out`: kept for `takeRetired()` if asked, then `out` goes
    /// back to its scratch.
    private mutating func retire(_ out: inout [EventTimeBuffer.Held]) {
        if retiresEvents { for e in out { retired.append(e.event) } }
        Self.putBack(&out, into: &releasedScratch)
    }

    /// The events retired since the last call (`retiresEvents`).
    public mutating func takeRetired() -> [Event] {
        guard !retired.isEmpty else { return [] }
        var taken: [Event] = []
        taken.reserveCapacity(retired.count)
        swap(&taken, &retired)
        return taken
    }

    private static func takeScratch<T>(_ scratch: inout [T]) -> [T] {
        var a: [T] = []
        swap(&a, &scratch)
        return a
    }

    private static func putBack<T>(_ a: inout [T], into scratch: inout [T]) {
        a.removeAll(keepingCapacity: true)
        swap(&a, &scratch)
    }

    /// End of input: releases and assembles everything still held, judges open windows. With
    /// `keepOpenWindows`, only windows whose timespan ended by the last event time are judged; the
    /// rest stay open for the next run (they are persisted by the caller). The baselines are not
    /// saved here: the caller saves them in the transaction that commits these alerts
    /// (`AnomalyDetector.save()`), since a baseline durable before its alert could lose it.
    public mutating func finish(keepOpenWindows: Bool = false, released: (UInt64) -> Void = { _ in }) -> [Alert] {
        var alerts: [Alert] = []
        for e in buffer.flushHeld() { alerts += ordered(e.event, e.note, released: released) }
        operationOnce.countRepeats(before: .max)
        if assemblesOperations {
            for op in assembler.finish() { alerts += operation(op) }
            assembler.drainDoneRecords(released)
        }
        // Windows still open at the end of input (lt/lte/eq/neq correlations) are judged now,
        // or, when they are kept for the next run, only those whose timespan has ended by the
        // newest event read (a base-rule match or not: nothing earlier can come in this run).
        if keepOpenWindows {
            if newestRead > .min { alerts += engine?.advance(to: EventTime(nanoseconds: newestRead)) ?? [] }
            alerts += engine?.correlator?.finishKeepingOpenWindows() ?? []
        } else {
            alerts += engine?.finish() ?? []
        }
        return alerts
    }

    /// Assembled operations emitted so far.
    public var operationsAssembled: Int { assembler.stats.emittedComplete + assembler.stats.emittedIncomplete }

    /// What the state bounds have cost so far, cap by cap (each consumer counts its own).
    public struct Evictions: Sendable, Hashable {
        /// One cap's evictions; the raw value names it in `replay --summary json` and in `vigil
        /// run`'s metrics. Reported in this order.
        public enum Kind: String, CaseIterable, Sendable {
            /// Events the full event-time buffer let go before the watermark reached them.
            case eventsReleasedEarly = "events_released_early"
            /// Open operations the full assembler emitted as they stood (`Incomplete`).
            case operationsForcedOut = "operations_forced_out"
            /// Closed operations the assembler forgot at its cap, before their timeout (a
            /// straggler of one is assembled as a new operation).
            case closedOperationsForgotten = "closed_operations_forgotten"
            /// Correlation groups dropped while their window was open.
            case correlationGroupsDropped = "correlation_groups_dropped"
            /// Events dropped from full correlation groups (oldest first).
            case correlationEventsDropped = "correlation_events_dropped"
            /// Anomaly baselines written back and dropped from memory (read back when next needed).
            case baselinesWrittenBack = "baselines_written_back"
            /// Operations `OperationOnce` forgot at its cap while still heard from: a later record
            /// of one counts as a new operation.
            case operationsForgotten = "operations_forgotten"
            /// Operations emitted `Incomplete` that stopped waiting for their final record at the
            /// assembler's cap (`maxAwaitingCompletion`), before `completionSeconds`.
            case operationsStoppedWaiting = "operations_stopped_waiting"

            fileprivate var index: Int { Kind.allCases.firstIndex(of: self)! }
        }

        private var counts = [Int](repeating: 0, count: Kind.allCases.count)

        public init() {}

        public subscript(kind: Kind) -> Int {
            get { counts[kind.index] }
            set { counts[kind.index] = newValue }
        }

        /// Both counts added, kind by kind (several stages of one run).
        public static func + (a: Evictions, b: Evictions) -> Evictions {
            var e = a
            for kind in Kind.allCases { e[kind] += b[kind] }
            return e
        }

        /// Every count with its kind, in `Kind` order.
        public var all: [(kind: Kind, count: Int)] { Kind.allCases.map { ($0, self[$0]) } }
    }

    public var evictions: Evictions {
        var e = Evictions()
        e[.eventsReleasedEarly] = buffer.stats.evicted
        e[.operationsForcedOut] = assembler.stats.evicted
        e[.closedOperationsForgotten] = assembler.stats.closedForgotten
        e[.operationsStoppedWaiting] = assembler.stats.awaitingForgotten
        let correlations = engine?.correlationStats ?? CorrelationStats()
        e[.correlationGroupsDropped] = correlations.evictedGroups
        e[.correlationEventsDropped] = correlations.droppedEvents
        e[.baselinesWrittenBack] = (anomaly?.stats.profileEvictions ?? 0) + (anomaly?.stats.scopeEvictions ?? 0)
        e[.operationsForgotten] = operationOnce.stats.forgotten
        return e
    }

    /// One released event through the consumers; told to `released` unless the assembler keeps it
    /// (then it is told when its operation is emitted).
    private mutating func ordered(_ event: Event, _ arrival: Arrival, released: (UInt64) -> Void) -> [Alert] {
        var alerts: [Alert] = []
        if correlates {
            let matched = takeFeeding(event.id)
            if !matched.isEmpty {
                alerts += engine!.feedCorrelations(event, matched: matched)
            } else if let t = event.time {
                alerts += engine!.advance(to: t)
            }
        }
        if let anomaly {
            if anomalyKinds & EventKindMask.bit(event.kind) != 0 { alerts += anomaly.process(event) }
            if let key = arrival.operation, operationOnce.isFirst(key: key, time: event.time!.nanoseconds, id: event.id) {
                alerts += anomaly.process(Self.asOperation(event), learnedAs: key)
            }
        }
        guard assemblesOperations else {
            released(event.id)
            return alerts
        }
        var ops = Self.takeScratch(&operationScratch)
        let kept = assembler.process(event, into: &ops)
        for op in ops { alerts += operation(op) }
        Self.putBack(&ops, into: &operationScratch)
        if !kept { released(event.id) }
        assembler.drainDoneRecords(released)
        return alerts
    }

    /// An assembled operation is in event time already: every rule sees it now.
    private mutating func operation(_ op: Event) -> [Alert] {
        engine?.process(op) ?? []
    }

    private mutating func takeFeeding(_ id: UInt64) -> [Int] {
        guard let f = feeding[id] else { return [] }
        if f.count > 1 { feeding[id]!.count -= 1 } else { feeding[id] = nil }
        return f.matched
    }
}
