// Operation assembly: the Activity Log records of one Azure operation → one `.operation` event.
//
// Azure writes Start (request body), maybe Accept, then Success or Failure (response body, final
// status) under one correlationId. Rules that mean "it was written and it succeeded" read the
// assembled event; the raw records still go to rules on their own.
//
// Invariants:
// - Records are grouped by (correlationId, operation), compared case-insensitively.
// - An operation is emitted once: when its final record (Success/Succeeded, Failure/Failed,
//   Canceled) arrives after its Start (a final record without a Start waits until the clock
//   passes its time, since a Start of the same instant may be released after it), or, still open, when the event-time clock passes its first record by
//   `timeoutSeconds` (status "Incomplete"), or at `finish()`, or when the open-operation cap
//   forces it out (counted as an eviction, status "Incomplete").
// - A record for an operation already emitted (a late Start after its Success) is absorbed, not
//   re-assembled, for as long as the operation is remembered as closed (`timeoutSeconds`, bounded).
// - The assembled event's id is a hash of its records' ids (sorted) and its key, so it does not
//   depend on arrival order.
// - The assembled event's typed fields are set at emission; its JSON record is built on first
//   read from references to the kept records (`Parts`), never copied before something needs it.
// - With `operations` set, only lifecycle records of those operations (lower-cased, as
//   `Event.operation`) are grouped; a record of any other operation is treated like any non-lifecycle
//   event (it moves the clock only). The operation is part of the key, so a lifecycle is always
//   taken or left whole.
// Feed it events in event-time order (from `EventTimeBuffer`); `process` advances its clock to
// each event's time. Only lifecycle records change its state; any timed event moves its clock.
import EventModel
import FastJSON

public struct OperationAssembler {
    public struct Configuration: Sendable, Hashable {
        /// How long an operation may stay open, in event time, before it is emitted as it stands.
        public var timeoutSeconds: Int64
        /// Most operations open at once.
        public var maxOpenOperations: Int
        /// Most closed operations remembered (to absorb their stragglers).
        public var maxClosedRemembered: Int
        /// How long, in event time, an operation emitted `Incomplete` at its timeout waits for its
        /// final record, and how many wait at most: a long-running operation (a compute or a
        /// managed network taking 20 minutes) is then emitted again, completed, when it comes.
        /// Its records stay held meanwhile (`drainDoneRecords`), so `vigil run` re-reads them after
        /// a restart and a completion is not lost to it.
        public var completionSeconds: Int64
        public var maxAwaitingCompletion: Int

        public init(timeoutSeconds: Int64 = 900, maxOpenOperations: Int = 100_000, maxClosedRemembered: Int = 100_000,
                    completionSeconds: Int64 = 3 * 3600, maxAwaitingCompletion: Int = 10_000) {
            self.timeoutSeconds = timeoutSeconds
            self.maxOpenOperations = max(1, maxOpenOperations)
            self.maxClosedRemembered = max(0, maxClosedRemembered)
            self.completionSeconds = max(0, completionSeconds)
            self.maxAwaitingCompletion = max(0, maxAwaitingCompletion)
        }
    }

    public struct Stats: Sendable, Hashable {
        public var recordsSeen = 0
        public var recordsAssembled = 0
        public var emittedComplete = 0
        public var emittedIncomplete = 0
        public var evicted = 0
        public var absorbedAfterClose = 0
        /// Closed operations forgotten at `maxClosedRemembered`, before their timeout: a straggler
        /// of one is assembled as a new operation.
        public var closedForgotten = 0
        /// Operations emitted `Incomplete` at their timeout, then again when their final record came.
        public var completedLate = 0
        /// Incomplete operations that stopped waiting for their final record at `maxAwaitingCompletion`.
        public var awaitingForgotten = 0
        public var open = 0
        public var maxOpen = 0
    }

    /// Where a record sits in an operation's life.
    public enum Phase: Sendable, Hashable {
        case started, accepted, succeeded, failed, canceled

