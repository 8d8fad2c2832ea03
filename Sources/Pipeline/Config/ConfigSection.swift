import Outputs

/// Collects every problem of a config file, so one run reports them all (STYLE.md #3).
final class ConfigProblems {
    private(set) var errors: [ConfigError] = []
    func add(_ error: ConfigError) { errors.append(error) }
    func add(_ path: String, _ message: String) { errors.append(ConfigError(path: path, message: message)) }
}

/// One mapping of the config tree. Typed getters expand `${ENV}`, record a problem (and return nil)
/// instead of throwing, and remember which keys were read; `finish()` reports every key nobody read.
struct ConfigSection {
    let path: String
    let map: [String: ConfigValue]
    let environment: [String: String]
    let problems: ConfigProblems
    private var used: Set<String> = []

    /// nil (with a problem recorded) when `value` is not a mapping.
    init?(_ value: ConfigValue, path: String, environment: [String: String], problems: ConfigProblems) {
        guard case .map(let m) = value else {
            problems.add(path, "expected a mapping")
            return nil
        }
        self.path = path
        self.map = m
        self.environment = environment
        self.problems = problems
    }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { map[key].map { $0 != .null } ?? false }

    mutating func raw(_ key: String) -> ConfigValue? {
        used.insert(key)
        guard let v = map[key], v != .null else { return nil }
        return v
    }

    private mutating func reader<T>(_ key: String, _ get: (inout ConfigReader) throws(ConfigError) -> T?) -> T? {
        guard let v = raw(key) else { return nil }
        do {
            var r = try ConfigReader(.map([key: v]), path: path, environment: environment)
            return try get(&r)
        } catch {
            problems.add(error)
            return nil
        }
    }

    mutating func string(_ key: String) -> String? { reader(key) { (r: inout ConfigReader) throws(ConfigError) in try r.string(key) } }
    mutating func double(_ key: String) -> Double? { reader(key) { (r: inout ConfigReader) throws(ConfigError) in try r.double(key) } }
    mutating func int(_ key: String) -> Int? { reader(key) { (r: inout ConfigReader) throws(ConfigError) in try r.int(key) } }
    mutating func bool(_ key: String) -> Bool? { reader(key) { (r: inout ConfigReader) throws(ConfigError) in try r.bool(key) } }

    mutating func requiredString(_ key: String) -> String? {
        guard has(key) else {
            used.insert(key)
            problems.add(sub(key), "required key is missing")
            return nil
        }
        guard let s = string(key), !s.isEmpty else {
            if problemsCount == problems.errors.count { problems.add(sub(key), "must not be empty") }
            return nil
        }
        return s
    }
    private var problemsCount: Int { problems.errors.count }

    /// A positive integer.
    mutating func positiveInt(_ key: String) -> Int? {
        guard let i = int(key) else { return nil }
        guard i > 0 else { problems.add(sub(key), "must be positive"); return nil }
        return i
    }

    /// A duration: a number of seconds, or a string with a unit (`250ms`, `2s`, `5m`, `1h`, `1d`).
    mutating func seconds(_ key: String) -> Double? {
        guard let v = raw(key) else { return nil }
        let text: String
        switch v {
        case .number(let d): text = String(d)
        case .string(let s):
            do { text = try ProcessEnvironment.expand(s, environment: environment, path: sub(key)) } catch {
                problems.add(error)
                return nil
            }
        default:
            problems.add(sub(key), "expected a duration (seconds, or e.g. 250ms, 2s, 5m, 1h)")
            return nil
        }
        guard let d = ConfigSection.parseDuration(text), d >= 0 else {
            problems.add(sub(key), "'\(text)' is not a duration (seconds, or e.g. 250ms, 2s, 5m, 1h)")
            return nil
        }
        return d
    }

    static func parseDuration(_ text: String) -> Double? {
        let t = text.strippingSpaces()
        if let d = Double(t) { return d }
        for (unit, factor) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86_400.0)] where t.hasSuffix(unit) {
            if let d = Double(String(t.dropLast(unit.count)).strippingSpaces()) { return d * factor }
        }
        return nil
    }

    /// A string or a list of strings.
    mutating func stringList(_ key: String) -> [String]? {
        guard let v = raw(key) else { return nil }
        let items: [ConfigValue]
        if case .list(let l) = v { items = l } else { items = [v] }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            let p = items.count == 1 && !(v.isList) ? sub(key) : "\(sub(key))[\(i)]"
            switch item {
            case .string(let s):
                do { out.append(try ProcessEnvironment.expand(s, environment: environment, path: p)) } catch { problems.add(error) }
            case .number(let d): out.append(d.rounded() == d ? String(Int64(d)) : String(d))
            default: problems.add(p, "expected a string")
            }
        }
        return out
    }

    /// One of `choices`.
    mutating func choice(_ key: String, _ choices: [String]) -> String? {
        guard let s = string(key) else { return nil }
        guard choices.contains(s) else {
            problems.add(sub(key), "'\(s)' is not one of \(choices.joined(separator: ", "))")
            return nil
        }
        return s
    }

    mutating func child(_ key: String) -> ConfigSection? {
        guard let v = raw(key) else { return nil }
        return ConfigSection(v, path: sub(key), environment: environment, problems: problems)
    }

    /// Reports every key nobody read.
    func finish() {
        for key in map.keys.sorted() where !used.contains(key) {
            problems.add(sub(key), "unknown key")
        }
    }
}

extension ConfigValue {
    var isList: Bool { if case .list = self { return true } else { return false } }
}

extension String {
    func strippingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
