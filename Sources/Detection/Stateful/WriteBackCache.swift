/// Keeps the baselines in use in memory and writes changed ones back in batches: one SQLite read
/// per key per residency, no write on the hot path. Bounded: past `capacity` keys, the least
/// recently used tenth is written back (if changed) and dropped; those are counted as evictions.
struct WriteBackCache<Value: StoredJSON> {
    struct Entry {
        var value: Value?
        var dirty: Bool
        var touch: UInt64
    }

    let namespace: String
    let capacity: Int
    private(set) var entries: [String: Entry] = [:]
    private var tick: UInt64 = 0
    private(set) var loads = 0
    private(set) var evictions = 0

    init(namespace: String, capacity: Int) {
        self.namespace = namespace
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    /// The value for `key`, from memory or the store (a missing key is remembered as missing).
    mutating func get(_ key: String, store: BaselineStore) throws -> Value? {
        tick &+= 1
        if var e = entries[key] {
            e.touch = tick
            entries[key] = e
            return e.value
        }
        loads += 1
        let value = try store.baselineValue(namespace: namespace, key: key).flatMap(Value.decode)
        entries[key] = Entry(value: value, dirty: false, touch: tick)
        return value
    }

    mutating func set(_ key: String, _ value: Value) {
        tick &+= 1
        entries[key] = Entry(value: value, dirty: true, touch: tick)
    }

    var dirtyCount: Int { entries.values.filter(\.dirty).count }

    /// Writes every changed value (the caller wraps this in a transaction).
    mutating func save(store: BaselineStore) throws {
        for (key, e) in entries where e.dirty {
            if let v = e.value { try store.setBaselineValue(v.encoded(), namespace: namespace, key: key) }
        }
        for key in entries.keys where entries[key]!.dirty { entries[key]!.dirty = false }
    }

    /// When over capacity, writes back and drops the least recently used tenth.
    mutating func evictIfNeeded(store: BaselineStore) throws {
        guard entries.count > capacity else { return }
        let victims = entries.sorted { $0.value.touch < $1.value.touch }.prefix(max(1, capacity / 10))
        try store.transaction {
            for (key, e) in victims where e.dirty {
                if let v = e.value { try store.setBaselineValue(v.encoded(), namespace: namespace, key: key) }
            }
        }
        for (key, _) in victims { entries[key] = nil }
        evictions += victims.count
    }
}
