// Dotted-path lookup over a document, case-insensitive, with two Azure-specific conveniences:
//  - keys that themselves contain dots (claim URIs such as
//    `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn`) match because a key is compared
//    as a prefix of the remaining path, not as one pre-split segment;
//  - a string holding JSON (`properties.requestbody`, `Entities`, `ExtendedProperties`) is
//    traversed as if it were the decoded object; it is decoded once, on first use.
// Arrays fan out: `a.b` over `a: [{b:1},{b:2}]` yields both; a numeric segment picks one element.
public enum JSONPathLookup {
    @inline(__always) public static func fold(_ b: UInt8) -> UInt8 {
        (b &- 65) < 26 ? b | 0x20 : b
    }

    /// Lower-cases ASCII letters: the form paths are stored in.
    public static func foldedBytes(_ s: String) -> [UInt8] {
        s.utf8.map(fold)
    }

    /// All values at `foldedPath` (bytes already passed through `fold`). An array found at the end
    /// of the path is returned as its elements, which is how Sigma matches list-valued fields; an
    /// empty array is returned as itself (so it compares as `[]`, is present, and is not null).
    /// `depth`: how many levels below the root of the lookup it stands for `root` sits (a lookup
    /// answered from a part of a document, as the whole document would answer it): the 64-level
    /// bound counts from there.
    public static func values(at foldedPath: UnsafeBufferPointer<UInt8>, in root: JSONValue, depth: Int = 0) -> [JSONValue] {
        var out: [JSONValue] = []
        collect(root, foldedPath[...], depth: depth, into: &out)
        return out
    }

    public static func values(at path: String, in root: JSONValue) -> [JSONValue] {
        let folded = foldedBytes(path)
        return folded.withUnsafeBufferPointer { values(at: $0, in: root) }
    }

    /// The first value at `path`, if any.
    public static func first(at path: String, in root: JSONValue) -> JSONValue? {
        values(at: path, in: root).first
    }

    static func member(of object: JSONValue, foldedKey: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        let doc = object.document
        return doc.arena.withUnsafeBufferPointer { arena -> JSONValue? in
            doc.nodes.withUnsafeBufferPointer { nodes -> JSONValue? in
                var i = object.index + 1
                let end = Int(nodes[object.index].end)
                while i < end {
                    let n = nodes[i]
                    if n.key_len == UInt32(foldedKey.count) {
                        var same = true
                        let k = Int(n.key_off)
                        for j in 0..<foldedKey.count where fold(arena[k + j]) != foldedKey[j] { same = false; break }
                        if same { return JSONValue(document: doc, index: i) }
                    }
                    i = Int(n.end)
                }
                return nil
            }
        }
    }

    private static func collect(_ value: JSONValue, _ path: Slice<UnsafeBufferPointer<UInt8>>, depth: Int, into out: inout [JSONValue]) {
        guard depth < 64 else { return }
        if path.isEmpty {
            if value.type == .array, value.children.isEmpty {
                out.append(value)
            } else if value.type == .array {
                for child in value.children { if child.type == .array { out.append(contentsOf: child.children) } else { out.append(child) } }
            } else {
                out.append(value)
            }
            return
        }
        switch value.type {
        case .object:
            // Each member whose key is the path's next segment (or several: keys may hold dots) is
            // followed at once, inside the scan: no list of matches to allocate per level.
            let doc = value.document
            doc.arena.withUnsafeBufferPointer { arena in
                doc.nodes.withUnsafeBufferPointer { nodes in
                    var i = value.index + 1
                    let end = Int(nodes[value.index].end)
                    while i < end {
                        let n = nodes[i]
                        let klen = Int(n.key_len)
                        if klen <= path.count {
                            let k = Int(n.key_off)
                            var same = true
                            var p = path.startIndex
                            for j in 0..<klen {
                                if fold(arena[k + j]) != path[p] { same = false; break }
                                p += 1
                            }
                            if same && (klen == path.count || path[path.startIndex + klen] == UInt8(ascii: ".")) {
                                let rest = klen == path.count ? path[path.endIndex...] : path[(path.startIndex + klen + 1)...]
                                collect(JSONValue(document: doc, index: i), rest, depth: depth + 1, into: &out)
                            }
                        }
                        i = Int(n.end)
                    }
                }
            }
        case .array:
            // A numeric segment selects one element; otherwise the path applies to every element.
            let segEnd = path.firstIndex(of: UInt8(ascii: ".")) ?? path.endIndex
            let seg = path[path.startIndex..<segEnd]
            if !seg.isEmpty, seg.allSatisfy({ $0 >= 48 && $0 <= 57 }), seg.count < 9 {
                var n = 0
                for b in seg { n = n * 10 + Int(b - 48) }
                if let element = value[n] {
                    let rest = segEnd == path.endIndex ? path[path.endIndex...] : path[(segEnd + 1)...]
                    collect(element, rest, depth: depth + 1, into: &out)
                }
                return
            }
            for child in value.children { collect(child, path, depth: depth + 1, into: &out) }
        case .string:
            if let inner = value.innerJSON { collect(inner, path, depth: depth + 1, into: &out) }
        default:
            return
        }
    }
}
