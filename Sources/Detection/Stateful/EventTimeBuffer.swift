// Event time for the stateful stages: a watermark and a bounded reorder buffer.
//
// Invariants:
// - watermark = newest event time seen − allowed lateness; it never moves back.
// - `push`/`flush` release events in event-time order, ties broken by record id, then source
//   position, then arrival: the same multiset of events gives the same released sequence whatever
//   order they were pushed in, as long as each arrives within the lateness.
// - An event older than what was already released (the watermark, or an event forced out by the
//   cap) is late: it is never released by `push`, it is counted, reported as `input.late-event`
//   and handed back through `drainLate()` so the caller can still give it to stateless rules.
//   Stateful stages (windows, operation assembly, baselines) never see it: re-opening windows
//   that already answered would make replays order-dependent.
// - Events without a time cannot be ordered: they are released at once (counted as `untimed`).
// - At most `capacity` events are held; beyond that the oldest is released early (counted as an
//   eviction), which raises the late bound to its time.
import EventModel

/// Reorders events within an allowed lateness and releases them behind a watermark. Each event
/// may carry what its caller worked out on arrival (`StatefulStages.Arrival`), released with it.
public struct EventTimeBuffer {
    /// An event with its caller's note.
    struct Held {
        var event: Event
        var note: StatefulStages.Arrival
    }

    public struct Configuration: Sendable, Hashable {
        /// How far behind the newest event an event may arrive and still be placed in order.
        public var latenessSeconds: Int64
        /// Most events held at once.
        public var capacity: Int

        public init(latenessSeconds: Int64 = 900, capacity: Int = 200_000) {
            self.latenessSeconds = latenessSeconds
            self.capacity = max(1, capacity)
        }
    }

    /// Counters, for `vigil replay --stats` and the metrics endpoint.
    public struct Stats: Sendable, Hashable {
        public var pushed = 0
        public var released = 0
        public var late = 0
        public var untimed = 0
        public var evicted = 0
        public var buffered = 0
        public var maxBuffered = 0
    }

    /// An event that arrived after the watermark had passed it, with its `input.late-event` report.
    public struct LateEvent: Sendable {
        public var event: Event
        public var diagnostic: Diagnostic
    }

    public let configuration: Configuration
    public private(set) var stats = Stats()
    /// Newest event time seen minus the lateness (nil before the first timed event).
    public private(set) var watermark: EventTime?
    /// Events before this time can no longer be released in order.
    private var lateBound: Int64 = .min
    private var newest: Int64 = .min
    /// Small heap entries; the events themselves sit in `slots` (moving an Event is costly).
    private var heap: [Entry] = []
    private var slots: [Held?] = []
    private var freeSlots: [Int32] = []
    private var arrivals: UInt64 = 0
    private var late: [LateEvent] = []
    private var lateHandedOut = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public init(latenessSeconds: Int64, capacity: Int = 200_000) {
        self.init(configuration: Configuration(latenessSeconds: latenessSeconds, capacity: capacity))
    }

    /// Adds an event; returns the events the watermark has now passed, in order.
    public mutating func push(_ event: Event) -> [Event] {
        var out: [Held] = []
        push(event, note: .none, into: &out)
        return out.map(\.event)
    }

    /// `push`, with the event's note, appending the released events to `out` (the caller reuses
    /// one array).
    mutating func push(_ event: Event, note: StatefulStages.Arrival, into out: inout [Held]) {
        stats.pushed += 1
        guard let time = event.time?.nanoseconds else {
            stats.untimed += 1
            stats.released += 1
            out.append(Held(event: event, note: note))
            return
        }
        if time < lateBound {
            reportLate(event, time: time)
            return
        }
        arrivals &+= 1
        let slot: Int32
        if let free = freeSlots.popLast() { slot = free; slots[Int(free)] = Held(event: event, note: note) } else {
            slot = Int32(slots.count)
            slots.append(Held(event: event, note: note))
        }
        insert(Entry(time: time, id: event.id, slot: slot, arrival: arrivals))
        if heap.count > configuration.capacity {
            stats.evicted += 1
            out.append(popMin())
        }
        if time > newest {
            newest = time
            let mark = newest &- configuration.latenessSeconds &* 1_000_000_000
            // `advance` may have moved it further (its clock is not `newest`): never back.
            if watermark.map({ $0.nanoseconds < mark }) ?? true { watermark = EventTime(nanoseconds: mark) }
            lateBound = max(lateBound, mark)
        }
        while let top = heap.first, top.time < lateBound {
            out.append(popMin())
        }
        stats.buffered = heap.count
    }

    /// Whether an event at `time` pushed now would be late.
    public func isLate(_ time: EventTime) -> Bool { time.nanoseconds < lateBound }

    /// Releases everything still held, in order (end of input).
    public mutating func flush() -> [Event] { flushHeld().map(\.event) }

