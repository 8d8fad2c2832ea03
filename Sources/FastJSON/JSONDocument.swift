// A parsed JSON document: a preorder array of nodes and an arena of unescaped key and string bytes.
//
// Invariants: node 0 is the root; a container's children are the nodes in (index, end), found by
// jumping from one child's `end` to the next; every key and string is a span of `arena`.
// A document is immutable once built. The one mutable part, the cache of JSON found inside string
// values, is guarded by a mutex, so documents are safe to share between threads.
import CSimdShim
import Synchronization

public typealias JSONNode = vj_node

public enum JSONType: UInt32, Sendable {
    case null = 0, `false` = 1, `true` = 2, int = 3, uint = 4, double = 5, string = 6, array = 7, object = 8
}

public struct JSONError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case invalidUTF8, tooDeep, malformed }
    public let kind: Kind
    public let code: Int32
    public let message: String
    public var description: String { message }
}

public final class JSONDocument: @unchecked Sendable {
    public let nodes: ContiguousArray<JSONNode>
    public let arena: ContiguousArray<UInt8>
    /// Lazily decoded JSON carried inside string values, keyed by node index. `nil` = not JSON.
    private let inner = Mutex<[Int: JSONDocument?]>([:])

    public init(nodes: ContiguousArray<JSONNode>, arena: ContiguousArray<UInt8>) {
        precondition(!nodes.isEmpty, "a JSON document has at least a root node")
        self.nodes = nodes
        self.arena = arena
    }

    /// Parses one JSON document. `padded` promises `VJ_PADDING` readable bytes after the end of
    /// `bytes` (true for lines inside a larger read buffer); otherwise the input is copied first.
    public static func parse(_ bytes: UnsafeRawBufferPointer, padded: Bool) throws(JSONError) -> JSONDocument {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let r = vj_parse(base, bytes.count, padded ? 1 : 0)
        if r.error != 0 { throw JSONError(code: r.error) }
        let nodes = ContiguousArray(UnsafeBufferPointer(start: r.nodes, count: r.node_count))
        let arena = ContiguousArray(UnsafeBufferPointer(start: r.arena, count: r.arena_len))
        return JSONDocument(nodes: nodes, arena: arena)
    }

    public static func parse<C: Collection>(_ bytes: C) throws(JSONError) -> JSONDocument where C.Element == UInt8 {
        let result: Result<JSONDocument, JSONError>? = bytes.withContiguousStorageIfAvailable { buf in
            do throws(JSONError) { return .success(try parse(UnsafeRawBufferPointer(buf), padded: false)) } catch { return .failure(error) }
        }
        if let result { return try result.get() }
        return try parse(Array(bytes))
    }

    public static func parse(_ text: String) throws(JSONError) -> JSONDocument {
        try parse(Array(text.utf8))
    }

    public var root: JSONValue { JSONValue(document: self, index: 0) }

    /// The document parsed from the string at `index`, if that string holds a JSON object or array.
    /// Parsed at most once per node, and only when something asks.
    func innerDocument(at index: Int) -> JSONDocument? {
        if let cached = inner.withLock({ $0[index] }) { return cached }
        let node = nodes[index]
        let parsed: JSONDocument? = arena.withUnsafeBufferPointer { buf in
            let start = Int(node.v.s.off), len = Int(node.v.s.len)
            var i = start
            while i < start + len, JSONScan.isSpace(buf[i]) { i += 1 }
            guard i < start + len, buf[i] == UInt8(ascii: "{") || buf[i] == UInt8(ascii: "[") else { return nil }
            return try? JSONDocument.parse(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[start..<(start + len)])), padded: false)
        }
        inner.withLock { $0[index] = .some(parsed) }
        return parsed
    }
}

extension JSONError {
    init(code: Int32) {
        let message = String(cString: vj_error_message(code))
        let kind: Kind = code == vj_error_utf8() ? .invalidUTF8 : (code == vj_error_depth() ? .tooDeep : .malformed)
        self.init(kind: kind, code: code, message: message)
    }
}

enum JSONScan {
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }
}

/// A fast 64-bit hash of bytes, used for record identity (dedup). Not cryptographic.
public func fastHash64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    vj_hash64(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, seed)
}

public func fastHash64(_ text: String, seed: UInt64 = 0) -> UInt64 {
    var text = text
    return text.withUTF8 { fastHash64(UnsafeRawBufferPointer($0), seed: seed) }
}

/// The simdjson kernel chosen at run time on this CPU.
public var simdjsonImplementation: String { String(cString: vj_implementation()) }

/// Readable bytes the parser needs after a document parsed in place.
public let jsonPadding = Int(VJ_PADDING)
