// Compact JSON text from documents and Swift values. Used for `vigil events`, alert evidence and
// sink payloads, so escaping follows RFC 8259 exactly (control characters as \u00XX).
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Empties the writer, keeping its storage for the next document (one writer per output loop).
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Writes an object's members (`"k":v,…`) without the braces, so a caller can put its own
    /// members in front. Writes nothing for other types. Returns how many members were written.
    @discardableResult
    public mutating func writeMembers(of object: JSONValue) -> Int {
        guard object.type == .object else { return 0 }
        let doc = object.document
        var count = 0
        doc.nodes.withUnsafeBufferPointer { nodes in
            doc.arena.withUnsafeBufferPointer { arena in
                var c = object.index + 1
                let end = Int(nodes[object.index].end)
                while c < end {
                    if count > 0 { bytes.append(UInt8(ascii: ",")) }
                    let child = nodes[c]
                    writeString(UnsafeBufferPointer(rebasing: arena[Int(child.key_off)..<Int(child.key_off + child.key_len)]))
                    bytes.append(UInt8(ascii: ":"))
                    writeNode(c, nodes, arena)
                    count += 1
                    c = Int(child.end)
                }
            }
        }
        return count
    }

    public mutating func write(_ value: JSONValue) {
        let doc = value.document
        doc.nodes.withUnsafeBufferPointer { nodes in
            doc.arena.withUnsafeBufferPointer { arena in
                writeNode(value.index, nodes, arena)
            }
        }
    }

    private mutating func writeNode(_ i: Int, _ nodes: UnsafeBufferPointer<JSONNode>, _ arena: UnsafeBufferPointer<UInt8>) {
        let n = nodes[i]
        switch JSONType(rawValue: n.type) ?? .null {
        case .null: raw("null")
        case .true: raw("true")
        case .false: raw("false")
        case .int: raw(String(n.v.i))
        case .uint: raw(String(n.v.u))
        case .double: raw(JSONWriter.format(n.v.d))
        case .string: writeString(UnsafeBufferPointer(rebasing: arena[Int(n.v.s.off)..<Int(n.v.s.off + n.v.s.len)]))
        case .array, .object:
            let isObject = n.type == JSONType.object.rawValue
            bytes.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
            var c = i + 1
            var first = true
            while c < Int(n.end) {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                let child = nodes[c]
                if isObject {
                    writeString(UnsafeBufferPointer(rebasing: arena[Int(child.key_off)..<Int(child.key_off + child.key_len)]))
                    bytes.append(UInt8(ascii: ":"))
                }
                writeNode(c, nodes, arena)
                c = Int(child.end)
            }
            bytes.append(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    public mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }
    public mutating func raw(_ b: UInt8) { bytes.append(b) }

    public mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { writeString($0) }
    }

    public mutating func writeString(_ s: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        let n = s.count
        var k = 0
        while k < n, JSONWriter.plain(s[k]) { k += 1 }
        // Most strings need no escaping: one copy.
        if k > 0 { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: s[0..<k])) }
        if k < n { writeEscaped(UnsafeBufferPointer(rebasing: s[k..<n])) }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always) static func plain(_ b: UInt8) -> Bool { b >= 0x20 && b != UInt8(ascii: "\"") && b != 92 }

    /// The rest of a string from its first byte that needs escaping (JSON text carried as a string,
    /// such as alert evidence, has a quote every few bytes). Escaped into a stack chunk, appended
    /// per chunk: no `Array.append` per byte.
    private mutating func writeEscaped(_ s: UnsafeBufferPointer<UInt8>) {
        let chunk = 2048
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunk) { out in
            var t = 0
            for b in s {
                if t > chunk - 6 {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: out[0..<t]))
                    t = 0
                }
                if JSONWriter.plain(b) { out[t] = b; t += 1; continue }
                out[t] = 92
                switch b {
                case UInt8(ascii: "\""), 92: out[t + 1] = b; t += 2
                case 0x0A: out[t + 1] = UInt8(ascii: "n"); t += 2
                case 0x0D: out[t + 1] = UInt8(ascii: "r"); t += 2
                case 0x09: out[t + 1] = UInt8(ascii: "t"); t += 2
                default:
                    let hex = { (n: UInt8) -> UInt8 in n < 10 ? 48 + n : 87 + n }
                    out[t + 1] = UInt8(ascii: "u"); out[t + 2] = 48; out[t + 3] = 48
                    out[t + 4] = hex(b >> 4); out[t + 5] = hex(b & 15)
                    t += 6
                }
            }
            if t > 0 { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: out[0..<t])) }
        }
    }

    /// Shortest round-tripping spelling; integral values without a trailing ".0".
    public static func format(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}

/// Small helpers to emit objects field by field without a document.
extension JSONWriter {
    public mutating func beginObject() { bytes.append(UInt8(ascii: "{")) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { bytes.append(UInt8(ascii: "[")) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")) }
    public mutating func comma() { bytes.append(UInt8(ascii: ",")) }
    public mutating func key(_ k: String) { writeString(k); bytes.append(UInt8(ascii: ":")) }
    /// Writes `"key":` preceded by a comma unless `first`; sets `first` to false.
    public mutating func field(_ k: String, first: inout Bool) {
        if !first { comma() }
        first = false
        key(k)
    }
}
