import FastJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// One pass over an object's members that records where each known key sits.
//
// Why not `JSONValue[name]` per field: a normaliser needs 10–20 fields from a root of 10–40
// members, and each subscript folds its key into a fresh array and rescans the object. Here the
// keys are folded once (when the table is built) and the object is walked once; each member costs
// a length-bucket lookup and, rarely, a byte compare. No dictionary, no allocation per record: the
// slots live in stack memory (`withUnsafeTemporaryAllocation`).

/// A set of keys a normaliser looks for in one kind of object. `name` is the key, compared
/// ASCII-case-insensitively; the first member that matches wins when a record repeats a key.
protocol FieldKey: CaseIterable, Sendable {
    var slot: Int { get }
    var name: String { get }
}

extension FieldKey where Self: RawRepresentable, RawValue == Int {
    var slot: Int { rawValue }
    /// Default: the case name, lower-cased (cases are named after the key).
    var name: String { String(describing: self).lowercased() }
}

/// Folded key bytes grouped by length, flattened into one byte pool so a scan touches only
/// contiguous memory.
struct KeyTable<Key: FieldKey>: Sendable {
    private struct Entry: Sendable { var start: Int32; var slot: Int32 }
    private let pool: [UInt8]
    /// Entries sorted by key length; `bucket[len]..<bucket[len + 1]` are the keys of length `len`.
    private let entries: [Entry]
    private let bucket: [Int32]
    let slotCount: Int

    init() {
        var keys: [(bytes: [UInt8], slot: Int)] = []
        for key in Key.allCases { keys.append((JSONPathLookup.foldedBytes(key.name), key.slot)) }
        keys.sort { $0.bytes.count < $1.bytes.count }
        let maxLen = keys.last?.bytes.count ?? 0
        var pool: [UInt8] = []
        var entries: [Entry] = []
        var bucket = [Int32](repeating: 0, count: maxLen + 2)
        var i = 0
        for len in 0...maxLen {
            bucket[len] = Int32(entries.count)
            while i < keys.count, keys[i].bytes.count == len {
                entries.append(Entry(start: Int32(pool.count), slot: Int32(keys[i].slot)))
                pool.append(contentsOf: keys[i].bytes)
                i += 1
            }
        }
        bucket[maxLen + 1] = Int32(entries.count)
        self.pool = pool
        self.entries = entries
        self.bucket = bucket
        self.slotCount = (keys.map(\.slot).max() ?? -1) + 1
    }

    /// Records in `slots` (pre-filled with -1 by the caller) the node index of each known key's
    /// first occurrence among `object`'s direct members.
    func scan(_ object: JSONValue, into slots: UnsafeMutableBufferPointer<Int32>) {
        guard object.type == .object else { return }
        let doc = object.document
        let maxLen = bucket.count - 2
        doc.nodes.withUnsafeBufferPointer { nodes in
            doc.arena.withUnsafeBufferPointer { arena in
                pool.withUnsafeBufferPointer { pool in
                    entries.withUnsafeBufferPointer { entries in
                        bucket.withUnsafeBufferPointer { bucket in
                            var i = object.index + 1
                            let end = Int(nodes[object.index].end)
                            while i < end {
                                let n = nodes[i]
                                let len = Int(n.key_len)
                                if len <= maxLen {
                                    let k = Int(n.key_off)
                                    var e = Int(bucket[len])
                                    let stop = Int(bucket[len + 1])
                                    while e < stop {
                                        let p = Int(entries[e].start)
                                        // Back to front: keys of one length mostly share a prefix
                                        // (claim URIs such as `http://schemas.xmlsoap.org/…/claims/upn`)
                                        // and differ at the end. A key already in lower case (most
                                        // claim URIs) is confirmed by one memcmp of the rest.
                                        var j = len
                                        if len > 8, JSONPathLookup.fold(arena[k + len - 1]) == pool[p + len - 1],
                                           memcmp(arena.baseAddress! + k, pool.baseAddress! + p, len) == 0 {
                                            j = 0
                                        }
                                        while j > 0, JSONPathLookup.fold(arena[k + j - 1]) == pool[p + j - 1] { j -= 1 }
                                        if j == 0 {
                                            let s = Int(entries[e].slot)
                                            if slots[s] < 0 { slots[s] = Int32(i) }
                                            break
                                        }
                                        e += 1
                                    }
                                }
                                i = Int(n.end)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The known members of one object, after a scan.
struct Scanned<Key: FieldKey> {
    let object: JSONValue
    let slots: UnsafeMutableBufferPointer<Int32>

    subscript(_ key: Key) -> JSONValue? {
        let i = slots[key.slot]
        return i < 0 ? nil : JSONValue(document: object.document, index: Int(i))
    }

    func has(_ key: Key) -> Bool { slots[key.slot] >= 0 }

    /// Non-empty text at `key` (strings as they are, numbers spelled out; `{value: …}` objects
    /// of the Activity Log REST shape give their `value`).
    func text(_ key: Key) -> String? { self[key].flatMap(FieldText.text) }
}

extension KeyTable {
    /// Scans `object` and hands the result to `body`; the slots live on the stack.
    func withScan<R>(_ object: JSONValue, _ body: (Scanned<Key>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: slotCount) { slots in
            slots.initialize(repeating: -1)
            scan(object, into: slots)
            return body(Scanned(object: object, slots: slots))
        }
    }
}