        /// resultType (export: Start, Accept, Success, Failure) or status (REST: Started, Accepted,
        /// Succeeded, Failed, Canceled); nil for anything else (Active, Resolved, …).
        public init?(result: String) {
            // Runs for every Activity record (twice: `wants` and `process`): dispatch on length and
            // first byte, then compare folded bytes; no lower-casing, no allocation.
            var result = result
            guard let phase = result.withUTF8({ Phase.match($0) }) else { return nil }
            self = phase
        }

        private static func match(_ b: UnsafeBufferPointer<UInt8>) -> Phase? {
            guard b.count >= 5, b.count <= 9 else { return nil }
            @inline(__always) func eq(_ w: StaticString) -> Bool {
                guard b.count == w.utf8CodeUnitCount else { return false }
                let p = w.utf8Start
                for i in 0..<b.count where JSONPathLookup.fold(b[i]) != p[i] { return false }
                return true
            }
            switch JSONPathLookup.fold(b[0]) {
            case UInt8(ascii: "s"):
                if eq("start") || eq("started") { return .started }
                if eq("success") || eq("succeeded") { return .succeeded }
            case UInt8(ascii: "a"):
                if eq("accept") || eq("accepted") { return .accepted }
            case UInt8(ascii: "f"):
                if eq("failure") || eq("failed") { return .failed }
            case UInt8(ascii: "c"):
                if eq("cancel") || eq("canceled") || eq("cancelled") { return .canceled }
            default: break
            }
            return nil
        }

        public var isFinal: Bool { self == .succeeded || self == .failed || self == .canceled }

        /// The REST word, used as the assembled `status`.
        public var status: String {
            switch self {
            case .started: return "Started"
            case .accepted: return "Accepted"
            case .succeeded: return "Succeeded"
            case .failed: return "Failed"
            case .canceled: return "Canceled"
            }
        }
    }

    /// (correlationId lower-cased, operation). Its hash is computed once, from the bytes (one
    /// lookup per lifecycle record, and rehashes when the table moves entries, cost one word each).
    struct Key: Hashable, Sendable {
        /// As `String.lowercased()` gives it (the form the assembled id hashes); a correlationId with
        /// no upper-case letter and no non-ASCII byte (the usual GUID) is kept as it is, not copied.
        let correlationId: String
        let operation: String
        let hashCode: UInt64

        init(correlationId: String, operation: String) {
            let folded = Self.isLowerASCII(correlationId) ? correlationId : correlationId.lowercased()
            self.correlationId = folded
            self.operation = operation
            hashCode = fastHash64(operation, seed: fastHash64(folded))
        }

        private static func isLowerASCII(_ s: String) -> Bool {
            var s = s
            return s.withUTF8 { b in
                // Or-ing the "not lower ASCII" bits over every byte, no early exit and no
                // short-circuit: a branch-free loop the compiler can vectorise.
                var bad: UInt8 = 0
                for c in b { bad |= (c & 0x80) | ((c &- 65) < 26 ? 1 : 0) }
                return bad == 0
            }
        }

