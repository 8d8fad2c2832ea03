// Builds documents from Swift: CSV rows, assembled operations, synthetic test events.
public struct JSONBuilder: Sendable {
    private var nodes = ContiguousArray<JSONNode>()
    private var arena = ContiguousArray<UInt8>()
    private var open: [(index: Int, count: UInt64)] = []

    public init() {}

    /// A builder with room for `nodes` values and `bytes` of keys and strings reserved up front,
    /// so a document of about that size is built without regrowing its buffers.
    public init(nodes: Int, bytes: Int) {
        self.nodes.reserveCapacity(nodes)
        arena.reserveCapacity(bytes)
    }

    private mutating func put(_ s: String) -> (UInt32, UInt32) {
        var s = s
        return s.withUTF8 { (append($0), UInt32($0.count)) }
    }

    private mutating func begin(_ type: JSONType, key: String?) -> Int {
        var n = JSONNode()
        n.type = type.rawValue
        if let key { (n.key_off, n.key_len) = put(key) } else { n.key_len = VJ_NO_KEY_VALUE }
        if !open.isEmpty { open[open.count - 1].count += 1 }
        nodes.append(n)
        return nodes.count - 1
    }

    private mutating func scalar(_ type: JSONType, key: String?, _ set: (inout JSONNode) -> Void) {
        let i = begin(type, key: key)
        set(&nodes[i])
        nodes[i].end = UInt32(nodes.count)
    }

    public mutating func beginObject(key: String? = nil) { open.append((begin(.object, key: key), 0)) }
    public mutating func beginArray(key: String? = nil) { open.append((begin(.array, key: key), 0)) }

    public mutating func end() {
        let (i, count) = open.removeLast()
        nodes[i].v.count = count
        nodes[i].end = UInt32(nodes.count)
    }

    public mutating func string(_ value: String, key: String? = nil) {
        let (off, len) = put(value)
        scalar(.string, key: key) { $0.v.s.off = off; $0.v.s.len = len }
    }

    public mutating func int(_ value: Int64, key: String? = nil) { scalar(.int, key: key) { $0.v.i = value } }
    public mutating func double(_ value: Double, key: String? = nil) { scalar(.double, key: key) { $0.v.d = value } }
    public mutating func bool(_ value: Bool, key: String? = nil) { scalar(value ? .true : .false, key: key) { _ in } }
    public mutating func null(key: String? = nil) { scalar(.null, key: key) { _ in } }

    /// Copies `value` and everything under it, under `key`.
    public mutating func copy(_ value: JSONValue, key: String? = nil) {
        let src = value.document
        let start = value.index
        let stop = Int(src.nodes[start].end)
        let delta = nodes.count - start
        if !open.isEmpty { open[open.count - 1].count += 1 }
        src.nodes.withUnsafeBufferPointer { srcNodes in
            src.arena.withUnsafeBufferPointer { srcArena in
                // Room for every node and every key and string byte first: one allocation at most,
                // where appending value by value regrew both buffers several times per subtree.
                var bytes = key?.utf8.count ?? 0
                for i in start..<stop {
                    let n = srcNodes[i]
                    if i > start, n.key_len != VJ_NO_KEY_VALUE { bytes += Int(n.key_len) }
                    if n.type == JSONType.string.rawValue { bytes += Int(n.v.s.len) }
                }
                Self.makeRoom(&nodes, for: stop - start)
                Self.makeRoom(&arena, for: bytes)
                for i in start..<stop {
                    var n = srcNodes[i]
                    n.end = UInt32(Int(n.end) + delta)
                    if i == start {
                        if let key { (n.key_off, n.key_len) = put(key) } else { n.key_len = VJ_NO_KEY_VALUE }
                    } else if n.key_len != VJ_NO_KEY_VALUE {
                        n.key_off = append(UnsafeBufferPointer(rebasing: srcArena[Int(n.key_off)..<Int(n.key_off + n.key_len)]))
                    }
                    if n.type == JSONType.string.rawValue {
                        n.v.s.off = append(UnsafeBufferPointer(rebasing: srcArena[Int(n.v.s.off)..<Int(n.v.s.off + n.v.s.len)]))
                    }
                    nodes.append(n)
                }
            }
        }
    }

    /// Capacity for `more` elements, grown geometrically (an exact `reserveCapacity` per copy would
    /// reallocate on every copy that follows).
    private static func makeRoom<T>(_ array: inout ContiguousArray<T>, for more: Int) {
        let need = array.count + more
        if need > array.capacity { array.reserveCapacity(max(need, 2 * array.capacity)) }
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let off = UInt32(arena.count)
        arena.append(contentsOf: bytes)
        return off
    }

    /// The finished document. Every container must have been ended.
    public func build() -> JSONDocument {
        precondition(open.isEmpty, "JSONBuilder: \(open.count) container(s) not ended")
        precondition(!nodes.isEmpty, "JSONBuilder: empty document")
        return JSONDocument(nodes: nodes, arena: arena)
    }
}
