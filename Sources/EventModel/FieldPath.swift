import FastJSON

/// A dotted field path, resolved once: `vigil.<field>` names a typed field of `Event`, anything else
/// is a case-insensitive path into the raw record (see `JSONPathLookup` for dots inside keys and
/// JSON inside strings).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    /// ASCII-lower-cased bytes of `text`: what lookups compare.
    public let folded: [UInt8]
    public let typedField: TypedField?

    public init(_ text: String) {
        self.text = text
        self.folded = JSONPathLookup.foldedBytes(text)
        let lower = text.lowercased()
        if lower.hasPrefix("vigil.") {
            typedField = TypedField(rawValue: String(lower.dropFirst(6)))
        } else {
            typedField = nil
        }
    }

    public var description: String { text }

    public static func == (a: FieldPath, b: FieldPath) -> Bool { a.folded == b.folded }
    public func hash(into h: inout Hasher) { h.combine(folded) }
}

/// A value found at a path: a node of the record, or a typed field's text.
public enum FieldValue: Sendable {
    case json(JSONValue)
    case text(String)

    /// Scalar as text; nil for null, objects and arrays.
    public var text: String? {
        switch self {
        case .json(let v): return v.scalarText
        case .text(let s): return s
        }
    }

    public var isNull: Bool {
        if case .json(let v) = self { return v.isNull }
        return false
    }

    public var number: Double? {
        switch self {
        case .json(let v): return v.looseDouble
        case .text(let s): return Double(s)
        }
    }

    /// The JSON node, when the value came from the record.
    public var json: JSONValue? {
        if case .json(let v) = self { return v }
        return nil
    }

    /// Calls `body` with the value's UTF-8 bytes, without copying when it is a record string.
    /// Numbers and booleans are spelled out; null and containers give nil.
    public func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        switch self {
        case .json(let v):
            if v.type == .string { return try v.withStringBytes(body) }
            guard var s = v.scalarText else { return nil }
            return try s.withUTF8(body)
        case .text(var s):
            return try s.withUTF8(body)
        }
    }
}
