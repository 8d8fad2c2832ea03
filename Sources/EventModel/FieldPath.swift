import FastJSON

/// A dotted field path, resolved once: `vigil.<field>` names a typed field of `Event`, anything else
/// is a case-insensitive path into the raw record (see `JSONPathLookup` for dots inside keys and
/// JSON inside strings).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    /// ASCII-lower-cased bytes of `text`: what lookups compare.
    public let folded: [UInt8]
    public let typedField: TypedField?
    /// Several paths read as one (empty for a plain path); see `Alternatives`.
    public let alternatives: [FieldPath]
    public let alternativesMode: Alternatives
    /// A path into a list of name/value entries (see `Keyed`); nil for other paths.
    public let keyed: Keyed?

    /// `list[key=name].value`: the `value` of the entries of `list` whose `key` is `name`
    /// (case-insensitive), e.g. `targetResources.modifiedProperties[displayName=ConsentContext.IsAdminConsent].newValue`.
    /// A value written as JSON text (`"\"False\""`, `"[\"Member\"]"`) is read decoded.
    public struct Keyed: Sendable, Hashable {
        public var list: String
        public var key: String
        public var name: String
        public var value: String
    }

    /// How a path made of several paths reads: `first` = the values of the first path that has
    /// any (one field spelled differently by different shapes); `union` = the values of all of them.
    public enum Alternatives: Sendable, Hashable { case first, union }

    public init(_ text: String) {
        self.text = text
        self.folded = JSONPathLookup.foldedBytes(text)
        self.alternatives = []
        self.alternativesMode = .first
        self.keyed = nil
        let lower = text.lowercased()
        if lower.hasPrefix("vigil.") {
            typedField = TypedField(rawValue: String(lower.dropFirst(6)))
        } else {
            typedField = nil
        }
    }

    /// A path that reads several paths (`first`: the first one with a value; `union`: all).
    /// One path gives that path itself.
    public init(anyOf paths: [FieldPath], mode: Alternatives = .first) {
        if paths.count == 1 { self = paths[0]; return }
        let joiner = mode == .first ? " | " : " + "
        self.text = paths.map(\.text).joined(separator: joiner)
        self.folded = JSONPathLookup.foldedBytes(self.text)
        self.typedField = nil
        self.alternatives = paths
        self.alternativesMode = mode
        self.keyed = nil
    }

    /// `list[key=name].value` (see `Keyed`); nil when `text` is not of that form.
    public init?(keyedPath text: String) {
        guard let open = text.firstIndex(of: "["), let eq = text[open...].firstIndex(of: "="),
              let close = text[eq...].firstIndex(of: "]"), text.index(after: close) < text.endIndex,
              text[text.index(after: close)] == "." else { return nil }
        let list = String(text[..<open]), key = String(text[text.index(after: open)..<eq])
        let name = String(text[text.index(after: eq)..<close]), value = String(text[text.index(close, offsetBy: 2)...])
        guard !list.isEmpty, !key.isEmpty, !name.isEmpty, !value.isEmpty else { return nil }
        self.text = text
        self.folded = JSONPathLookup.foldedBytes(text)
        self.typedField = nil
        self.alternatives = []
        self.alternativesMode = .first
        self.keyed = Keyed(list: list, key: key, name: name, value: value)
    }

    public var description: String { text }

    public static func == (a: FieldPath, b: FieldPath) -> Bool {
        a.folded == b.folded && a.alternatives.count == b.alternatives.count && a.alternativesMode == b.alternativesMode
            && (a.keyed == nil) == (b.keyed == nil)
    }
    public func hash(into h: inout Hasher) { h.combine(folded); h.combine(alternatives.count) }
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
