import Glibc
import Outputs

/// Every problem of one sink entry, not just the first `SinkConfiguration.parse` throws: after each
/// error the offending key is taken out (or, when a required key is missing, filled with a stand-in
/// whose own complaints are not reported) and the entry is parsed again, a bounded number of times.
enum SinkProblems {
    static func all(_ value: ConfigValue, path: String, environment: [String: String]) -> [ConfigError] {
        var entry = value
        var found: [ConfigError] = []
        var standIns: [String: Int] = [:]
        let fillers: [ConfigValue] = [.string("https://placeholder.invalid"), .string("placeholder"), .number(1), .bool(true)]
        for _ in 0..<32 {
            do {
                _ = try SinkConfiguration.parse(entry, path: path, environment: environment)
                return found
            } catch {
                guard error.path.hasPrefix(path + "."), error.path.count > path.count + 1 else {
                    found.append(error)
                    return found
                }
                let keys = error.path.dropFirst(path.count + 1).split(separator: ".").map(String.init)
                if let tried = standIns[error.path] {
                    // Our stand-in was rejected: try the next kind, or give up on this entry.
                    guard tried + 1 < fillers.count else { return found }
                    standIns[error.path] = tried + 1
                    entry = entry.setting(keys, to: fillers[tried + 1])
                    continue
                }
                found.append(error)
                if entry.value(at: keys) != nil {
                    entry = entry.setting(keys, to: nil)
                } else {
                    standIns[error.path] = 0
                    entry = entry.setting(keys, to: fillers[0])
                }
            }
        }
        return found
    }
}

extension ConfigValue {
    func value(at keys: [String]) -> ConfigValue? {
        guard let first = keys.first else { return self }
        guard case .map(let m) = self, let v = m[first], v != .null else { return nil }
        return v.value(at: Array(keys.dropFirst()))
    }

    /// A copy with the value at `keys` replaced (nil: removed).
    func setting(_ keys: [String], to new: ConfigValue?) -> ConfigValue {
        guard let first = keys.first else { return new ?? .null }
        guard case .map(var m) = self else { return self }
        if keys.count == 1 {
            m[first] = new
        } else {
            m[first] = (m[first] ?? .map([:])).setting(Array(keys.dropFirst()), to: new)
        }
        return .map(m)
    }
}

enum FileSystem {
    /// `mkdir -p`, mode 0700 for what it creates.
    static func createDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST { throw PipelineError("cannot create \(current)") }
        }
    }
}
