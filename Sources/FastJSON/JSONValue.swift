// A view of one node of a JSONDocument. Cheap to copy: a document reference and an index.
public struct JSONValue: Sendable {
    public let document: JSONDocument
    public let index: Int

    public init(document: JSONDocument, index: Int) {
        self.document = document
        self.index = index
    }

    @inline(__always) var node: JSONNode { document.nodes[index] }

    public var type: JSONType { JSONType(rawValue: node.type) ?? .null }
    public var isNull: Bool { type == .null }
    public var isContainer: Bool { type == .object || type == .array }

    /// Number of direct children of an object or array, else 0.
    public var count: Int { isContainer ? Int(node.v.count) : 0 }

    public var string: String? {
        guard type == .string else { return nil }
        return withStringBytes { String(decoding: $0, as: UTF8.self) }
    }

    public var bool: Bool? {
        switch type {
        case .true: return true
        case .false: return false
        default: return nil
        }
    }

    public var int64: Int64? {
        switch type {
        case .int: return node.v.i
        case .uint: return node.v.u <= UInt64(Int64.max) ? Int64(node.v.u) : nil
        case .double: let d = node.v.d; return d.rounded() == d && abs(d) < 9e18 ? Int64(d) : nil
        default: return nil
        }
    }

    public var double: Double? {
        switch type {
        case .int: return Double(node.v.i)
        case .uint: return Double(node.v.u)
        case .double: return node.v.d
        default: return nil
        }
    }

    /// A number, or a string that spells one (Azure writes `durationMs` both ways).
    public var looseDouble: Double? {
        if let d = double { return d }
        if let s = string { return Double(s.trimmingSpaces) }
        return nil
    }

    /// The text a matcher compares against: strings as they are, numbers and booleans spelled
    /// out, null and containers as nil.
    public var scalarText: String? {
        switch type {
        case .string: return string
        case .int: return String(node.v.i)
        case .uint: return String(node.v.u)
        case .double: return JSONWriter.format(node.v.d)
        case .true: return "true"
        case .false: return "false"
        case .null, .array, .object: return nil
        }
    }

    /// Calls `body` with the string's UTF-8 bytes (no copy). Empty for non-strings.
    public func withStringBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let n = node
        guard n.type == JSONType.string.rawValue else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try document.arena.withUnsafeBufferPointer { buf in
            try body(UnsafeBufferPointer(rebasing: buf[Int(n.v.s.off)..<Int(n.v.s.off + n.v.s.len)]))
        }
    }

    /// The member key of this node, if it is an object member.
    public var key: String? {
        let n = node
        guard n.key_len != VJ_NO_KEY_VALUE else { return nil }
        return document.arena.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[Int(n.key_off)..<Int(n.key_off + n.key_len)]), as: UTF8.self)
        }
    }

    /// Direct children, in document order.
    public var children: [JSONValue] {
        guard isContainer else { return [] }
        var out: [JSONValue] = []
        out.reserveCapacity(count)
        var i = index + 1
        let end = Int(node.end)
        while i < end {
            out.append(JSONValue(document: document, index: i))
            i = Int(document.nodes[i].end)
        }
        return out
    }

    /// Object members as (key, value), in document order.
    public var members: [(key: String, value: JSONValue)] {
        guard type == .object else { return [] }
        return children.map { ($0.key ?? "", $0) }
    }

    /// The member whose key equals `name`, compared case-insensitively (ASCII).
    public subscript(name: String) -> JSONValue? {
        guard type == .object else { return nil }
        // Folded on the stack: this runs per record (assembly, normalisers), an array would allocate.
        var name = name
        return name.withUTF8 { src in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, src.count)) { buf in
                for i in 0..<src.count { buf[i] = JSONPathLookup.fold(src[i]) }
                return JSONPathLookup.member(of: self, foldedKey: UnsafeBufferPointer(rebasing: buf[0..<src.count]))
            }
        }
    }

    public subscript(position: Int) -> JSONValue? {
        guard type == .array, position >= 0, position < count else { return nil }
        var i = index + 1
        for _ in 0..<position { i = Int(document.nodes[i].end) }
        return JSONValue(document: document, index: i)
    }

    /// If this is a string holding a JSON object or array, its decoded root (parsed once, cached).
    public var innerJSON: JSONValue? {
        guard type == .string else { return nil }
        return document.innerDocument(at: index)?.root
    }

    /// This value as compact JSON text.
    public var jsonText: String {
        var w = JSONWriter()
        w.write(self)
        return w.text
    }
}

let VJ_NO_KEY_VALUE: UInt32 = 0xFFFF_FFFF

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return s
    }
}
