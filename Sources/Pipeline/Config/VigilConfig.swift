// vigil.yaml: one file configures state, rules, detection, incidents, sources, sinks, the outbox,
// metrics and logging. docs/configuration.md lists every key.
//
// Rules of the loader:
// - `${NAME}` / `${NAME:-default}` are expanded in every string (an unset variable without a
//   default is an error: a silently empty secret or endpoint is worse than a clear message).
// - Every problem is collected and reported at once, each by key path (`sinks.sentinel.workspce:
//   unknown key`) and, where the YAML says, line:column. Unknown keys are errors (STYLE.md #4).
import Glibc
import Ingest
import Logging
import Outputs

public struct VigilConfig: Sendable {
    /// The file it came from (for messages), nil when parsed from text.
    public var file: String?
    /// `state.path`: the SQLite state database. nil: the command's default (`--state`).
    public var statePath: String?
    public var rules = RulesSettings()
    public var detection = DetectionSettings()
    /// `incidents.window`: incident grouping window in seconds.
    public var incidentWindowSeconds: Int64 = 18_000
    public var sources: [SourceSettings] = []
    public var sinks: [SinkSettings] = []
    public var outbox = OutboxConfiguration()
    /// `outbox.shutdown_drain`: how long a stopping service keeps delivering before it exits.
    public var shutdownDrainSeconds: Double = 10
    public var metrics = MetricsSettings()
    public var log = LogSettings()
    /// The environment `${…}` was expanded from (sinks are built from it later).
    public var environment: [String: String] = [:]

    public init() {}

    public struct RulesSettings: Sendable, Equatable {
        /// nil: the default (`detections/`).
        public var paths: [String]?
        public var add: [String] = []
        public var fieldmap: String?
        public var placeholders: [String: [String]] = [:]
        public init() {}
    }

    public struct DetectionSettings: Sendable, Equatable {
        /// `detection.lateness`: allowed lateness of events, seconds (event-time windows wait this long).
        public var latenessSeconds: Int64 = 900
        /// `detection.batch_events`: most events per SQLite commit.
        public var batchEvents = 5_000
        /// `detection.operation_timeout`: how long an operation may wait for its final record, in
        /// event time; nil: the lateness.
        public var operationTimeoutSeconds: Int64?
        public init() {}
    }

    public struct MetricsSettings: Sendable, Equatable {
        public var enabled = true
        public var host = "127.0.0.1"
        /// 0: any free port (tests).
        public var port: UInt16 = 9464
        public init() {}
    }

    public struct LogSettings: Sendable, Equatable {
        public enum Format: String, Sendable, CaseIterable { case auto, text, json }
        public var level: Logger.Level = .info
        public var format: Format = .auto
        public init() {}
    }

    public struct SinkSettings: Sendable {
        public var name: String
        public var type: String
        /// The sink's entry as written (for `makeSink`).
        public var value: ConfigValue
        /// `jsonl` only: the file, or `-` for standard output.
        public var jsonlPath: String?
        public var jsonlMaxBatch: Int?
    }

    // MARK: Loading

    public static func load(path: String, environment: [String: String] = ProcessEnvironment.current) throws(VigilConfigError) -> VigilConfig {
        guard let text = readText(path) else {
            throw VigilConfigError(file: path, problems: [.init(path: "", message: "cannot read the config file (\(String(cString: strerror(errno))))")])
        }
        return try parse(yaml: text, file: path, environment: environment)
    }

    public static func parse(yaml: String, file: String? = nil, environment: [String: String] = ProcessEnvironment.current) throws(VigilConfigError) -> VigilConfig {
        let tree: YAMLConfigTree
        do { tree = try YAMLConfigTree.parse(yaml) } catch {
            throw VigilConfigError(file: file, problems: [.init(path: error.path, message: error.message)])
        }
        let problems = ConfigProblems()
        var config = VigilConfig()
        config.file = file
        config.environment = environment
        if var root = ConfigSection(tree.root, path: "", environment: environment, problems: problems) {
            config.read(&root)
            root.finish()
        }
        guard problems.errors.isEmpty else {
            throw VigilConfigError(file: file, problems: problems.errors.map { e in
                var p = VigilConfigError.Problem(path: e.path, message: e.message)
                if let l = tree.location(of: e.path) { (p.line, p.column) = (l.line, l.column) }
                return p
            })
        }
        return config
    }

