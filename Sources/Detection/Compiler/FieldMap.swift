// The field-mapping data (detections/fieldmap.yml): which event kinds a Sigma log source means,
// and how Sigma's field names translate to Vigil paths, per record shape. Data, not code: a new
// log source or column is a YAML edit.
import EventModel
import Foundation

/// Where a field's value comes from: one path, or a path per record shape.
public struct FieldSource: Sendable, Hashable, CustomStringConvertible {
    public var defaultPath: FieldPath
    public var perShape: [RecordShape: FieldPath]

    public init(_ path: FieldPath, perShape: [RecordShape: FieldPath] = [:]) {
        self.defaultPath = path
        self.perShape = perShape
    }

    @inline(__always) public func path(for shape: RecordShape) -> FieldPath {
        perShape.isEmpty ? defaultPath : (perShape[shape] ?? defaultPath)
    }

    public var description: String {
        if perShape.isEmpty { return defaultPath.text }
        let parts = perShape.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue): \($0.value.text)" }
        return "{" + (parts + ["default: \(defaultPath.text)"]).joined(separator: ", ") + "}"
    }
}

public struct FieldMap: Sendable {
    public struct LogSourceMapping: Sendable {
        public var name: String
        public var product: String?
        public var service: String?
        public var category: String?
        public var kinds: [EventKind]
        /// Sigma field name (lower-cased) → source.
        public var fields: [String: FieldSource]
        /// When non-empty, fields outside `fields` and this list draw a `rule.unknown-field` warning.
        public var knownFields: Set<String>
        /// When the rule names a `logsource.category`, it must equal this field (resource-log categories).
        public var categoryField: FieldPath?
    }

    public var sources: [LogSourceMapping]

    public init(sources: [LogSourceMapping] = []) { self.sources = sources }

    /// The best mapping for a rule's log source: every key the mapping names must match, and the
    /// one matching most keys wins. Nil when none applies.
    public func mapping(for ls: SigmaLogSource) -> LogSourceMapping? {
        func eq(_ a: String?, _ b: String?) -> Bool { a?.lowercased() == b?.lowercased() }
        var best: (Int, LogSourceMapping)?
        for m in sources {
            var score = 0
            if let p = m.product { guard eq(p, ls.product) else { continue }; score += 1 }
            if let s = m.service { guard eq(s, ls.service) else { continue }; score += 1 }
            else if ls.service != nil { continue }
            if let c = m.category { guard eq(c, ls.category) else { continue }; score += 1 }
            if score > (best?.0 ?? -1) { best = (score, m) }
        }
        return best?.1
    }

    /// Loads and validates a field-map file; problems are located diagnostics.
    public static func load(path: String) -> (FieldMap, [Diagnostic]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            return (FieldMap(), [Diagnostic(.error, code: "fieldmap.unreadable", "cannot read field map", at: SourceLocation(file: path))])
        }
        return parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ text: String, file: String) -> (FieldMap, [Diagnostic]) {
        var diags: [Diagnostic] = []
        func err(_ msg: String, _ n: YAMLTree) { diags.append(Diagnostic(.error, code: "fieldmap.invalid", msg, at: n.location(file))) }
        let root: YAMLTree
        do {
            guard let first = try YAMLTree.documents(text).first else { return (FieldMap(), diags) }
            root = first
        } catch {
            return (FieldMap(), [Diagnostic(.error, code: "fieldmap.yaml-syntax", error.message, at: SourceLocation(file: file, line: error.line, column: error.column))])
        }
        guard let list = root["logsources"]?.sequence else {
            err("expected a 'logsources' list", root)
            return (FieldMap(), diags)
        }
        var out: [LogSourceMapping] = []
        for entry in list {
            guard entry.mapping != nil else { err("each log source must be a mapping", entry); continue }
            for (k, _) in entry.mapping! where !["name", "product", "service", "category", "kinds", "fields", "known_fields", "category_field"].contains(k.scalar ?? "") {
                diags.append(Diagnostic(.warning, code: "fieldmap.unknown-key", "unknown key '\(k.scalar ?? "")'", at: k.location(file)))
            }
            var kinds: [EventKind] = []
            for k in entry["kinds"]?.sequence ?? [] {
                if let s = k.scalar, let kind = EventKind(rawValue: s) { kinds.append(kind) } else {
                    err("unknown event kind '\(k.scalar ?? "")' (\(EventKind.allCases.map(\.rawValue).joined(separator: ", ")))", k)
                }
            }
            var fields: [String: FieldSource] = [:]
            for (k, v) in entry["fields"]?.mapping ?? [] {
                guard let name = k.scalar else { continue }
                if let p = v.scalar {
                    fields[name.lowercased()] = FieldSource(FieldPath(p))
                } else if let m = v.mapping {
                    var def: FieldPath?
                    var per: [RecordShape: FieldPath] = [:]
                    for (sk, sv) in m {
                        guard let shapeName = sk.scalar, let p = sv.scalar else { err("shape mappings are 'shape: path'", sk); continue }
                        if shapeName == "default" { def = FieldPath(p) }
                        else if let shape = RecordShape(rawValue: shapeName) { per[shape] = FieldPath(p) }
                        else { err("unknown record shape '\(shapeName)' (\(RecordShape.allCases.map(\.rawValue).joined(separator: ", ")), default)", sk) }
                    }
                    fields[name.lowercased()] = FieldSource(def ?? FieldPath(name), perShape: per)
                } else {
                    err("field '\(name)' must map to a path or to {shape: path}", v)
                }
                if let p = v.scalar, p.lowercased().hasPrefix("vigil."), FieldPath(p).typedField == nil {
                    err("'\(p)' is not a Vigil typed field (\(TypedField.allCases.map { "vigil." + $0.rawValue }.joined(separator: ", ")))", v)
                }
            }
            let known = Set((entry["known_fields"]?.stringList ?? []).map { $0.lowercased() })
            out.append(LogSourceMapping(name: entry["name"]?.scalar ?? entry["service"]?.scalar ?? "?", product: entry["product"]?.scalar,
                                        service: entry["service"]?.scalar, category: entry["category"]?.scalar, kinds: kinds,
                                        fields: fields, knownFields: known, categoryField: entry["category_field"]?.scalar.map(FieldPath.init)))
        }
        return (FieldMap(sources: out), diags)
    }
}
