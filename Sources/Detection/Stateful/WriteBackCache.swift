/// Keeps the baselines in use in memory and writes changed ones back in batches: one SQLite read
/// per key per residency, no write on the hot path. Values sit in boxes so the hot path mutates
/// them in place (no copy-on-write of a profile's arrays per event). Bounded: past `capacity`
/// keys, the least recently used tenth is written back (if changed) and dropped; those are
/// counted as evictions.
///
/// The box's fields are read and written on every event; nothing holds an access to one across a
/// call that could reach the same box, so their dynamic exclusivity checks are switched off.
final class CacheBox<Value> {
    @exclusivity(unchecked) var value: Value
    @exclusivity(unchecked) var dirty: Bool
    @exclusivity(unchecked) var touch: UInt64
    /// The key it is stored under (built once, when the box is loaded or made).
    let storageKey: String

    init(_ value: Value, dirty: Bool, touch: UInt64, storageKey: String) {
        self.value = value
        self.dirty = dirty
        self.touch = touch
        self.storageKey = storageKey
    }
}

struct WriteBackCache<Key: Hashable, Value> {
    let namespace: String
    let capacity: Int
    /// nil box value: known to be absent from the store.
    private(set) var entries: [Key: CacheBox<Value>?] = [:]
    private var tick: UInt64 = 0
    private(set) var loads = 0
    private(set) var evictions = 0

    init(namespace: String, capacity: Int) {
        self.namespace = namespace
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    /// The box for `key`, from memory or the store (under `storageKey`, built only then, read by
    /// `decode`; unreadable counts as absent); nil when the store has none.
    mutating func get(_ key: Key, storageKey: () -> String, store: BaselineStore, decode: ([UInt8]) -> Value?) throws -> CacheBox<Value>? {
        tick &+= 1
        if let found = entries[key] {
            found?.touch = tick
            return found
        }
        loads += 1
        let stored = storageKey()
        let box = try store.baselineValue(namespace: namespace, key: stored).flatMap(decode)
            .map { CacheBox($0, dirty: false, touch: tick, storageKey: stored) }
        entries[key] = .some(box)
        return box
    }

    /// Adds a new value (marked changed) and returns its box.
    mutating func insert(_ key: Key, _ value: Value, storageKey: String) -> CacheBox<Value> {
        tick &+= 1
        let box = CacheBox(value, dirty: true, touch: tick, storageKey: storageKey)
        entries[key] = .some(box)
        return box
    }

    /// Writes every changed value in its stored form, `encode` (the caller wraps this in a transaction).
    mutating func save(store: BaselineStore, encode: (Value) -> [UInt8]) throws {
        for case let box?? in entries.values {
            guard box.dirty else { continue }
            try store.setBaselineValue(encode(box.value), namespace: namespace, key: box.storageKey)
            box.dirty = false
        }
    }

    /// When over capacity, writes back and drops the least recently used tenth.
    @inline(__always)
    mutating func evictIfNeeded(store: BaselineStore, encode: (Value) -> [UInt8]) throws {
        guard entries.count > capacity else { return }
        try evict(store: store, encode: encode)
    }

    private mutating func evict(store: BaselineStore, encode: (Value) -> [UInt8]) throws {
        let victims = entries.sorted { ($0.value?.touch ?? 0) < ($1.value?.touch ?? 0) }.prefix(max(1, capacity / 10))
        try store.transaction {
            for case let (_, box??) in victims where box.dirty {
                try store.setBaselineValue(encode(box.value), namespace: namespace, key: box.storageKey)
            }
        }
        for (key, _) in victims { entries[key] = nil }
        evictions += victims.count
    }

    /// Writes back every changed value and drops them all (counted as evictions); the caller
    /// wraps this in a transaction.
    mutating func saveAndDropAll(store: BaselineStore, encode: (Value) -> [UInt8]) throws {
        try save(store: store, encode: encode)
        evictions += entries.count
        entries.removeAll()
    }
}
