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
// Invariants:
// - Operations are keyed as the assembler keys them: (correlationId, operation), compared
//   case-insensitively, by a 64-bit hash (a collision costs one operation's learning, never an
//   alert of its own).
// - Fed in event-time order (released from `EventTimeBuffer`), so which record is first does not
//   depend on arrival order.
// - An operation is remembered while its records keep coming: until no record of it has come for
//   `timeoutSeconds` of event time (the assembler's operation timeout). Memory is bounded by
//   `capacity`; past it the operation heard from least recently is forgotten (counted), and a later
//   record of it would count as a new operation.
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
        stats.records += 1
        forget(before: time &- timeoutSeconds &* 1_000_000_000)
        let key = OperationAssembler.Key(correlationId: life.correlationId, operation: life.operation).hashCode
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
