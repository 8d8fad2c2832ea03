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

struct WriteBackCache<Key: FastHashable, Value> {
    let namespace: String
    let capacity: Int
    /// nil box value: known to be absent from the store.
    private(set) var entries = HashedTable<Key, CacheBox<Value>?>()
    private var tick: UInt64 = 0
    /// When an eviction found too few values it could drop (the rest held by `keep`), the next
    /// waits until this many are in memory: not a sort of the whole cache per insert.
    private var nextEvictionAt = 0
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
        if let found = cached(key) { return found }
        return try load(key, storageKey: storageKey, store: store, decode: decode)
    }

    /// What memory holds for `key` (marked used): a box, `.some(nil)` when the store is known to
    /// have none, nil when not in memory (then `load` it). The hot path: no closures.
    @inline(__always)
    mutating func cached(_ key: Key) -> CacheBox<Value>?? {
        tick &+= 1
        guard let found = entries[key, hash: key.hash64] else { return nil }
        found?.touch = tick
        return .some(found)
    }

    /// The box memory holds for `key`, without marking it used (nil: none in memory).
    func peek(_ key: Key) -> CacheBox<Value>? {
        entries[key, hash: key.hash64] ?? nil
    }

    /// Reads `key` from the store (after `cached` found nothing).
    mutating func load(_ key: Key, storageKey: () -> String, store: BaselineStore, decode: ([UInt8]) -> Value?) throws -> CacheBox<Value>? {
        let hash = key.hash64
        loads += 1
        let stored = storageKey()
        let box = try store.baselineValue(namespace: namespace, key: stored).flatMap(decode)
            .map { CacheBox($0, dirty: false, touch: tick, storageKey: stored) }
        entries.set(key, hash: hash, box)
        return box
    }

    /// Adds a new value (marked changed) and returns its box.
    mutating func insert(_ key: Key, _ value: Value, storageKey: String) -> CacheBox<Value> {
        tick &+= 1
        let box = CacheBox(value, dirty: true, touch: tick, storageKey: storageKey)
        entries.set(key, hash: key.hash64, .some(box))
        return box
    }

    /// Writes every changed value in its stored form, `encode` (given the box: it may bring the
    /// value up to date first). The caller wraps this in a transaction and, once it has committed
    /// (`BaselineStore.afterCommit`), calls `markSaved` with what this returns: a value is marked
    /// saved only when its write is durable, so a rolled-back save leaves it to the next.
    mutating func save(store: BaselineStore, encode: (CacheBox<Value>) throws -> [UInt8]) throws -> [CacheBox<Value>] {
        var written: [CacheBox<Value>] = []
        for case let box? in entries.allValues where box.dirty {
            try store.setBaselineValue(encode(box), namespace: namespace, key: box.storageKey)
            written.append(box)
        }
        return written
    }

    /// When over capacity, writes back and drops the least recently used values, down to nine
    /// tenths of it; values `keep` holds stay in memory (written back later, by a `save`).
    /// `alongside` writes what must be durable with the victims, in their transaction.
    @inline(__always)
    mutating func evictIfNeeded(store: BaselineStore, encode: (CacheBox<Value>) throws -> [UInt8],
                                keep: (Key, Value) -> Bool = { _, _ in false },
                                alongside: ([(key: Key, box: CacheBox<Value>)]) throws -> Void = { _ in }) throws {
        guard entries.count > max(capacity, nextEvictionAt) else { return }
        try evict(store: store, encode: encode, keep: keep, alongside: alongside)
    }

    private mutating func evict(store: BaselineStore, encode: (CacheBox<Value>) throws -> [UInt8], keep: (Key, Value) -> Bool,
                                alongside: ([(key: Key, box: CacheBox<Value>)]) throws -> Void) throws {
        let wanted = entries.count - capacity + max(1, capacity / 10)
        let victims = entries.entries.sorted { ($0.value?.touch ?? 0) < ($1.value?.touch ?? 0) }
            .filter { entry in !(entry.value.map { keep(entry.key, $0.value) } ?? false) }.prefix(wanted)
        try store.transaction {
            for case let (_, box?) in victims where box.dirty {
                try store.setBaselineValue(encode(box), namespace: namespace, key: box.storageKey)
            }
            try alongside(victims.compactMap { entry in entry.value.map { (entry.key, $0) } })
        }
        let gone = Set(victims.map(\.key))
        entries.removeAll { key, _ in gone.contains(key) }
        evictions += victims.count
        nextEvictionAt = entries.count > capacity ? entries.count + max(1, capacity / 10) : 0
    }

    /// Drops every value (counted as evictions). Only once a committed `save` has written them.
    mutating func dropAll() {
        evictions += entries.count
        entries.removeAll()
    }
}

