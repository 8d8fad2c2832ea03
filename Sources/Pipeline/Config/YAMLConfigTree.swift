import Outputs
import Yams

/// YAML text → `ConfigValue`, remembering where each key path was written (`line:column`), so that
/// every config error can point at its place. Anchors and aliases are resolved by Yams.
struct YAMLConfigTree {
    var root: ConfigValue
    /// Key path (`sinks.sentinel.endpoint`, `sources[0].paths`) → 1-based line and column.
    var locations: [String: (line: Int, column: Int)]

    static func parse(_ text: String) throws(ConfigError) -> YAMLConfigTree {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(path: "", message: "not valid YAML: \(error)")
        } catch {
            throw ConfigError(path: "", message: "not valid YAML: \(error)")
        }
        var tree = YAMLConfigTree(root: .map([:]), locations: [:])
        guard let node else { return tree }   // an empty file: every default
        tree.root = tree.convert(node, path: "")
        return tree
    }

    private mutating func convert(_ node: Node, path: String) -> ConfigValue {
        if let mark = node.mark { locations[path] = (mark.line, mark.column) }
        switch node {
        case .scalar(let scalar):
            // Only plain scalars are typed (YAML 1.2 core schema); quoted ones stay strings.
            let text = scalar.string
            if scalar.style == .plain {
                switch text {
                case "", "~", "null", "Null", "NULL": return .null
                case "true", "True", "TRUE": return .bool(true)
                case "false", "False", "FALSE": return .bool(false)
                default:
                    if let i = Int64(text) { return .number(Double(i)) }
                    if text.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) ?? false, let d = Double(text) { return .number(d) }
                }
            }
            return .string(text)
        case .sequence(let seq):
            return .list(seq.enumerated().map { convert($1, path: "\(path)[\($0)]") })
        case .mapping(let mapping):
            var out: [String: ConfigValue] = [:]
            for (key, value) in mapping {
                let name = key.string ?? "\(key)"
                let sub = path.isEmpty ? name : "\(path).\(name)"
                if let mark = key.mark { locations[sub] = (mark.line, mark.column) }
                out[name] = convert(value, path: sub)
                if let mark = key.mark { locations[sub] = (mark.line, mark.column) }
            }
            return .map(out)
        case .alias:
            return .null
        }
    }

    /// The location of `path`, or of its nearest written parent.
    func location(of path: String) -> (line: Int, column: Int)? {
        var p = path
        while true {
            if let l = locations[p] { return l }
            guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return locations[""] }
            p = String(p[..<cut])
        }
    }
}
