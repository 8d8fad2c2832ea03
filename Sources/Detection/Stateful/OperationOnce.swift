// Each Azure operation once, for the anomaly baselines: the first lifecycle record (Start, Accept,
// Success, Failure…) of an operation, in event time, stands for the operation; the other records
// of its lifecycle are recognised and skipped.
//
// Why not the assembled operation: the baselines read the caller, the address, the resource, the
// operation and the time, which every lifecycle record carries; they never read the bodies or the
// final status the assembly adds. Assembling every operation for them held each lifecycle's
// records whole until its final one came, and built an event per operation: most of what anomaly
// rules cost. (Sigma rules on assembled operations still get them from `OperationAssembler`.)
//
// Repeats known on arrival: a record whose operation had an earlier record, within the timeout,
// arrive before it (and not late) is a repeat whatever else arrives: that earlier record reaches
// `isFirst` before it, and keeps the operation remembered until it. Such a record need not be held
// for the baselines at all (`isRepeat`, `noteRepeat`): only its time is kept, and it is counted in
// at its place in event time, so what `isFirst` answers for every other record does not change.
// On the bench (operations of two or three records) that is more than half of all records.
//
// Invariants:
// - Operations are keyed as the assembler keys them: (correlationId, operation), compared
//   case-insensitively, by a 64-bit hash (a collision costs one operation's learning, never an
//   alert of its own).
// - Fed in event-time order (released from `EventTimeBuffer`; noted repeats are counted in before
//   the first record after them, or once the watermark passes them), so which record is first
//   does not depend on arrival order.
// - An operation is remembered while its records keep coming: until no record of it has come for
//   `timeoutSeconds` of event time (the assembler's operation timeout). Memory is bounded by
//   `capacity`; past it the operation heard from least recently is forgotten (counted), and a later
//   record of it would count as a new operation (unless it was noted as a repeat on arrival: then
//   it stays a repeat, and the operation is not learned twice).
import EventModel

public struct OperationOnce {
    public struct Stats: Sendable, Hashable {
        /// Lifecycle records looked at.
        public var records = 0
        /// Operations taken (first records).
        public var operations = 0
        /// Operations forgotten at the cap while still being heard from.
        public var forgotten = 0
    }

    public let timeoutSeconds: Int64
    public let capacity: Int
    public private(set) var stats = Stats()
    /// Operation key hash → the time of its latest record.
    private var latest = HashedTable<UInt64, Int64>()
    /// (key, time) for every record, in event-time order; an entry is stale once `latest` moved on.
    private var order = FIFOQueue<(key: UInt64, time: Int64)>()
    /// Repeats noted on arrival and not yet counted in: a min-heap by (time, id).
    private var repeats: [Repeat] = []
    /// The arrival side: operation key hash → the time of its latest record that arrived (not late).
    private var arrived = HashedTable<UInt64, Int64>()
    /// (key, time) of every arrival, in arrival order; an entry is stale once `arrived` moved on.
    private var arrivals = FIFOQueue<(key: UInt64, time: Int64)>()

    private struct Repeat {
        var time: Int64
        var id: UInt64
        var key: UInt64

        func isBefore(_ other: Repeat) -> Bool { time != other.time ? time < other.time : id < other.id }
    }

    public init(timeoutSeconds: Int64, capacity: Int = 100_000) {
        self.timeoutSeconds = max(0, timeoutSeconds)
        self.capacity = max(1, capacity)
    }

    /// Operations remembered now.
    public var count: Int { latest.count }

    /// Whether `event` is the first record of its operation: true for a lifecycle record
    /// (`OperationAssembler.lifecycle(of:)`) of an operation not heard from in the last timeout;
    /// false for its later records and for anything that is not a lifecycle record.
    public mutating func isFirst(_ event: Event) -> Bool {
        guard let life = OperationAssembler.lifecycle(of: event), let time = event.time?.nanoseconds else { return false }
        return isFirst(key: Self.key(of: life), time: time, id: event.id)
    }

    /// `isFirst` of a lifecycle record whose key (`key(of:)`) was worked out on arrival.
    mutating func isFirst(key: UInt64, time: Int64, id: UInt64) -> Bool {
        countRepeats(through: Repeat(time: time, id: id, key: 0))
        return record(key, time: time)
    }

    /// The key an operation is remembered by.
    static func key(of life: OperationAssembler.Lifecycle) -> UInt64 {
        OperationAssembler.Key(correlationId: life.correlationId, operation: life.operation).hashCode
    }

    // MARK: repeats known on arrival