    /// `flush`, with the events' notes.
    mutating func flushHeld() -> [Held] {
        var out: [Held] = []
        out.reserveCapacity(heap.count)
        while !heap.isEmpty { out.append(popMin()) }
        stats.buffered = 0
        return out
    }

    /// Releases what an event-time clock at `time` would release (idle sources: the caller moves
    /// the clock when no event has come for a while).
    public mutating func advance(to time: EventTime) -> [Event] {
        var out: [Held] = []
        advance(to: time, into: &out)
        return out.map(\.event)
    }

    /// `advance`, appending the released events to `out`.
    mutating func advance(to time: EventTime, into out: inout [Held]) {
        let mark = time.nanoseconds &- configuration.latenessSeconds &* 1_000_000_000
        guard mark > lateBound else { return }
        lateBound = mark
        if watermark.map({ $0.nanoseconds < mark }) ?? true { watermark = EventTime(nanoseconds: mark) }
        while let top = heap.first, top.time < lateBound { out.append(popMin()) }
        stats.buffered = heap.count
    }

    /// Late events since the last call, each with its diagnostic, in arrival order.
    public mutating func drainLate() -> [LateEvent] {
        defer { late.removeAll(keepingCapacity: true); lateHandedOut = 0 }
        return late
    }

    /// Late events since the last call, without taking their diagnostics (those stay for
    /// `drainLate()`/`lateDiagnostics()`).
    mutating func drainLateKeepingDiagnostics() -> [Event] {
        guard lateHandedOut < late.count else { return [] }
        defer { lateHandedOut = late.count }
        return late[lateHandedOut...].map(\.event)
    }

    /// The `input.late-event` diagnostics since the last call.
    public mutating func lateDiagnostics() -> [Diagnostic] {
        defer { late.removeAll(keepingCapacity: true); lateHandedOut = 0 }
        return late.map(\.diagnostic)
    }

    private mutating func reportLate(_ event: Event, time: Int64) {
        stats.late += 1
        let behind = Double(lateBound - time) / 1e9
        let at = EventTime(nanoseconds: time)
        let message = "event at \(at) arrived \(formatSeconds(behind)) behind the watermark "
            + "\(EventTime(nanoseconds: lateBound)) (allowed lateness \(configuration.latenessSeconds) s); "
            + "it goes to stateless rules only, not to windows, operation assembly or baselines"
        let location = SourceLocation(file: event.position.source, line: event.position.line, offset: event.position.offset)
        late.append(LateEvent(event: event, diagnostic: Diagnostic(.warning, code: "input.late-event", message, at: location)))
    }

    private mutating func popMin() -> Held {
        stats.released += 1
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        // Past it, not at it: an event at the same time with a smaller id would come after this one.
        // (Released in order, `top.time` is already below the bound; only an eviction raises it.)
        lateBound = max(lateBound, top.time &+ 1)
        let held = slots[Int(top.slot)].take()!
        freeSlots.append(top.slot)
        return held
    }

    // MARK: binary heap ordered by (time, id, position, arrival)

    private struct Entry {
        var time: Int64
        var id: UInt64
        var slot: Int32
        var arrival: UInt64
    }

    /// Time, then record id, then source position, then arrival. Static, taking the slots: as a
    /// method on `self` called from the mutating sift it copied the whole buffer per comparison.
    @inline(__always)
    private static func before(_ a: Entry, _ b: Entry, _ slots: [Held?]) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.id != b.id { return a.id < b.id }
        return tieBreak(a, b, slots)
    }

    /// Same time and id (the same record pushed twice, or a hash collision).
    private static func tieBreak(_ a: Entry, _ b: Entry, _ slots: [Held?]) -> Bool {
        let pa = slots[Int(a.slot)]!.event.position, pb = slots[Int(b.slot)]!.event.position
        if pa.source != pb.source { return pa.source < pb.source }
        let oa = pa.offset ?? Int64(pa.line ?? 0), ob = pb.offset ?? Int64(pb.line ?? 0)
        if oa != ob { return oa < ob }
        if (pa.recordIndex ?? 0) != (pb.recordIndex ?? 0) { return (pa.recordIndex ?? 0) < (pb.recordIndex ?? 0) }
        return a.arrival < b.arrival
    }

    private mutating func insert(_ e: Entry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent], slots) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
        stats.maxBuffered = max(stats.maxBuffered, heap.count)
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = heap.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n, Self.before(heap[l], heap[m], slots) { m = l }
            if r < n, Self.before(heap[r], heap[m], slots) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}

func formatSeconds(_ s: Double) -> String {
    if s < 120 { return "\(Int(s.rounded())) s" }
    if s < 7200 { return "\(Int((s / 60).rounded())) min" }
    return "\(Int((s / 3600).rounded())) h"
}
