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

        public init(timeoutSeconds: Int64 = 900, maxOpenOperations: Int = 100_000, maxClosedRemembered: Int = 100_000) {
            self.timeoutSeconds = timeoutSeconds
            self.maxOpenOperations = max(1, maxOpenOperations)
            self.maxClosedRemembered = max(0, maxClosedRemembered)
        }
    }

    public struct Stats: Sendable, Hashable {
        public var recordsSeen = 0
        public var recordsAssembled = 0
        public var emittedComplete = 0
        public var emittedIncomplete = 0
        public var evicted = 0
        public var absorbedAfterClose = 0
        public var open = 0
        public var maxOpen = 0
    }

    /// Where a record sits in an operation's life.
    public enum Phase: Sendable, Hashable {
        case started, accepted, succeeded, failed, canceled

        /// resultType (export: Start, Accept, Success, Failure) or status (REST: Started, Accepted,
        /// Succeeded, Failed, Canceled); nil for anything else (Active, Resolved, …).
        public init?(result: String) {
            // Runs for every Activity record: compare folded bytes instead of lower-casing.
            func is_(_ words: StaticString...) -> Bool {
                words.contains { w in
                    guard result.utf8.count == w.utf8CodeUnitCount else { return false }
                    var i = 0
                    for b in result.utf8 {
                        if JSONPathLookup.fold(b) != w.utf8Start[i] { return false }
                        i += 1
                    }
                    return true
                }
            }
            if is_("start", "started") { self = .started } else if is_("success", "succeeded") { self = .succeeded }
            else if is_("accept", "accepted") { self = .accepted } else if is_("failure", "failed") { self = .failed }
            else if is_("cancel", "canceled", "cancelled") { self = .canceled } else { return nil }
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

    struct Key: Hashable, Sendable {
        var correlationId: String
        var operation: String
    }

    /// A class so records are added in place (an Event is costly to copy).
    final class Open {
        let key: Key
        var first: Event          // earliest record (time, then id)
        var start: Event?         // the Start record (request body, identity)
        var final: Event?
        var latest: Event         // latest non-final record (Accepted response bodies)
        var latestPhase: Phase
        var firstTime: Int64
        var lastTime: Int64
        var recordIds: [UInt64]
        var emitted = false

        init(key: Key, first: Event, latest: Event, latestPhase: Phase, time: Int64, id: UInt64) {
            self.key = key
            self.first = first
            self.latest = latest
            self.latestPhase = latestPhase
            firstTime = time
            lastTime = time
            recordIds = [id]
        }
    }

    public let configuration: Configuration
    public private(set) var stats = Stats()
    private var open: [Key: Open] = [:]
    /// Open operations in the order they were opened (lazy: emitted ones are skipped). Holding the
    /// objects, not keys, lets the per-event timeout check run without hashing.
    private var openOrder: [Open] = []
    private var openOrderHead = 0
    private var closed: [Key: Int64] = [:]
    private var closedOrder: [(key: Key, time: Int64)] = []
    private var closedOrderHead = 0
    private var clock: Int64 = .min
    /// Final records seen without a Start, held until the clock passes their time.
    private var pendingFinals: [Open] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// True for records this stage groups: Activity Log records with a correlationId, an operation
    /// and a lifecycle result.
    public static func phase(of event: Event) -> Phase? {
        guard event.kind == .activity, event.correlationId != nil, event.operation != nil, let r = event.result else { return nil }
        return Phase(result: r)
    }

    /// Takes one event (any kind; only lifecycle records are used). Returns assembled operations
    /// that are now complete: first those timed out by this event's time, then the one it closed.
    public mutating func process(_ event: Event) -> [Event] {
        var out: [Event] = []
        if let t = event.time?.nanoseconds, t > clock {
            clock = t
            releasePendingFinals(into: &out)
            expire(into: &out)
        }
        guard let phase = Self.phase(of: event), let corr = event.correlationId, let op = event.operation else { return out }
        stats.recordsSeen += 1
        let key = Key(correlationId: corr.lowercased(), operation: op)
        if closed[key] != nil {
            stats.absorbedAfterClose += 1
            return out
        }
        let time = event.time?.nanoseconds ?? clock
        if let o = open[key] {
            o.recordIds.append(event.id)
            if time < o.firstTime || (time == o.firstTime && event.id < o.first.id) { o.first = event; o.firstTime = time }
            o.lastTime = max(o.lastTime, time)
            apply(phase, event, to: o)
            if o.final != nil {
                if o.start != nil { out.append(emit(key, incomplete: false)) } else if phase.isFinal { pendingFinals.append(o) }
            }
        } else {
            let o = Open(key: key, first: event, latest: event, latestPhase: phase, time: time, id: event.id)
            apply(phase, event, to: o)
            if phase.isFinal {
                // No Start yet: one with the same time may still come (ties are ordered by record id).
                open[key] = o
                pendingFinals.append(o)
                stats.open = open.count
                stats.maxOpen = max(stats.maxOpen, open.count)
            } else {
                open[key] = o
                openOrder.append(o)
                stats.open = open.count
                stats.maxOpen = max(stats.maxOpen, open.count)
                if open.count > configuration.maxOpenOperations { evictOldest(into: &out) }
            }
        }
        return out
    }

    /// Moves the event-time clock (idle sources) and emits operations open for longer than the timeout.
    public mutating func advance(to time: EventTime) -> [Event] {
        var out: [Event] = []
        if time.nanoseconds > clock {
            clock = time.nanoseconds
            releasePendingFinals(into: &out)
            expire(into: &out)
        }
        return out
    }

    /// Emits every open operation as it stands (end of input), oldest first.
    public mutating func finish() -> [Event] {
        var out: [Event] = []
        let keys = open.values.sorted { ($0.firstTime, $0.first.id) < ($1.firstTime, $1.first.id) }.map(\.key)
        for key in keys { out.append(emit(key, incomplete: true)) }
        pendingFinals.removeAll()
        openOrder.removeAll()
        openOrderHead = 0
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
        for o in pendingFinals where !o.emitted { out.append(emit(o.key, incomplete: false)) }
        pendingFinals.removeAll(keepingCapacity: true)
    }

    private mutating func expire(into out: inout [Event]) {
        let limit = clock &- configuration.timeoutSeconds &* 1_000_000_000
        while openOrderHead < openOrder.count {
            let o = openOrder[openOrderHead]
            if o.emitted { openOrderHead += 1; continue }
            guard o.firstTime <= limit else { break }
            openOrderHead += 1
            out.append(emit(o.key, incomplete: true))
        }
        compactOrder()
        while closedOrderHead < closedOrder.count {
            let c = closedOrder[closedOrderHead]
            if c.time > limit { break }
            if closed[c.key] == c.time { closed[c.key] = nil }
            closedOrderHead += 1
        }
        if closedOrderHead > 1024, closedOrderHead * 2 > closedOrder.count {
            closedOrder.removeFirst(closedOrderHead)
            closedOrderHead = 0
        }
    }

    private mutating func evictOldest(into out: inout [Event]) {
        while openOrderHead < openOrder.count {
            let o = openOrder[openOrderHead]
            openOrderHead += 1
            if !o.emitted {
                stats.evicted += 1
                out.append(emit(o.key, incomplete: true))
                break
            }
        }
        compactOrder()
    }

    private mutating func compactOrder() {
        if openOrderHead > 1024, openOrderHead * 2 > openOrder.count {
            openOrder.removeFirst(openOrderHead)
            openOrderHead = 0
        }
    }

    private mutating func emit(_ key: Key, incomplete: Bool) -> Event {
        let o = open.removeValue(forKey: key)!
        o.emitted = true
        stats.open = open.count
        stats.recordsAssembled += o.recordIds.count
        if o.final != nil { stats.emittedComplete += 1 } else { stats.emittedIncomplete += 1 }
        if configuration.maxClosedRemembered > 0 {
            closed[key] = o.lastTime
            closedOrder.append((key, o.lastTime))
            if closed.count > configuration.maxClosedRemembered {
                while closedOrderHead < closedOrder.count {
                    let k = closedOrder[closedOrderHead].key
                    closedOrderHead += 1
                    if closed.removeValue(forKey: k) != nil { break }
                }
            }
        }
        return Self.assemble(o)
    }

    // MARK: building the event

    /// The assembled event. Its typed fields are set now (anomaly baselines and rule indexes read
    /// only those); its JSON record is built from the kept records the first time something reads
    /// it (a rule path, an alert's evidence), so operations nobody looks into cost no JSON work.
    static func assemble(_ o: Open) -> Event {
        let parts = Parts(key: o.key, first: o.first, start: o.start, final: o.final, latest: o.latest,
                          latestPhase: o.latestPhase, firstTime: o.firstTime, lastTime: o.lastTime, records: o.recordIds.count)
        let base = o.start ?? o.first
        let last = o.final ?? o.latest
        var e = Event(kind: .operation, shape: .assembled, deferredRecord: DeferredRecord { parts.document() },
                      position: o.first.position, id: assembledId(o))
        e.time = EventTime(nanoseconds: o.lastTime)
        e.operationName = base.operationName
        e.operation = o.key.operation
        e.category = base.category
        e.result = parts.status
        e.resultSignature = o.final?.resultSignature
        e.level = last.level
        e.caller = parts.firstNonNil { $0.caller }
        e.callerObjectId = parts.firstNonNil { $0.callerObjectId }
        e.callerAppId = parts.firstNonNil { $0.callerAppId }
        e.callerIP = parts.firstNonNil { $0.callerIP }
        e.tenantId = parts.firstNonNil { $0.tenantId }
        e.resource = base.resource ?? last.resource
        e.correlationId = base.correlationId
        return e
    }

    /// What an assembled record is built from: references to the kept records (no copies).
    struct Parts: Sendable {
        var key: Key
        var first: Event
        var start: Event?
        var final: Event?
        var latest: Event
        var latestPhase: Phase
        var firstTime: Int64
        var lastTime: Int64
        var records: Int

        var status: String { final.map { _ in latestPhase.status } ?? "Incomplete" }

        /// Start first, then the final record, then the others we kept.
        /// (A function, not a KeyPath: key-path projection goes through the runtime on every call.)
        func firstNonNil<T>(_ field: (Event) -> T?) -> T? {
            if let s = start, let v = field(s) { return v }
            if let f = final, let v = field(f) { return v }
            return field(latest) ?? field(first)
        }

        /// The record's paths are documented in docs/anomaly-rules.md ("Operation assembly").
        func document() -> JSONDocument {
            let base = start ?? first
            let last = final ?? latest
            var b = JSONBuilder()
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
            if let body = start.flatMap({ OperationAssembler.body($0, "requestbody") }) { OperationAssembler.copyBody(body, key: "requestBody", into: &b) }
            let response = final.flatMap { OperationAssembler.body($0, "responsebody") }
                ?? (latestPhase == .accepted ? OperationAssembler.body(latest, "responsebody") : nil)
            if let response { OperationAssembler.copyBody(response, key: "responseBody", into: &b) }
            b.int(Int64(records), key: "records")
            if let identity = base.record.root["identity"] ?? last.record.root["identity"] {
                b.copy(identity, key: "identity")
            }
            b.end()
            return b.build()
        }
    }

    static func body(_ event: Event, _ name: String) -> JSONValue? {
        let root = event.record.root
        let props = root["properties"] ?? root["properties_d"]
        return props?[name]
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

    private static func assembledId(_ o: Open) -> UInt64 {
        var text = "operation|\(o.key.correlationId)|\(o.key.operation)"
        for id in o.recordIds.sorted() { text += "|\(id)" }
        return fastHash64(text)
    }
}