/// Marks the values a committed `WriteBackCache.save` wrote as saved.
func markSaved<Value>(_ written: [CacheBox<Value>]) {
    for box in written { box.dirty = false }
}

/// A key that supplies its own well-mixed 64-bit hash (see `HashedTable`).
protocol FastHashable: Hashable {
    var hash64: UInt64 { get }
}

/// Mixes `x` with the per-process seed: the final step of every `FastHashable` hash (a stream
/// cannot choose keys that collide without knowing the seed).
@inline(__always)
func mixHash(_ x: UInt64) -> UInt64 {
    var z = (x ^ hashSeed) &* 0x9E37_79B9_7F4A_7C15
    z ^= z >> 32
    z = z &* 0xD6E8_FEB8_6659_FD93
    return z ^ z >> 32
}

private let hashSeed = UInt64.random(in: .min ... .max)

/// A 64-bit hash of a text's UTF-8 bytes, read eight at a time (the long ARM resource ids cost a
/// full SipHash per space per event as `String` dictionary keys).
func textHash(_ text: String) -> UInt64 {
    // Native strings are contiguous: read in place, no copy of the string (and no retain).
    if let h = text.utf8.withContiguousStorageIfAvailable({ hashBytes(UnsafeRawBufferPointer($0)) }) { return h }
    return Array(text.utf8).withUnsafeBytes(hashBytes)
}