        static func == (a: Key, b: Key) -> Bool {
            a.hashCode == b.hashCode && a.correlationId == b.correlationId && a.operation == b.operation
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hashCode) }
    }

    /// One table for open and closed operations: a lifecycle record costs one lookup, and closing
    /// an operation overwrites its entry instead of moving it between tables.
    enum Slot {
        case open(Open)
        /// Emitted; remembered (with its last record's time) to absorb stragglers.
        case closed(Int64)
    }

    /// A class so records are added in place (an Event is costly to copy). Once emitted it is the
    /// assembled event's record builder (`document()`), so it is shared with that event: every
    /// write happens before `emitted` is set, and the event exists only after (hence `@unchecked`).
    final class Open: @unchecked Sendable {
        let key: Key
        var first: Event          // earliest record (time, then id)
        var start: Event?         // the Start record (request body, identity)
        var final: Event?
        var latest: Event         // latest non-final record (Accepted response bodies)
        var latestPhase: Phase
        var firstTime: Int64
        var lastTime: Int64
        /// The first record's id; the others' in `moreIds` (most operations have one or two records).
        let firstId: UInt64
        var moreIds: [UInt64] = []
        var emitted = false

        init(key: Key, first: Event, latestPhase: Phase, time: Int64, firstId: UInt64? = nil) {
            self.key = key
            self.first = first
            self.latest = first
            self.latestPhase = latestPhase
            firstTime = time
            lastTime = time
            self.firstId = firstId ?? first.id
        }

        var recordCount: Int { 1 + moreIds.count }

        var status: String { final.map { _ in latestPhase.status } ?? "Incomplete" }
    }

    public let configuration: Configuration
    public private(set) var stats = Stats()
    /// The operations (lower-cased) whose lifecycles are assembled; nil: every operation.
    /// `StatefulStages` sets it to those some Sigma rule can use (`relevantOperations`).
    public var operations: Set<String>? {
        didSet { operationTable = operations.map(TextSet.init) }
    }
    /// `operations` for the per-record test (`takes`): a seeded 64-bit hash of the text, not SipHash.
    private var operationTable: TextSet?
    private var slots: [Key: Slot] = [:]
    private var openCount = 0
    private var closedCount = 0
    /// Open operations in the order they were opened (lazy: emitted ones are skipped). Holding the
    /// objects, not keys, lets the per-event timeout check run without hashing.
    private var openOrder = FIFOQueue<Open>()
    /// Closed operations with their last record's time, in the order they closed.
    private var closedOrder = FIFOQueue<(key: Key, time: Int64)>()
    /// Operations emitted `Incomplete` that may still complete (`Configuration.completionSeconds`),
    /// by key, and in the order they were emitted.
    private var awaiting: [Key: (open: Open, seq: UInt64)] = [:]
    /// `since`: the event time the wait is measured from (the operation's last record), so when it
    /// stops waiting does not depend on how the watermark moved. Sequence numbers, not the objects:
    /// an entry must not keep a completed or replaced operation's records alive.
    private var awaitingOrder = FIFOQueue<(key: Key, seq: UInt64, since: Int64)>()
    private var awaitingSeq: UInt64 = 0
    private var clock: Int64 = .min
    /// Final records seen without a Start, held until the clock passes their time.
    private var pendingFinals: [Open] = []
    /// Ids of records this assembler is done with (their operation emitted, or absorbed after it
    /// closed), for `drainDoneRecords`. Until then a record is held here: a restart that resumed
    /// past it would assemble its operation without it (`vigil run` keeps its checkpoint behind).
    private var doneRecords: [UInt64] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// What a lifecycle record says of its operation, each field read once (every read of an
    /// Event's text field is a call and a retain).
    public struct Lifecycle {
        public let phase: Phase
        public let correlationId: String
        /// Lower-cased (`Event.operation`).
        public let operation: String
    }

    /// The record's lifecycle when it is one: an Activity Log record with a correlationId, an
    /// operation and a lifecycle result (`Phase`). The one test of "lifecycle record" (the
    /// assembler's, and `OperationOnce`'s).
    public static func lifecycle(of event: Event) -> Lifecycle? {
        guard event.kind == .activity, let corr = event.correlationId, let op = event.operation, let r = event.result,
              let phase = Phase(result: r) else { return nil }
        return Lifecycle(phase: phase, correlationId: corr, operation: op)
    }

    /// Whether this assembler groups records of that lifecycle: one of `operations`.
    public func takes(_ lifecycle: Lifecycle) -> Bool { operationTable?.contains(lifecycle.operation) ?? true }

    /// Takes one event (any kind; only lifecycle records are used). Returns assembled operations
    /// that are now complete: first those timed out by this event's time, then the one it closed.
    public mutating func process(_ event: Event) -> [Event] {
        var out: [Event] = []
        process(event, into: &out)
        return out
    }

    /// `process`, appending to `out` (the caller reuses one array). Returns whether it took the
    /// record (a lifecycle record of an operation it assembles): then the record is held until
    /// `drainDoneRecords` hands it back.
    @discardableResult
    mutating func process(_ event: Event, into out: inout [Event]) -> Bool {
        if let t = event.time?.nanoseconds, t > clock {
            clock = t
            releasePendingFinals(into: &out)
            expire(into: &out)
        }
        guard let life = Self.lifecycle(of: event), takes(life) else { return false }
        let phase = life.phase
        stats.recordsSeen += 1
        let key = Key(correlationId: life.correlationId, operation: life.operation)
        let time = event.time?.nanoseconds ?? clock
        if let waiting = awaiting[key]?.open {
            if case .open? = slots[key] {} else if phase.isFinal {
                awaiting[key] = nil
                out.append(complete(waiting, with: event, phase: phase, time: time))
                return true
            } else {
                // An Accept while the operation waits: a straggler of it, not a new operation
                // (which would lose the Start's request body when the final record completes it).
                stats.absorbedAfterClose += 1
                doneRecords.append(event.id)
                return true
            }
        }
        switch slots[key] {
        case .closed?:
            stats.absorbedAfterClose += 1
            doneRecords.append(event.id)
        case .open(let o)?:
            o.moreIds.append(event.id)
            if time < o.firstTime || (time == o.firstTime && event.id < o.first.id) { o.first = event; o.firstTime = time }
            o.lastTime = max(o.lastTime, time)
            apply(phase, event, to: o)
            if o.final != nil {
                if o.start != nil { out.append(emit(o, incomplete: false)) } else if phase.isFinal { pendingFinals.append(o) }
            }
        case nil:
            let o = Open(key: key, first: event, latestPhase: phase, time: time)
            apply(phase, event, to: o)
            slots[key] = .open(o)
            openCount += 1
            stats.open = openCount
            stats.maxOpen = max(stats.maxOpen, openCount)
            if phase.isFinal {
                // No Start yet: one with the same time may still come (ties are ordered by record id).
                pendingFinals.append(o)
            } else {
                openOrder.append(o)
                if openCount > configuration.maxOpenOperations { evictOldest(into: &out) }
            }
        }
        return true
    }

    /// Moves the event-time clock (idle sources) and emits operations open for longer than the timeout.
    public mutating func advance(to time: EventTime) -> [Event] {
        var out: [Event] = []
        advance(to: time, into: &out)
        return out
    }

    /// `advance`, appending to `out`.
    mutating func advance(to time: EventTime, into out: inout [Event]) {
        if time.nanoseconds > clock {
            clock = time.nanoseconds
            releasePendingFinals(into: &out)
            expire(into: &out)
        }
    }

    /// Emits every open operation as it stands (end of input), oldest first.
    public mutating func finish() -> [Event] {
        var out: [Event] = []
        let still = slots.values.compactMap { slot -> Open? in if case .open(let o) = slot { return o } else { return nil } }
        for o in still.sorted(by: { ($0.firstTime, $0.first.id) < ($1.firstTime, $1.first.id) }) { out.append(emit(o, incomplete: true)) }
        pendingFinals.removeAll()
        openOrder.removeAll()
        // End of input: nothing completes any more.
        for w in awaiting.values { release(w.open) }
        awaiting.removeAll()
        awaitingOrder.removeAll()
        return out
    }

    private func apply(_ phase: Phase, _ event: Event, to o: Open) {
        switch phase {
        case .started:
            if o.start == nil || event.id < o.start!.id { o.start = event }
        case .accepted:
            if !o.latestPhase.isFinal { o.latest = event; o.latestPhase = phase }
        case .succeeded, .failed, .canceled:
            o.final = event
            o.latestPhase = phase
        }
    }

    /// Operations whose final record came without a Start: the clock has moved past their time,
    /// so every record of that instant has been seen (the buffer releases in time order).
    private mutating func releasePendingFinals(into out: inout [Event]) {
        guard !pendingFinals.isEmpty else { return }
        for o in pendingFinals where !o.emitted { out.append(emit(o, incomplete: false)) }
        pendingFinals.removeAll(keepingCapacity: true)
    }

    private mutating func expire(into out: inout [Event]) {
        let limit = clock &- configuration.timeoutSeconds &* 1_000_000_000
        // Closed operations past their timeout go before the open ones are emitted, so those do not
        // push them out at the cap (`stats.closedForgotten` counts the cap only); and after, so an
        // operation emitted here whose last record is past the timeout too is not remembered.
        forgetClosed(through: limit)
        while let o = openOrder.first, o.emitted || o.firstTime <= limit {
            openOrder.popFirst()
            if !o.emitted { out.append(emit(o, incomplete: true)) }
        }
        forgetClosed(through: limit)
        let waitLimit = clock &- configuration.completionSeconds &* 1_000_000_000
        while let w = awaitingOrder.first, w.since <= waitLimit {
            awaitingOrder.popFirst()
            stopWaiting(w)
        }
    }

    /// Ends the wait `w` stands for, if its operation is still the one waiting under its key (a
    /// later one of the key, or its completion, replaced it otherwise); true if it was.
    @discardableResult
    private mutating func stopWaiting(_ w: (key: Key, seq: UInt64, since: Int64)) -> Bool {
        guard let waiting = awaiting[w.key], waiting.seq == w.seq else { return false }
        awaiting[w.key] = nil
        release(waiting.open)
        return true
    }

    /// An operation emitted `Incomplete` at its timeout, waiting for its final record (`awaiting`);
    /// false when none may wait.
    private mutating func awaitCompletion(_ o: Open) -> Bool {
        // A timeout of 0 emits every operation at its first record, by choice: none waits.
        guard configuration.timeoutSeconds > 0, configuration.maxAwaitingCompletion > 0, configuration.completionSeconds > 0 else {
            return false
        }
        if let older = awaiting[o.key] { release(older.open) }   // the same key opened again: the older stops waiting
        awaitingSeq &+= 1
        awaiting[o.key] = (o, awaitingSeq)
        awaitingOrder.append((o.key, awaitingSeq, o.lastTime))
        while awaiting.count > configuration.maxAwaitingCompletion, let w = awaitingOrder.popFirst() {
            if stopWaiting(w) { stats.awaitingForgotten += 1 }
        }
        return true
    }

    /// The assembler is done with the records of `o`: `drainDoneRecords` hands them back.
    private mutating func release(_ o: Open) {
        doneRecords.append(o.firstId)
        doneRecords += o.moreIds
    }

    /// The operation `waiting` stood for, emitted again now that its final record came: a new
    /// event (its id covers the final record too), built from copies of its records, since the
    /// event emitted `Incomplete` reads `waiting` when its record is built.
    private mutating func complete(_ waiting: Open, with final: Event, phase: Phase, time: Int64) -> Event {
        let o = Open(key: waiting.key, first: waiting.first, latestPhase: waiting.latestPhase, time: waiting.firstTime,
                     firstId: waiting.firstId)
        o.start = waiting.start
        o.latest = waiting.latest
        o.lastTime = max(waiting.lastTime, time)
        o.moreIds = waiting.moreIds + [final.id]
        apply(phase, final, to: o)
        o.emitted = true
        release(o)
        // Closed again, as of its final record, so the records that still follow are absorbed.
        close(o.key, lastTime: o.lastTime)
        stats.recordsAssembled += 1
        stats.emittedComplete += 1
        stats.completedLate += 1
        return Self.assemble(o)
    }

    /// Forgets the closed operations, oldest closed first, whose last record is at or before `limit`.
    private mutating func forgetClosed(through limit: Int64) {
        while let c = closedOrder.first, c.time <= limit {
            closedOrder.popFirst()
            forgetClosed(c.key, lastTime: c.time)
        }
    }

    private mutating func evictOldest(into out: inout [Event]) {
        while let o = openOrder.popFirst() {
            if !o.emitted {
                stats.evicted += 1
                out.append(emit(o, incomplete: true))
                break
            }
        }
    }

    /// Drops the closed operation `key` (only if it closed at `lastTime`, when given: an entry of
    /// the queue is stale once the key was closed again later); returns whether it did.
    @discardableResult
    private mutating func forgetClosed(_ key: Key, lastTime: Int64? = nil) -> Bool {
        guard let i = slots.index(forKey: key), case .closed(let t) = slots.values[i], lastTime.map({ $0 == t }) ?? true else { return false }
        slots.remove(at: i)
        closedCount -= 1
        return true
    }

    /// Tells `body` the ids of the records the assembler has finished with since the last call
    /// (in place: this runs for every record, and handing out the array would copy it).
    public mutating func drainDoneRecords(_ body: (UInt64) -> Void) {
        guard !doneRecords.isEmpty else { return }
        for id in doneRecords { body(id) }
        doneRecords.removeAll(keepingCapacity: true)
    }

    private mutating func emit(_ o: Open, incomplete: Bool) -> Event {
        precondition(!o.emitted, "operation emitted twice")
        o.emitted = true
        openCount -= 1
        stats.open = openCount
        stats.recordsAssembled += o.recordCount
        if o.final != nil {
            stats.emittedComplete += 1
            release(o)
        } else {
            stats.emittedIncomplete += 1
            if !awaitCompletion(o) { release(o) }
        }
        close(o.key, lastTime: o.lastTime)
        return Self.assemble(o)
    }

    /// Remembers `key` as closed, its last record at `lastTime`, to absorb its stragglers, within
    /// `maxClosedRemembered`; with none remembered, forgets it.
    private mutating func close(_ key: Key, lastTime: Int64) {
        guard configuration.maxClosedRemembered > 0 else {
            slots[key] = nil
            return
        }
        if case .closed? = slots[key] {} else { closedCount += 1 }
        slots[key] = .closed(lastTime)
        closedOrder.append((key, lastTime))
        if closedCount > configuration.maxClosedRemembered {
            // The oldest entry still current (a key closed again later has a newer one).
            while let c = closedOrder.popFirst(), !forgetClosed(c.key, lastTime: c.time) {}
            stats.closedForgotten += 1
        }
    }

    // MARK: building the event

    /// The assembled event. Its typed fields are set now (anomaly baselines and rule indexes read
    /// only those); its JSON record is built from the kept records the first time something reads
    /// it (a rule path, an alert's evidence), so operations nobody looks into cost no JSON work.
    static func assemble(_ o: Open) -> Event {
        let base = o.start ?? o.first
        // The base record's typed fields in one copy: operationName, operation (the key's text: every
        // record of the key has it), category and correlationId are always the base's.
        var e = Event(kind: .operation, shape: .assembled, deferredRecord: DeferredRecord({ o.document() }, route: { o.values(at: $0) }),
                      position: o.first.position, id: assembledId(o), time: EventTime(nanoseconds: o.lastTime), typedFieldsOf: base)
        e.result = o.status
        if o.recordCount == 1 {
            // One record: it is the base, the final or latest record, and the first non-nil of every field.
            if o.final == nil, base.resultSignature != nil { e.resultSignature = nil }
            return e
        }
        let last = o.final ?? o.latest
        e.resultSignature = o.final?.resultSignature
        e.level = last.level
        e.caller = o.firstNonNil { $0.caller }
        e.callerObjectId = o.firstNonNil { $0.callerObjectId }
        e.callerAppId = o.firstNonNil { $0.callerAppId }
        e.callerIP = o.firstNonNil { $0.callerIP }
        e.tenantId = o.firstNonNil { $0.tenantId }
        if base.resource == nil { e.resource = last.resource }
        return e
    }

    // MARK: ids and bodies

    private static let propertiesKeys = ["properties", "properties_d"]

    /// `properties.<name>` of a record: in the export's `properties`, or a Log Analytics row's
    /// `Properties_d` / `Properties`, whose cells hold JSON text in a CSV export (an empty or
    /// body-less `Properties` cell does not hide `Properties_d`).
    static func body(_ event: Event, _ name: String) -> JSONValue? {
        let root = event.record.root
        for key in propertiesKeys {
            guard var props = root[key] else { continue }
            if props.type == .string {
                guard let inner = props.innerJSON else { continue }
                props = inner
            }
            if let value = props[name] { return value }
        }
        return nil
    }

    /// A JSON string holding an object/array is copied decoded; anything else as it is.
    static func copyBody(_ value: JSONValue, key: String, into b: inout JSONBuilder) {
        if value.type == .string, let inner = value.innerJSON {
            b.copy(inner, key: key)
        } else if value.type == .string, value.string?.isEmpty ?? true {
            return
        } else {
            b.copy(value, key: key)
        }
    }

    /// fastHash64 of "operation|<correlationId>|<operation>|<id>|<id>…" (ids sorted, in decimal):
    /// the bytes are copied into a temporary buffer (on the stack when small) with plain pointer
    /// writes, not through string interpolation or per-byte appends.
    static func assembledId(_ o: Open) -> UInt64 {
        var corr = o.key.correlationId, op = o.key.operation
        let ids = o.moreIds.isEmpty ? [] : ([o.firstId] + o.moreIds).sorted()   // one id: no array
        let capacity = 11 + corr.utf8.count + op.utf8.count + 21 * o.recordCount
        return withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { buf in
            // Offsets are passed along, not captured as variables (a captured `var` costs an
            // exclusivity check per access).
            let p = buf.baseAddress!
            let prefix: StaticString = "operation|"
            p.copyMemory(from: prefix.utf8Start, byteCount: prefix.utf8CodeUnitCount)
            let afterCorr = corr.withUTF8 { put($0, p, at: prefix.utf8CodeUnitCount) }
            p.storeBytes(of: UInt8(ascii: "|"), toByteOffset: afterCorr, as: UInt8.self)
            var n = op.withUTF8 { put($0, p, at: afterCorr + 1) }
            if ids.isEmpty {
                n = putId(o.firstId, p, at: n)
            } else {
                for id in ids { n = putId(id, p, at: n) }
            }
            return fastHash64(UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    /// Copies `b` to `p + at`; returns the offset after it.
    private static func put(_ b: UnsafeBufferPointer<UInt8>, _ p: UnsafeMutableRawPointer, at: Int) -> Int {
        if let base = b.baseAddress { p.advanced(by: at).copyMemory(from: base, byteCount: b.count) }
        return at + b.count
    }

    /// Writes "|" and `id` in decimal at `p + at`; returns the offset after it.
    private static func putId(_ id: UInt64, _ p: UnsafeMutableRawPointer, at: Int) -> Int {
        p.storeBytes(of: UInt8(ascii: "|"), toByteOffset: at, as: UInt8.self)
        return at + 1 + writeDecimal(id, to: p.advanced(by: at + 1))
    }
}

// MARK: the assembled record

extension OperationAssembler.Open {
    /// Start first, then the final record, then the others we kept.
    /// (A function, not a KeyPath: key-path projection goes through the runtime on every call.)
    func firstNonNil<T>(_ field: (Event) -> T?) -> T? {
        if let s = start, let v = field(s) { return v }
        if let f = final, let v = field(f) { return v }
        return field(latest) ?? field(first)
    }

    /// What a lookup of `path` (folded) in `document()` gives, for the paths into the bodies and
    /// the identity (`requestBody.…`, `responseBody.…`, `identity.…`), read in the records they
    /// come from: building the document copies both bodies (decoding them) and the identity for
    /// every operation, while the rules on assembled operations read one or two paths, and only
    /// the few operations that alert need the whole document. nil for any other path (the small
    /// fields, or a whole body, whose decoded copy is what the document holds).
    func values(at path: UnsafeBufferPointer<UInt8>) -> [JSONValue]? {
        if let rest = Self.rest(of: path, after: Self.requestBodyKey) {
            return Self.lookup(rest, inBody: requestBody)
        }
        if let rest = Self.rest(of: path, after: Self.responseBodyKey) {
            return Self.lookup(rest, inBody: responseBody)
        }
        if let rest = Self.rest(of: path, after: Self.identityKey) {
            guard let identity else { return [] }
            // One level below the document's root, as in the document (the lookup's depth bound).
            return JSONPathLookup.values(at: UnsafeBufferPointer(rebasing: rest), in: identity, depth: 1)
        }
        return nil
    }

    // What the document holds under `requestBody`, `responseBody` and `identity` (before decoding,
    // `copyBody`), for `document()` and `values(at:)` alike.

    /// The Start record's request body, else an Accept's (activity-log.md: "on the Start/Accept record").
    private var requestBody: JSONValue? {
        start.flatMap { OperationAssembler.body($0, "requestbody") }
            ?? (latestPhase == .accepted || final != nil ? OperationAssembler.body(latest, "requestbody") : nil)
    }

    /// The final record's response body, else an Accept's.
    private var responseBody: JSONValue? {
        final.flatMap { OperationAssembler.body($0, "responsebody") }
            ?? (latestPhase == .accepted ? OperationAssembler.body(latest, "responsebody") : nil)
    }

    /// The base record's identity (the Start record's, else the first's), else the last record's.
    private var identity: JSONValue? {
        let base = start ?? first, last = final ?? latest
        return base.record.root["identity"] ?? last.record.root["identity"]
    }

    private static let requestBodyKey = Array("requestbody.".utf8)
    private static let responseBodyKey = Array("responsebody.".utf8)
    private static let identityKey = Array("identity.".utf8)

    /// The path after `key` (a top-level key and its dot), when it starts so and goes on.
    private static func rest(of path: UnsafeBufferPointer<UInt8>, after key: [UInt8]) -> Slice<UnsafeBufferPointer<UInt8>>? {
        guard path.count > key.count else { return nil }
        for i in 0..<key.count where path[i] != key[i] { return nil }
        return path[key.count...]
    }

    /// A lookup under a body as `copyBody` puts it in the document: a string holding JSON decoded,
    /// an empty string left out, anything else as it is.
    private static func lookup(_ rest: Slice<UnsafeBufferPointer<UInt8>>, inBody body: JSONValue?) -> [JSONValue] {
        guard let body else { return [] }
        let root: JSONValue
        if body.type == .string, let inner = body.innerJSON {
            root = inner
        } else if body.type == .string, body.string?.isEmpty ?? true {
            return []
        } else {
            root = body
        }
        // One level below the document's root, as in the document (the lookup's depth bound).
        return JSONPathLookup.values(at: UnsafeBufferPointer(rebasing: rest), in: root, depth: 1)
    }

    /// The record's paths are documented in docs/anomaly-rules.md ("Operation assembly").
    func document() -> JSONDocument {
        let base = start ?? first
        // Room for the fixed fields; the bodies and the identity reserve their own as they are copied.
        var b = JSONBuilder(nodes: 32, bytes: 1024)
        b.beginObject()
        b.string(base.operationName ?? key.operation, key: "operationName")
        b.string(base.correlationId ?? key.correlationId, key: "correlationId")
        if let r = firstNonNil({ $0.resource?.raw }) { b.string(r, key: "resourceId") }
        if let c = firstNonNil({ $0.caller }) { b.string(c, key: "caller") }
        if let ip = firstNonNil({ $0.callerIP }) { b.string(ip, key: "callerIpAddress") }
        b.string(status, key: "status")
        if final == nil { b.string(latestPhase.status, key: "lastStatus") }
        b.string(EventTime(nanoseconds: firstTime).iso8601, key: "firstTime")
        b.string(EventTime(nanoseconds: lastTime).iso8601, key: "lastTime")
        if let body = requestBody { OperationAssembler.copyBody(body, key: "requestBody", into: &b) }
        if let response = responseBody { OperationAssembler.copyBody(response, key: "responseBody", into: &b) }
        b.int(Int64(recordCount), key: "records")
        if let identity { b.copy(identity, key: "identity") }
        b.end()
        return b.build()
    }
}
