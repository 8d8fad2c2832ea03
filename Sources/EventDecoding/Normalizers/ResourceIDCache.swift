import EventModel
import FastJSON
import Synchronization

/// Split resource ids by their text, shared by every event that names the same resource.
///
/// A stream names few resources many times (a workspace, its computes, a key vault). Splitting the
/// id again for each record allocated its text's parts anew every time, and every held event kept
/// its own copies. Shared, an event's `resource` costs a few retains, its parts are freed once,
/// and comparing two events' ids finds the same storage first (the anomaly baselines look scopes up
/// by the resource id's text for every event they learn).
///
/// Bounded: at `limit` distinct ids it starts over. Thread-safe (decoding lanes share it); a lookup
/// holds the lock for one dictionary access.
final class ResourceIDCache: Sendable {
    static let shared = ResourceIDCache()
    static let limit = 4_096

    private let table = Mutex<[Key: ResourceID]>([:])

    /// The text with its 64-bit hash: the dictionary hashes one word, not the whole id (SipHash
    /// over ~150 bytes cost more than splitting the id did).
    private struct Key: Hashable {
        let text: String
        let hash: UInt64

        init(_ text: String) {
            self.text = text
            hash = fastHash64(text)
        }

        static func == (a: Key, b: Key) -> Bool { a.hash == b.hash && a.text == b.text }
        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    /// The resource id `text` names: the one already split, or split now and kept.
    func resource(_ text: String) -> ResourceID {
        let key = Key(text)
        if let known = table.withLock({ $0[key] }) { return known }
        let id = ResourceID(raw: text)
        table.withLock { t in
            if t.count >= Self.limit { t.removeAll(keepingCapacity: true) }
            t[key] = id
        }
        return id
    }

    var count: Int { table.withLock { $0.count } }
}