private func hashBytes(_ raw: UnsafeRawBufferPointer) -> UInt64 {
    let n = raw.count
    @inline(__always) func word(_ at: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
    @inline(__always) func mix(_ h: UInt64, _ w: UInt64, _ k: UInt64) -> UInt64 {
        let z = (h ^ w) &* k
        return z ^ z >> 31
    }
    // Four independent lanes of 8 bytes each, so the multiplications overlap.
    var h1 = UInt64(n), h2: UInt64 = 0x2545_F491_4F6C_DD1D, h3: UInt64 = 0x9E37_79B9_7F4A_7C15, h4: UInt64 = 0x6A09_E667_F3BC_C909
    var i = 0
    while i + 32 <= n {
        h1 = mix(h1, word(i), 0xBF58_476D_1CE4_E5B9)
        h2 = mix(h2, word(i + 8), 0x94D0_49BB_1331_11EB)
        h3 = mix(h3, word(i + 16), 0xBF58_476D_1CE4_E5B9)
        h4 = mix(h4, word(i + 24), 0x94D0_49BB_1331_11EB)
        i += 32
    }
    while i + 8 <= n {
        h1 = mix(h1, word(i), 0xBF58_476D_1CE4_E5B9)
        i += 8
    }
    if i < n {
        // The last 8 bytes (overlapping a word already read), or the short text zero-padded.
        var last: UInt64 = 0
        if n >= 8 { last = word(n - 8) } else { for k in 0..<n { last |= UInt64(raw[k]) << UInt64(8 * k) } }
        h2 = mix(h2, last, 0x94D0_49BB_1331_11EB)
    }
    return mixHash(h1 ^ (h2 << 21 | h2 >> 43) ^ (h3 << 42 | h3 >> 22) ^ (h4 << 11 | h4 >> 53))
}

/// A fixed set of texts, tested by `textHash` (a `Set<String>` SipHashes the whole text per test).
struct TextSet {
    private var table = HashedTable<String, Bool>()

    init(_ texts: Set<String>) {
        for t in texts { table.set(t, hash: textHash(t), true) }
    }

    func contains(_ text: String) -> Bool { table[text, hash: textHash(text)] != nil }
}

/// Open addressing keyed by a caller-given 64-bit hash, so a look-up is one probe and one full
/// key comparison instead of a SipHash of the key (Swift's `Dictionary`). At most half full.
/// Linear probing: `remove` shifts the entries after a removed one back (no tombstones).
/// Each slot holds its hash, key and value side by side: a look-up that finds its key reads one
/// cache line, not one per array (the tables of the event-time path are probed several times per
/// record, and most of their cost is memory, not instructions).
struct HashedTable<Key: Equatable, Value> {
    private struct Slot {
        /// 0: empty; stored hashes have the top bit set.
        var hash: UInt64
        var key: Key?
        var value: Value?

        static var empty: Slot { Slot(hash: 0, key: nil, value: nil) }
    }

    private var slots: [Slot]
    private(set) var count = 0

    init() {
        slots = Array(repeating: .empty, count: 16)
    }

    @inline(__always)
    private func slot(_ key: Key, _ h: UInt64) -> Int {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i].hash
            if s == 0 || (s == h && slots[i].key == key) { return i }
            i = (i + 1) & mask
        }
    }

    subscript(key: Key, hash hash: UInt64) -> Value? {
        let i = slot(key, hash | 1 << 63)
        return slots[i].hash == 0 ? nil : slots[i].value
    }

    mutating func set(_ key: Key, hash: UInt64, _ value: Value) {
        if (count + 1) * 2 > slots.count { rebuild(capacity: slots.count * 2, keeping: { _ in true }) }
        let h = hash | 1 << 63
        let i = slot(key, h)
        if slots[i].hash == 0 {
            slots[i] = Slot(hash: h, key: key, value: value)
            count += 1
        } else {
            slots[i].value = value
        }
    }

    /// `set`, for a table used as a bounded cache: when it already holds `limit` entries it is
    /// emptied first (starting over is cheaper than tracking use, and the entries are rebuilt on
    /// demand).
    mutating func set(_ key: Key, hash: UInt64, _ value: Value, startingOverAt limit: Int) {
        if count >= limit { removeAll() }
        set(key, hash: hash, value)
    }

    mutating func removeAll() {
        if count > 0 { self = HashedTable() }
    }

    /// Removes `key`; returns its value (nil: it was not there).
    @discardableResult
    mutating func remove(_ key: Key, hash: UInt64) -> Value? {
        var i = slot(key, hash | 1 << 63)
        guard slots[i].hash != 0 else { return nil }
        let removed = slots[i].value
        let mask = slots.count - 1
        // Backward shift: each later entry of the run whose home slot is not in (i, j] moves to i.
        var j = i
        while true {
            j = (j + 1) & mask
            if slots[j].hash == 0 { break }
            let home = Int(truncatingIfNeeded: slots[j].hash) & mask
            let stays = i <= j ? (i < home && home <= j) : (i < home || home <= j)
            if stays { continue }
            slots.swapAt(i, j)
            i = j
        }
        slots[i] = .empty
        count -= 1
        return removed
    }

    /// Drops the entries `drop` says so of (one pass, rebuilds the table).
    mutating func removeAll(where drop: (Key, Value) -> Bool) {
        rebuild(capacity: slots.count, keeping: { !drop($0.key, $0.value) })
    }

    /// Every entry, in table order.
    var entries: [(key: Key, value: Value)] {
        var out: [(key: Key, value: Value)] = []
        out.reserveCapacity(count)
        for s in slots where s.hash != 0 { out.append((s.key!, s.value!)) }
        return out
    }

    /// Every value, in table order.
    var allValues: [Value] {
        var out: [Value] = []
        out.reserveCapacity(count)
        for s in slots where s.hash != 0 { out.append(s.value!) }
        return out
    }

    private mutating func rebuild(capacity: Int, keeping keep: ((key: Key, value: Value)) -> Bool) {
        let old = slots
        slots = Array(repeating: .empty, count: capacity)
        count = 0
        for s in old where s.hash != 0 && keep((s.key!, s.value!)) {
            slots[slot(s.key!, s.hash)] = s
            count += 1
        }
    }
}
