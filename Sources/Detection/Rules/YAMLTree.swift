// A Sendable copy of a composed YAML document that keeps the line and column of every node.
// Yams' `Node` is not Sendable (its tags are classes) and rules outlive the parse, so the loader
// converts once and the rest of the module never sees Yams.
import EventModel
import Yams

/// One YAML node with its 1-based line and column.
public struct YAMLTree: Sendable {
    public enum ScalarKind: Sendable, Equatable { case string, int, float, bool, null }

    public enum Value: Sendable {
        case scalar(String, ScalarKind)
        case mapping([(key: YAMLTree, value: YAMLTree)])
        case sequence([YAMLTree])
    }

    public var value: Value
    public var line: Int
    public var column: Int
    /// Quoted scalars (`'x'`, `"x"`): their text starts one column after `column`.
    public var quoted: Bool

    public init(value: Value, line: Int, column: Int, quoted: Bool = false) {
        self.value = value
        self.line = line
        self.column = column
        self.quoted = quoted
    }

    /// Scalar text (null spelled `null`), nil for containers.
    public var scalar: String? {
        if case .scalar(let s, _) = value { return s }
        return nil
    }

    public var scalarKind: ScalarKind? {
        if case .scalar(_, let k) = value { return k }
        return nil
    }

    public var mapping: [(key: YAMLTree, value: YAMLTree)]? {
        if case .mapping(let m) = value { return m }
        return nil
    }

    public var sequence: [YAMLTree]? {
        if case .sequence(let s) = value { return s }
        return nil
    }

    /// The member of a mapping whose key is `key` (exact), if any.
    public subscript(key: String) -> YAMLTree? {
        mapping?.first(where: { $0.key.scalar == key })?.value
    }

    public func location(_ file: String) -> SourceLocation { SourceLocation(file: file, line: line, column: column) }

    public var kindName: String {
        switch value {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// Scalars as strings; a list of scalars as its strings. Nil otherwise.
    public var stringList: [String]? {
        if let s = scalar { return [s] }
        guard let seq = sequence else { return nil }
        var out: [String] = []
        for item in seq {
            guard let s = item.scalar else { return nil }
            out.append(s)
        }
        return out
    }

    /// Converts this tree to JSON text (mapping order kept, scalars typed as YAML resolved them).
    public var jsonText: String {
        var out = ""
        writeJSON(into: &out)
        return out
    }

    private func writeJSON(into out: inout String) {
        switch value {
        case .scalar(let s, let kind):
            switch kind {
            case .null: out += "null"
            case .bool: out += (s.lowercased() == "true" || s.lowercased() == "yes" || s.lowercased() == "on") ? "true" : "false"
            case .int, .float:
                if let d = Double(s), d.isFinite { out += s.hasPrefix("+") ? String(s.dropFirst()) : s } else { YAMLTree.quote(s, into: &out) }
            case .string: YAMLTree.quote(s, into: &out)
            }
        case .sequence(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.writeJSON(into: &out)
            }
            out += "]"
        case .mapping(let pairs):
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += "," }
                YAMLTree.quote(pair.key.scalar ?? pair.key.jsonText, into: &out)
                out += ":"
                pair.value.writeJSON(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

/// Errors from parsing YAML text, located.
public struct YAMLParseError: Error, Sendable {
    public var message: String
    public var line: Int
    public var column: Int
}

extension YAMLTree {
    /// Every document of a (possibly multi-document) YAML text.
    public static func documents(_ text: String) throws(YAMLParseError) -> [YAMLTree] {
        do {
            var out: [YAMLTree] = []
            var documents = try Yams.compose_all(yaml: text)
            while let node = documents.next() {
                out.append(try YAMLTree(node))
            }
            // The sequence keeps a parse error instead of throwing it.
            if let e = documents.error { throw e }
            return out
        } catch let e as YAMLParseError {
            throw e
        } catch let e as YamlError {
            throw YAMLTree.convert(e, text: text)
        } catch {
            throw YAMLParseError(message: "\(error)", line: 1, column: 1)
        }
    }

    /// Whether Yams' default resolver could give an untagged plain scalar a tag other than `str`.
    /// Each of its rules (bool, int, float, merge, null, timestamp, value; `Resolver.default`) is
    /// anchored at the start and begins with one of these characters, or matches the empty text.
    /// Yams tries the rules as `NSRegularExpression`s, one after the other, for every scalar: most
    /// of the time spent loading a rule pack. Texts starting otherwise are strings without asking.
    static func mayResolveToNonString(_ text: String) -> Bool {
        guard let first = text.utf8.first else { return true }
        return resolvableStarts.contains(first)
    }

    private static let resolvableStarts = Set("yYnNtTfFoO+-.0123456789~<=".utf8)

    static func convert(_ e: YamlError, text: String) -> YAMLParseError {
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let ctx = context.map { $0.text + ": " } ?? ""
            return YAMLParseError(message: ctx + problem, line: mark.line, column: mark.column)
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams locates the mapping; point at the second occurrence of the key instead.
            var line = context.mark.line, column = context.mark.column
            if let key = duplicates.first {
                var seen = 0
                for (i, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where i + 1 >= context.mark.line {
                    let body = l.drop { $0 == " " || $0 == "-" }
                    let indent = l.count - body.count
                    if body.hasPrefix(key + ":") || body.hasPrefix("'\(key)':") || body.hasPrefix("\"\(key)\":") {
                        seen += 1
                        if seen == 2 { line = i + 1; column = indent + 1; break }
                    }
                }
            }
            return YAMLParseError(message: "duplicate key(s) \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in mapping", line: line, column: column)
        case let .reader(problem, _, _, _):
            return YAMLParseError(message: problem, line: 1, column: 1)
        default:
            return YAMLParseError(message: "\(e)", line: 1, column: 1)
        }
    }

    init(_ node: Node) throws(YAMLParseError) {
        let mark = node.mark
        let line = mark?.line ?? 1, column = mark?.column ?? 1
        switch node {
        case .scalar(let s):
            let kind: ScalarKind
            if s.tag.description == Tag.Name.implicit.rawValue, !YAMLTree.mayResolveToNonString(s.string) {
                kind = .string   // what Yams would resolve it to, without its regular expressions
            } else {
                switch node.tag.rawValue {
                case Tag.Name.null.rawValue: kind = .null
                case Tag.Name.bool.rawValue: kind = .bool
                case Tag.Name.int.rawValue: kind = .int
                case Tag.Name.float.rawValue: kind = .float
                default: kind = .string
                }
            }
            let quoted = s.style == .singleQuoted || s.style == .doubleQuoted
            self.init(value: .scalar(kind == .null ? "null" : s.string, kind), line: line, column: column, quoted: quoted)
        case .mapping(let m):
            var pairs: [(key: YAMLTree, value: YAMLTree)] = []
            var seen: [String: Int] = [:]
            for (k, v) in m {
                let key = try YAMLTree(k)
                if let name = key.scalar {
                    if seen[name] != nil {
                        throw YAMLParseError(message: "duplicate key '\(name)' in mapping", line: key.line, column: key.column)
                    }
                    seen[name] = pairs.count
                }
                pairs.append((key, try YAMLTree(v)))
            }
            self.init(value: .mapping(pairs), line: line, column: column)
        case .sequence(let s):
            var items: [YAMLTree] = []
            for n in s { items.append(try YAMLTree(n)) }
            self.init(value: .sequence(items), line: line, column: column)
        case .alias:
            throw YAMLParseError(message: "YAML aliases are not supported in rules", line: line, column: column)
        }
    }
}
