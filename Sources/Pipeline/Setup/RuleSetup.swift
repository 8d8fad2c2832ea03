import Detection
import EventModel
import StateStore
#if canImport(Glibc)
import Glibc
#endif

/// Loads and compiles the rules a run uses: Sigma rules (stateless) from the rule directories, with
/// the field map found beside them. Every problem is collected and the caller prints them all.
/// A rule with an error is left out and the others run (one bad rule in a folder of hundreds must
/// not blind the rest); a missing rule path, a broken field map or no usable rule stops the run.
public struct RuleSetup {
    public static let defaultDirectories = ["detections"]

    public var compiled: CompiledRuleSet
    public var anomalyRules: [AnomalyRule]
    public var diagnostics: [Diagnostic]
    public var ruleCount: Int { compiled.rules.count + anomalyRules.count }
    public var hasErrors: Bool { diagnostics.contains { $0.level == .error } }
    /// Errors in single rules (`rule.*`): those rules are left out, the others run.
    public var ruleErrors: [Diagnostic] { diagnostics.filter { $0.level == .error && $0.code.hasPrefix("rule.") } }
    /// Errors that stop a run: a rule path that does not exist, a broken field map, or no usable rule
    /// (`rules.none`, added by `load`).
    public var blockingErrors: [Diagnostic] { diagnostics.filter { $0.level == .error && !$0.code.hasPrefix("rule.") } }

    /// - Parameters:
    ///   - ruleDirectories: replace the defaults (`--rules`).
    ///   - addDirectories: added to them (`--rules-add`).
    ///   - fieldMapPath: explicit field map; else `fieldmap.yml` in the first rule directory or one
    ///     of its parents, else none (raw paths only, with a warning).
    public static func load(ruleDirectories: [String], addDirectories: [String] = [], fieldMapPath: String? = nil,
                            placeholders: [String: [String]] = [:], database: StateDatabase?) throws -> RuleSetup {
        let paths = ruleDirectories + addDirectories
        var diagnostics: [Diagnostic] = []
        for p in paths where !exists(p) {
            diagnostics.append(Diagnostic(.error, code: "rules.not-found", "no rule file or directory at \(p)", at: SourceLocation(file: p)))
        }
        let map: FieldMap
        if let path = fieldMapPath ?? findFieldMap(near: ruleDirectories) {
            let (m, d) = FieldMap.load(path: path)
            map = m
            diagnostics += d
        } else {
            map = FieldMap()
            diagnostics.append(Diagnostic(.warning, code: "fieldmap.missing",
                "no fieldmap.yml found near the rules: fields are read as raw record paths and rules meet every event kind",
                at: SourceLocation(file: ruleDirectories.first ?? "detections")))
        }
        let (set, d1) = RuleLoader.load(paths: paths.filter(exists), placeholders: placeholders)
        let (compiled, d2) = Compiler.compile(set, fieldMap: map)
        diagnostics += d1 + d2
        if compiled.rules.isEmpty && set.anomalyRules.isEmpty {
            diagnostics.append(Diagnostic(.error, code: "rules.none", "no usable rule: nothing to detect with",
                                          at: SourceLocation(file: paths.first ?? "rules")))
        }
        return RuleSetup(compiled: compiled, anomalyRules: set.anomalyRules, diagnostics: diagnostics)
    }

    /// The detection stage for a run: baselines and open correlation windows live in `database`
    /// and survive restarts. Nothing waits for event time unless a correlation, an anomaly rule or
    /// a rule on assembled operations needs it.
    public func makeDetection(database: StateDatabase, latenessSeconds: Int64 = 900, operationTimeoutSeconds: Int64? = nil) -> DetectionStage {
        // What a restart may read again and an operation's later records may follow by
        // (`LearnedMark`): the lateness, or the operation timeout when longer.
        let markWindow = BaselineLearning.markWindow(latenessSeconds: latenessSeconds, operationTimeoutSeconds: operationTimeoutSeconds)
        let anomaly = anomalyRules.isEmpty ? nil
            : AnomalyDetector(rules: anomalyRules, store: database, configuration: .init(latenessSeconds: markWindow))
        return DetectionStage(engine: Engine(rules: compiled, unknownKindMeetsAllRules: false), anomaly: anomaly,
                              latenessSeconds: latenessSeconds, operationTimeoutSeconds: operationTimeoutSeconds, correlationStore: database)
    }

    static func findFieldMap(near directories: [String]) -> String? {
        for dir in directories {
            var d = isDirectory(dir) ? dir : parent(dir)
            for _ in 0..<4 {
                let candidate = d + "/fieldmap.yml"
                if exists(candidate) { return candidate }
                d += "/.."
            }
        }
        return exists("detections/fieldmap.yml") ? "detections/fieldmap.yml" : nil
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
