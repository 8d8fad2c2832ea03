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

    public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }
    public mutating func raw(_ b: UInt8) { bytes.append(b) }

    public mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { writeString($0) }
    }

    public mutating func writeString(_ s: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        // Copy runs that need no escaping in one go; escape the rest byte by byte.
        var run = 0
        var k = 0
        let n = s.count
        while k < n {
            let b = s[k]
            if b >= 0x20, b != UInt8(ascii: "\""), b != 92 { k += 1; continue }
            if run < k { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: s[run..<k])) }
            switch b {
            case UInt8(ascii: "\""): bytes.append(92); bytes.append(b)
            case 92: bytes.append(92); bytes.append(92)
            case 0x0A: bytes.append(92); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(92); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(92); bytes.append(UInt8(ascii: "t"))
            default:
                let hex = { (n: UInt8) -> UInt8 in n < 10 ? 48 + n : 87 + n }
                bytes.append(92); bytes.append(UInt8(ascii: "u")); bytes.append(48); bytes.append(48)
                bytes.append(hex(b >> 4)); bytes.append(hex(b & 15))
            }
            k += 1
            run = k
        }
        if run < n { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: s[run..<n])) }
        bytes.append(UInt8(ascii: "\""))
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
