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
        /// Every service name the entry answers to (`service: [auditlogs, audit]`); `service` is the first.
        public var services: [String] = []
        public var category: String?
        public var kinds: [EventKind]
        /// Sigma field name (lower-cased) → source.
        public var fields: [String: FieldSource]
        /// When non-empty, fields outside `fields` and this list draw a `rule.unknown-field` warning.
        public var knownFields: Set<String>
        /// When the rule names a `logsource.category`, it must equal this field (resource-log categories).
        public var categoryField: FieldPath?
        /// How a field name that `fields` does not list is read, per shape (`unmapped:` templates);
        /// empty: the name itself, as a raw record path.
        public var unmapped: UnmappedRule = UnmappedRule()
        /// Field (lower-cased) → a rule's value (lower-cased) → what records spell it (`value_aliases:`):
        /// a rule's value for that field also matches its aliases.
        public var valueAliases: [String: [String: [String]]] = [:]
    }

    /// `unmapped:` of a log source: path templates per shape for field names the map does not
    /// list. `{field}` is the name as written, `{bare}` the name without a leading `properties.`,
    /// `{bare_dynamic}` the bare name with `_dynamic` after its first segment (how some Log Analytics
    /// CSV exports name dynamic columns: `DeviceDetail_dynamic`); a template whose name does not
    /// apply is skipped. Several templates: the first path with a value wins.
    public struct UnmappedRule: Sendable {
        public var perShape: [RecordShape: [String]] = [:]
        public var defaultTemplates: [String] = []
        public init() {}

        public var isEmpty: Bool { perShape.isEmpty && defaultTemplates.isEmpty }

        /// The source for `field`, or nil when no template is configured.
        public func source(for field: String) -> FieldSource? {
            guard !isEmpty else { return nil }
            let def = defaultTemplates.isEmpty ? FieldPath(field) : Self.path(defaultTemplates, field)
            var per: [RecordShape: FieldPath] = [:]
            for (shape, templates) in perShape { per[shape] = Self.path(templates, field) }
            return FieldSource(def, perShape: per)
        }

        static func path(_ templates: [String], _ field: String) -> FieldPath {
            var paths: [FieldPath] = []
            for t in templates {
                guard let p = expand(t, field), !paths.contains(p) else { continue }
                paths.append(p)
            }
            return paths.isEmpty ? FieldPath(field) : FieldPath(anyOf: paths)
        }

        static func expand(_ template: String, _ field: String) -> FieldPath? {
            let bare = field.lowercased().hasPrefix("properties.") ? String(field.dropFirst(11)) : field
            var out = template.replacingOccurrences(of: "{field}", with: field).replacingOccurrences(of: "{bare}", with: bare)
            if out.contains("{bare_dynamic}") {
                guard let dot = bare.firstIndex(of: ".") else { return nil }
                out = out.replacingOccurrences(of: "{bare_dynamic}", with: bare[..<dot] + "_dynamic" + bare[dot...])
            }
            return FieldPath(keyedPath: out) ?? FieldPath(out)
        }
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
            if m.service != nil {
                let names = m.services.isEmpty ? [m.service!] : m.services
                guard names.contains(where: { eq($0, ls.service) }) else { continue }
                score += 1
            }
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
            for (k, _) in entry.mapping! where !["name", "product", "service", "category", "kinds", "fields", "known_fields", "category_field", "unmapped", "value_aliases"].contains(k.scalar ?? "") {
                diags.append(Diagnostic(.warning, code: "fieldmap.unknown-key", "unknown key '\(k.scalar ?? "")'", at: k.location(file)))
            }
            var kinds: [EventKind] = []
            for k in entry["kinds"]?.sequence ?? [] {
                if let s = k.scalar, let kind = EventKind(rawValue: s) { kinds.append(kind) } else {
                    err("unknown event kind '\(k.scalar ?? "")' (\(EventKind.allCases.map(\.rawValue).joined(separator: ", ")))", k)
                }
            }
            var fields: [String: FieldSource] = [:]
            /// A path spec: `path`, `[path, path…]` (the first with a value) or `{union: [path…]}` (all).
            func pathSpec(_ v: YAMLTree) -> FieldPath? {
                var texts: [YAMLTree] = []
                var mode = FieldPath.Alternatives.first
                if v.scalar != nil { texts = [v] }
                else if let seq = v.sequence { texts = seq }
                else if let m = v.mapping, m.count == 1, m[0].key.scalar == "union", let seq = m[0].value.sequence { texts = seq; mode = .union }
                else { return nil }
                var paths: [FieldPath] = []
                for t in texts {
                    guard let p = t.scalar else { err("a path must be a string", t); return nil }
                    if p.lowercased().hasPrefix("vigil."), FieldPath(p).typedField == nil {
                        err("'\(p)' is not a Vigil typed field (\(TypedField.allCases.map { "vigil." + $0.rawValue }.joined(separator: ", ")))", t)
                    }
                    paths.append(FieldPath(keyedPath: p) ?? FieldPath(p))
                }
                return paths.isEmpty ? nil : FieldPath(anyOf: paths, mode: mode)
            }
            func isShapeMap(_ v: YAMLTree) -> Bool { v.mapping != nil && !(v.mapping!.count == 1 && v.mapping![0].key.scalar == "union") }
            for (k, v) in entry["fields"]?.mapping ?? [] {
                guard let name = k.scalar else { continue }
                if !isShapeMap(v) {
                    guard let p = pathSpec(v) else { err("field '\(name)' must map to a path, a list of paths, {union: [paths]} or {shape: path}", v); continue }
                    fields[name.lowercased()] = FieldSource(p)
                } else {
                    var def: FieldPath?
                    var per: [RecordShape: FieldPath] = [:]
                    for (sk, sv) in v.mapping! {
                        guard let shapeName = sk.scalar, let p = pathSpec(sv) else { err("shape mappings are 'shape: path'", sk); continue }
                        if shapeName == "default" { def = p }
                        else if let shape = RecordShape(rawValue: shapeName) { per[shape] = p }
                        else { err("unknown record shape '\(shapeName)' (\(RecordShape.allCases.map(\.rawValue).joined(separator: ", ")), default)", sk) }
                    }
                    fields[name.lowercased()] = FieldSource(def ?? FieldPath(name), perShape: per)
                }
            }
            var unmapped = UnmappedRule()
            if let u = entry["unmapped"] {
                if let m = u.mapping {
                    for (sk, sv) in m {
                        guard let shapeName = sk.scalar, let templates = sv.stringList else { err("'unmapped' maps shapes to path templates", sk); continue }
                        if shapeName == "default" { unmapped.defaultTemplates = templates }
                        else if let shape = RecordShape(rawValue: shapeName) { unmapped.perShape[shape] = templates }
                        else { err("unknown record shape '\(shapeName)' (\(RecordShape.allCases.map(\.rawValue).joined(separator: ", ")), default)", sk) }
                    }
                } else {
                    err("'unmapped' maps shapes to path templates ({field}, {bare}, {bare_dynamic})", u)
                }
            }
            var aliases: [String: [String: [String]]] = [:]
            for (fk, fv) in entry["value_aliases"]?.mapping ?? [] {
                guard let field = fk.scalar, let values = fv.mapping else { err("'value_aliases' maps fields to {value: alias or [aliases]}", fk); continue }
                for (vk, vv) in values {
                    guard let value = vk.scalar, let list = vv.stringList else { err("a value alias is a string or a list of strings", vk); continue }
                    aliases[field.lowercased(), default: [:]][value.lowercased(), default: []] += list
                }
            }
            let known = Set((entry["known_fields"]?.stringList ?? []).map { $0.lowercased() })
            let services = entry["service"]?.stringList ?? []
            out.append(LogSourceMapping(name: entry["name"]?.scalar ?? services.first ?? "?", product: entry["product"]?.scalar,
                                        service: services.first, services: services, category: entry["category"]?.scalar, kinds: kinds,
                                        fields: fields, knownFields: known, categoryField: entry["category_field"]?.scalar.map(FieldPath.init),
                                        unmapped: unmapped, valueAliases: aliases))
        }
        return (FieldMap(sources: out), diags)
    }
}
