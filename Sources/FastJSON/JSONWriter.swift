// Compact JSON text from documents and Swift values. Used for `vigil events`, alert evidence and
// sink payloads, so escaping follows RFC 8259 exactly (control characters as \u00XX).
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

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
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for b in s {
            switch b {
            case UInt8(ascii: "\""): bytes.append(92); bytes.append(b)
            case 92: bytes.append(92); bytes.append(92)
            case 0x0A: bytes.append(92); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(92); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(92); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
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
