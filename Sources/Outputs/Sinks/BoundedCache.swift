/// A map that holds at most `capacity` entries, forgetting the least recently used ones first
/// (approximately: two generations; a hit in the old one moves the entry to the new one).
///
/// Only for what can be fetched again: an entry that is forgotten must cost at most an extra request,
/// never a lost piece of work. Not thread-safe; keep it behind its owner's lock.
struct BoundedCache<Key: Hashable, Value> {
    let capacity: Int
    private var young: [Key: Value] = [:]
    private var old: [Key: Value] = [:]

    init(capacity: Int) {
        self.capacity = max(2, capacity)
    }

    var count: Int { young.count + old.count }

    mutating func value(for key: Key) -> Value? {
        if let v = young[key] { return v }
        guard let v = old.removeValue(forKey: key) else { return nil }
        insert(v, for: key)
        return v
    }

    mutating func insert(_ value: Value, for key: Key) {
        old.removeValue(forKey: key)
        young[key] = value
        if young.count >= capacity / 2 {
            old = young
            young = [:]
        }
    }

    mutating func removeValue(for key: Key) {
        young.removeValue(forKey: key)
        old.removeValue(forKey: key)
    }
}