    /// Whether a record of operation `key` at `time`, arriving now, not late, is surely a repeat:
    /// a record of its operation arrived before it (`arrived`) with an earlier time within the
    /// timeout. That record is counted first, and keeps the operation remembered until this one.
    func isRepeat(key: UInt64, time: Int64) -> Bool {
        guard let before = arrived[key, hash: mixHash(key)] else { return false }
        return before < time && time &- before <= timeoutSeconds &* 1_000_000_000
    }

    /// A record of operation `key` at `time` arrived, not late, and will reach `isFirst` (held)
    /// or be counted in as a noted repeat. Arrivals older than `watermark` less the timeout can
    /// vouch for no record still to come (those are at or after the watermark), and are forgotten.
    mutating func arrived(key: UInt64, time: Int64, watermark: Int64?) {
        if let mark = watermark {
            let limit = mark &- timeoutSeconds &* 1_000_000_000
            while let (old, t) = arrivals.first, t < limit {
                arrivals.popFirst()
                forgetArrival(old, ifLatestAt: t)
            }
        }
        let slot = mixHash(key)
        if let before = arrived[key, hash: slot], before >= time { return }
        arrived.set(key, hash: slot, time)
        arrivals.append((key, time))
        // Past the cap the oldest arrival goes: fewer repeats are recognised, none wrongly.
        while arrived.count > capacity, let (old, t) = arrivals.popFirst() { forgetArrival(old, ifLatestAt: t) }
    }

    private mutating func forgetArrival(_ key: UInt64, ifLatestAt time: Int64) {
        let slot = mixHash(key)
        if arrived[key, hash: slot] == time { arrived.remove(key, hash: slot) }
    }

    /// Keeps a record `isRepeat` recognised, unheld: its time is counted in at its place in event
    /// time (it keeps its operation remembered for the records after it).
    mutating func noteRepeat(key: UInt64, time: Int64, id: UInt64) {
        var i = repeats.count
        repeats.append(Repeat(time: time, id: id, key: key))
        while i > 0 {
            let parent = (i - 1) / 2
            guard repeats[i].isBefore(repeats[parent]) else { break }
            repeats.swapAt(i, parent)
            i = parent
        }
    }

    /// Counts in the noted repeats before `watermark`: every record still to come is at or after it.
    mutating func countRepeats(before watermark: Int64) {
        countRepeats(through: Repeat(time: watermark, id: 0, key: 0), strictly: true)
    }

    /// Counts in the noted repeats up to `limit` (same time: by id), in event-time order.
    private mutating func countRepeats(through limit: Repeat, strictly: Bool = false) {
        while let top = repeats.first, strictly ? top.time < limit.time : !limit.isBefore(top) {
            let last = repeats.removeLast()
            if !repeats.isEmpty {
                repeats[0] = last
                siftDown()
            }
            _ = record(top.key, time: top.time)
        }
    }

    private mutating func siftDown() {
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < repeats.count, repeats[l].isBefore(repeats[m]) { m = l }
            if r < repeats.count, repeats[r].isBefore(repeats[m]) { m = r }
            if m == i { return }
            repeats.swapAt(i, m)
            i = m
        }
    }

    // MARK: in event-time order

    /// One record of operation `key` at `time`, in event-time order: whether it is its first.
    private mutating func record(_ key: UInt64, time: Int64) -> Bool {
        stats.records += 1
        forget(before: time &- timeoutSeconds &* 1_000_000_000)
        order.append((key, time))
        let slot = mixHash(key)   // seeded: correlationIds come from the stream
        if let seen = latest[key, hash: slot] {
            latest.set(key, hash: slot, max(seen, time))
            return false
        }
        latest.set(key, hash: slot, time)
        stats.operations += 1
        if latest.count > capacity { forgetOldest() }
        return true
    }

    /// Drops operations whose latest record is older than `limit`.
    private mutating func forget(before limit: Int64) {
        while let (key, time) = order.first, time < limit {
            order.popFirst()
            forget(key, ifLatestAt: time)
        }
    }

    /// Drops the operation heard from least recently (the cap).
    private mutating func forgetOldest() {
        while let (key, time) = order.popFirst() {
            if forget(key, ifLatestAt: time) {
                stats.forgotten += 1
                break
            }
        }
    }

    /// Drops `key` if its latest record is the one at `time` (else the queue entry is stale).
    @discardableResult
    private mutating func forget(_ key: UInt64, ifLatestAt time: Int64) -> Bool {
        let slot = mixHash(key)
        guard latest[key, hash: slot] == time else { return false }
        latest.remove(key, hash: slot)
        return true
    }
}
