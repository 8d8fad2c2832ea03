import ArgumentParser
import Detection
import EventDecoding
import EventModel
import Pipeline
import Foundation
import StateStore

/// `vigil baseline learn|show`: prime the anomaly baselines from history, and read them back.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Learn and inspect the anomaly baselines (identity × workspace).",
        subcommands: [Learn.self, Show.self])

    struct Learn: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn baselines from historical logs, raising no alerts.",
            discussion: "Reads files and directories in every format replay reads (JSON lines, {\"records\":[…]} envelopes, arrays, CSV, gzip, storage-export trees), merged by event time, takes each Activity Log operation once (its first record) and records what each identity did where. History already learned is skipped; history older than what a baseline learned is learned. It refuses to start while `vigil run`, `tail` or `replay` uses the same state database: they hold baselines in memory, and their next save would overwrite what this learns.")
        @OptionGroup var state: StateDatabaseOptions
        @Option(help: ArgumentHelp("Folder of anomaly rules, searched with its subfolders (a whole pack will do).", valueName: "dir"))
        var rules: String = "detections/anomaly"
        @Option(help: "Allowed lateness in seconds for reordering.")
        var lateness: Int64 = 900
        @Option(name: .customLong("operation-timeout"), help: ArgumentHelp("How long an operation's later records may follow its first, in seconds of event time (default: the lateness); set it as `vigil run` and `replay` have it.", valueName: "seconds"))
        var operationTimeout: Int64?
        @Argument(help: "Log files and directories to learn from.")
        var paths: [String]

        func run() throws {
            let parsed = try loadAnomalyRules(folder: rules)
            let db = try state.openForWriting()
            let baselines = try BaselineWriterLock.hold(statePath: state.path, mode: .exclusive,
                                                        refuse: { FileHandle.standardError.write(Data("vigil baseline learn: \($0)\n".utf8)) },
                                                        warn: { FileHandle.standardError.write(Data("vigil baseline learn: warning: \($0)\n".utf8)) })
            defer { withExtendedLifetime(baselines) {} }
            let window = BaselineLearning.markWindow(latenessSeconds: lateness, operationTimeoutSeconds: operationTimeout)
            let detector = AnomalyDetector(rules: parsed, store: db, configuration: .init(latenessSeconds: window), mode: .learnOnly)
            var reported = 0, problems = 0
            let summary: BaselineLearning.Summary
            do {
                summary = try BaselineLearning.run(paths: paths, detector: detector, latenessSeconds: lateness,
                                                   operationTimeoutSeconds: operationTimeout) { d in
                    if d.level == .error { problems += 1 }
                    reported += 1
                    if reported <= 20 { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
                }
            } catch {
                for d in error.diagnostics { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
                throw ExitCode(2)
            }
            if reported > 20 { FileHandle.standardError.write(Data("… \(reported - 20) more problem(s)\n".utf8)) }
            try db.close()
            let s = detector.stats
            print("learned from \(s.eventsLearned) event×baseline updates (\(s.events) events, \(summary.late) late, "
                + "\(problems) unreadable, \(summary.operations) operations)")
            if s.updatesAlreadyLearned > 0 {
                print("\(s.updatesAlreadyLearned) event×baseline updates skipped (covered by what the baselines had learned)")
            }
            print("baselines: \(try AnomalyBaselines.profiles(in: StateDatabase(path: state.path, readOnly: true)).count) identity×scope, "
                + "\(s.suppressedLearning) anomalies seen while learning; state \(state.path)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the learned baselines.")
        @OptionGroup var state: StateDatabaseOptions
        @Option(help: "Only identities containing this text (case-insensitive).")
        var identity: String?
        @Option(help: "Only workspaces (or other scopes) containing this text.")
        var workspace: String?
        @Option(help: "table, or json (one object per line).")
        var format: OutputFormat = .table

        func run() throws {
            let db = try state.openForReading()
            let profiles = try AnomalyBaselines.profiles(in: db, identity: identity, workspace: workspace)
            switch format {
            case .table:
                if profiles.isEmpty { print("no baselines match (learn some with 'vigil baseline learn PATH...')") }
                print(AnomalyBaselines.render(profiles), terminator: "")
                let scopes = try AnomalyBaselines.scopes(in: db)
                    .filter { s in workspace.map { s.scopeName.lowercased().contains($0.lowercased()) } ?? true }
                for s in scopes {
                    print("scope \(s.space) \(s.scopeName): watched since \(EventTime(seconds: s.firstSeen)), \(s.subjects) identities")
                }
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                for p in profiles {
                    // Which events it learned, by id: bookkeeping, not baseline.
                    print(String(decoding: try encoder.encode(p.withoutMarks), as: UTF8.self))
                }
            }
        }
    }
}

/// The anomaly rules in `folder` and its subfolders (so `detections` finds `detections/anomaly`);
/// the other rules there are skipped. None at all is an error: learning would learn nothing.
func loadAnomalyRules(folder: String) throws -> [AnomalyRule] {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue,
          let walk = fm.enumerator(atPath: folder) else {
        throw ValidationError("no rule folder at \(folder) (pass --rules DIR)")
    }
    let names = walk.compactMap { $0 as? String }
    var rules: [AnomalyRule] = []
    var errors = 0
    for name in names.sorted() where name.hasSuffix(".yml") || name.hasSuffix(".yaml") {
        let path = (folder as NSString).appendingPathComponent(name)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard AnomalyRuleParser.isAnomalyRule(text) else { continue }
        let result = AnomalyRuleParser.parse(text, file: path)
        for d in result.diagnostics { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
        errors += result.diagnostics.filter { $0.level == .error }.count
        rules += result.rules
    }
    guard errors == 0 else { throw ValidationError("\(errors) error(s) in the anomaly rules") }
    guard !rules.isEmpty else {
        throw ValidationError("no anomaly rules under \(folder) (rules with 'vigil_rule: anomaly'; the pack's are in detections/anomaly)")
    }
    return rules
}
