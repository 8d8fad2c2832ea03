// The open windows of a `Correlator` as plain values, and where they are kept between runs.
// `StateDatabase` (SQLite, tables `correlation_windows` and `correlation_clock`) is the durable
// store; `InMemoryCorrelationStore` is the fake for tests.
import EventModel
import StateStore

/// One event in a correlation window.
public struct CorrelationEntry: Sendable, Hashable, Codable {
    /// Event time, nanoseconds.
    public var time: Int64
    /// Arrival order inside the correlator (ties in event time keep it).
    public var seq: UInt64
    /// The event's id (`Event.idString`).
    public var id: String
    /// Index of the base rule in the correlation's `rules:`.
    public var step: Int
    /// value_count: the `condition.field` text; value_sum / value_avg: its number.
    public var value: String?
    public var number: Double?
    /// The record's JSON, for the first `evidenceSample` entries of a group only.
    public var evidence: String?
    public var position: SourcePosition

    public init(time: Int64, seq: UInt64, id: String, step: Int, value: String? = nil, number: Double? = nil,
                evidence: String? = nil, position: SourcePosition) {
        self.time = time
        self.seq = seq
        self.id = id
        self.step = step
        self.value = value
        self.number = number
        self.evidence = evidence
        self.position = position
    }
}

/// The newest event time the windows took, and the ids of the events taken at exactly that time
/// (at most `TakenMark.maxIds`).
public struct TakenMark: Sendable, Hashable {
    public static let maxIds = 10_000
    public var time: Int64 = .min
    public var ids = Set<String>()

    public init(time: Int64 = .min, ids: Set<String> = []) {
        self.time = time
        self.ids = ids
    }

    mutating func note(time t: Int64, id: String) {
        if t > time {
            time = t
            ids.removeAll(keepingCapacity: true)
            ids.insert(id)
        } else if t == time, ids.count < TakenMark.maxIds {
            ids.insert(id)
        }
    }
}

/// Every open window of a correlator, keyed by correlation rule id and group-by key.
public struct CorrelationSnapshot: Sendable {
    public struct Window: Sendable, Hashable {
        public var correlationId: String
        /// `CompiledCorrelation.definitionHash` of the rule the window was opened under.
        public var definition: String
        /// Group-by values joined by U+001F (empty without group-by).
        public var key: String
        public var first: Int64
        public var last: Int64
        /// In event-time order.
        public var entries: [CorrelationEntry]
        public var entities: [Entity]

        public init(correlationId: String, definition: String, key: String, first: Int64, last: Int64,
                    entries: [CorrelationEntry], entities: [Entity]) {
            self.correlationId = correlationId
            self.definition = definition
            self.key = key
            self.first = first
            self.last = last
            self.entries = entries
            self.entities = entities
        }
    }

    /// Newest event time the correlator saw.
    public var now: Int64
    public var taken: TakenMark
    public var windows: [Window]

    public init(now: Int64 = .min, taken: TakenMark = TakenMark(), windows: [Window] = []) {
        self.now = now
        self.taken = taken
        self.windows = windows
    }
}

/// What a restore kept and what it left out.
public struct CorrelationRestoreReport: Sendable, Equatable {
    public var restored = 0
    /// Windows of correlations no longer loaded.
    public var droppedRemoved = 0
    /// Windows of correlations whose definition (type, rules, keys, timespan, condition) changed.
    public var droppedChanged = 0
    /// Rows whose body could not be decoded.
    public var unreadable = 0
    /// Windows over `maxGroups` for their correlation (least recently active first), and entries
    /// over `maxEventsPerGroup` (oldest first).
    public var evictedGroups = 0
    public var droppedEvents = 0

    public init() {}

    public var dropped: Int { droppedRemoved + droppedChanged + unreadable }
}

/// Where open correlation windows are kept. Writes happen inside the caller's transaction.
public protocol CorrelationStore: AnyObject {
    func correlationWindows() throws -> [StoredCorrelationWindow]
    func saveCorrelationWindow(_ w: StoredCorrelationWindow) throws
    @discardableResult
    func removeCorrelationWindow(correlationId: String, groupKey: String) throws -> Bool
    func correlationClock() throws -> StoredCorrelationClock?
    func saveCorrelationClock(_ c: StoredCorrelationClock) throws
}

extension StateDatabase: CorrelationStore {}

/// A `CorrelationStore` in memory; counts writes so tests can see that only changed windows are written.
public final class InMemoryCorrelationStore: CorrelationStore, @unchecked Sendable {
    public private(set) var windows: [String: StoredCorrelationWindow] = [:]
    public private(set) var clock: StoredCorrelationClock?
    public private(set) var writes = 0
    public private(set) var deletes = 0

    public init() {}

    private static func key(_ id: String, _ group: String) -> String { id + "\u{1E}" + group }

    public func correlationWindows() throws -> [StoredCorrelationWindow] {
        windows.values.sorted { ($0.correlationId, $0.groupKey) < ($1.correlationId, $1.groupKey) }
    }

    public func saveCorrelationWindow(_ w: StoredCorrelationWindow) throws {
        writes += 1
        windows[Self.key(w.correlationId, w.groupKey)] = w
    }

    @discardableResult
    public func removeCorrelationWindow(correlationId: String, groupKey: String) throws -> Bool {
        deletes += 1
        return windows.removeValue(forKey: Self.key(correlationId, groupKey)) != nil
    }

    public func correlationClock() throws -> StoredCorrelationClock? { clock }

    public func saveCorrelationClock(_ c: StoredCorrelationClock) throws { clock = c }
}