    private mutating func read(_ root: inout ConfigSection) {
        if var s = root.child("state") {
            statePath = s.string("path")
            s.finish()
        }
        if var s = root.child("rules") {
            rules.paths = s.stringList("paths")
            rules.add = s.stringList("add") ?? []
            rules.fieldmap = s.string("fieldmap")
            if var p = s.child("placeholders") {
                for key in p.map.keys.sorted() { rules.placeholders[key] = p.stringList(key) ?? [] }
                p.finish()
            }
            s.finish()
        }
        if var s = root.child("detection") {
            if let v = s.seconds("lateness") { detection.latenessSeconds = Int64(v) }
            if let v = s.seconds("operation_timeout") { detection.operationTimeoutSeconds = Int64(v) }
            if let v = s.positiveInt("batch_events") { detection.batchEvents = v }
            s.finish()
        }
        if var s = root.child("incidents") {
            if let v = s.seconds("window") {
                if v <= 0 { s.problems.add(s.sub("window"), "must be positive") } else { incidentWindowSeconds = Int64(v) }
            }
            s.finish()
        }
        if let v = root.raw("sources") { sources = SourceSettings.readAll(v, environment: environment, problems: root.problems) }
        if let v = root.raw("sinks") { readSinks(v, problems: root.problems) }
        if var s = root.child("outbox") {
            if let v = s.positiveInt("max_attempts") { outbox.maxAttempts = v }
            if let v = s.seconds("max_age") { outbox.maxAgeSeconds = v }
            if let v = s.seconds("base_delay") { outbox.baseDelaySeconds = v }
            if let v = s.seconds("max_delay") { outbox.maxDelaySeconds = v }
            if let v = s.seconds("max_retry_after") { outbox.maxRetryAfterSeconds = v }
            if let v = s.seconds("poll_interval") { outbox.pollIntervalSeconds = max(0.01, v) }
            if let v = s.seconds("defer_delay") { outbox.deferDelaySeconds = v }
            if let v = s.seconds("max_defer") { outbox.maxDeferSeconds = v }
            if let v = s.seconds("keep_delivered") { outbox.keepDeliveredSeconds = v }
            if let v = s.seconds("shutdown_drain") { shutdownDrainSeconds = v }
            s.finish()
        }
        if var s = root.child("metrics") {
            if let v = s.bool("enabled") { metrics.enabled = v }
            if let listen = s.string("listen") {
                if let (host, port) = VigilConfig.parseListen(listen) { (metrics.host, metrics.port) = (host, port) } else {
                    s.problems.add(s.sub("listen"), "'\(listen)' is not HOST:PORT (e.g. 127.0.0.1:9464)")
                }
            }
            s.finish()
        }
        if var s = root.child("log") {
            if let v = s.choice("level", Logger.Level.allCases.map(\.rawValue)) { log.level = Logger.Level(rawValue: v) ?? .info }
            if let v = s.choice("format", LogSettings.Format.allCases.map(\.rawValue)) { log.format = LogSettings.Format(rawValue: v) ?? .auto }
            s.finish()
        }
    }

    private mutating func readSinks(_ value: ConfigValue, problems: ConfigProblems) {
        var entries: [(name: String, path: String, value: ConfigValue)] = []
        switch value {
        case .map(let m):
            for key in m.keys.sorted() { entries.append((key, "sinks.\(key)", m[key]!)) }
        case .list(let l):
            for (i, v) in l.enumerated() {
                var name = "sink\(i)"
                if case .map(let m) = v, case .string(let n)? = m["name"] { name = n }
                entries.append((name, "sinks[\(i)]", v))
            }
        default:
            problems.add("sinks", "expected a mapping of sink name to sink settings")
            return
        }
        var names = Set<String>()
        for (name, path, v) in entries {
            if !names.insert(name).inserted { problems.add(path, "a second sink named '\(name)'") }
            guard var s = ConfigSection(v, path: path, environment: environment, problems: problems) else { continue }
            guard let type = s.requiredString("type") else { continue }
            if type == "jsonl" {
                _ = s.string("name")
                let sinkPath = s.string("path") ?? "-"
                let maxBatch = s.positiveInt("max_batch")
                s.finish()
                sinks.append(SinkSettings(name: name, type: type, value: v, jsonlPath: sinkPath, jsonlMaxBatch: maxBatch))
                continue
            }
            guard SinkConfiguration.types.contains(type) else {
                problems.add(s.sub("type"), "unknown sink type '\(type)' (known: jsonl, \(SinkConfiguration.types.joined(separator: ", ")))")
                continue
            }
            let found = SinkProblems.all(v, path: path, environment: environment)
            if found.isEmpty { sinks.append(SinkSettings(name: name, type: type, value: v)) }
            for e in found { problems.add(e) }
        }
    }

    static func parseListen(_ text: String) -> (String, UInt16)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    // MARK: Building

    /// Every configured sink, built (`jsonl` here, the others through `Outputs.makeSink`).
    public func makeSinks(logger: Logger = Logger(label: "vigil.sink")) throws -> [any Sink] {
        try sinks.map { s in
            if s.type == "jsonl" {
                let path = s.jsonlPath ?? "-"
                if path != "-", let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                    try? FileSystem.createDirectories(String(path[..<slash]))
                }
                return try JSONLinesSink(name: s.name, destination: path == "-" ? .standardOutput : .file(path),
                                         maxBatch: s.jsonlMaxBatch ?? 500)
            }
            return try makeSink(name: s.name, config: s.value, environment: environment, logger: logger)
        }
    }

    static func readText(_ path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Every problem of a config file, one per line: `vigil.yaml:12:5: sinks.sentinel.workspce: unknown key`.
public struct VigilConfigError: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        public var path: String
        public var message: String
        public var line: Int?
        public var column: Int?
        public init(path: String, message: String, line: Int? = nil, column: Int? = nil) {
            self.path = path
            self.message = message
            self.line = line
            self.column = column
        }
    }

    public var file: String?
    public var problems: [Problem]

    public var description: String {
        let n = problems.count
        var out = "\(file ?? "config"): \(n) problem\(n == 1 ? "" : "s"):"
        for p in problems {
            var place = file ?? "config"
            if let line = p.line { place += ":\(line)" + (p.column.map { ":\($0)" } ?? "") }
            out += "\n  \(place): error: \(p.path.isEmpty ? "" : p.path + ": ")\(p.message)"
        }
        return out
    }
}
