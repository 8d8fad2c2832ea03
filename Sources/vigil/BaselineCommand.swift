import ArgumentParser
import Detection
import EventDecoding
import EventModel
import FastJSON
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
            discussion: "Reads JSON-lines files (one record or one {\"records\":[…]} envelope per line), orders them by event time, takes each Activity Log operation once (its first record) and records what each identity did where.")
        @OptionGroup var state: StateDatabaseOptions
        @Option(help: ArgumentHelp("Folder of anomaly rules.", valueName: "dir"))
        var rules: String = "detections/anomaly"
        @Option(help: "Allowed lateness in seconds for reordering.")
        var lateness: Int64 = 900
        @Argument(help: "Log files to learn from.")
        var paths: [String]

        func run() throws {
            let parsed = try loadAnomalyRules(folder: rules)
            let db = try state.openForWriting()
            let detector = AnomalyDetector(rules: parsed, store: db, mode: .learnOnly)
            var stages = StatefulStages(buffer: EventTimeBuffer(latenessSeconds: lateness),
                                        assembler: OperationAssembler(configuration: .init(timeoutSeconds: lateness)),
                                        anomaly: detector)
            var problems = 0
            // TODO(decode): switch to the shared EventDecoding RecordReader/InputSet when it lands; this
            // reader only knows JSON lines and per-line envelopes (no gzip, CSV or arrays).
            for path in paths {
                try JSONLinesEvents.read(path: path) { result in
                    switch result {
                    case .success(let event): _ = stages.push(event)
                    case .failure(let diagnostic):
                        problems += 1
                        if problems <= 20 { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
                    }
                }
            }
            _ = stages.finish()
            for d in detector.drainDiagnostics() + stages.buffer.lateDiagnostics().prefix(20) {
                FileHandle.standardError.write(Data("\(d)\n".utf8))
            }
            try db.close()
            let s = detector.stats
            print("learned from \(s.eventsLearned) event×baseline updates (\(s.events) events, \(stages.buffer.stats.late) late, "
                + "\(problems) unreadable, \(stages.operationOnce.stats.operations) operations)")
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
                for p in profiles { print(String(decoding: try encoder.encode(p), as: UTF8.self)) }
            }
        }
    }
}

func loadAnomalyRules(folder: String) throws -> [AnomalyRule] {
    let fm = FileManager.default
    guard let names = try? fm.contentsOfDirectory(atPath: folder) else {
        throw ValidationError("no rule folder at \(folder) (pass --rules DIR)")
    }
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
    return rules
}

/// A minimal JSON-lines reader for `baseline learn` until the shared reader lands.
enum JSONLinesEvents {
    static func read(path: String, _ body: (Result<Event, Diagnostic>) -> Void) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        let normalizer = Normalizer()
        let bytes = [UInt8](data)
        var start = 0, line = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let slice = bytes[start..<end]
            if slice.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) {
                let position = SourcePosition(source: path, line: line, offset: Int64(start))
                do {
                    let doc = try JSONDocument.parse(slice)
                    let id = slice.withUnsafeBytes { fastHash64($0) }
                    if let records = doc.root["records"], records.type == .array {
                        for (i, record) in records.children.enumerated() {
                            var b = JSONBuilder()
                            b.copy(record)
                            let one = b.build()
                            var p = position
                            p.recordIndex = i
                            body(Result { () throws(Diagnostic) in try normalizer.normalize(one, position: p, id: fastHash64(one.root.jsonText)) })
                        }
                    } else {
                        body(Result { () throws(Diagnostic) in try normalizer.normalize(doc, position: position, id: id) })
                    }
                } catch {
                    body(.failure(Diagnostic(.error, code: "input.malformed-json", "\(error)",
                                             at: SourceLocation(file: path, line: line, offset: Int64(start)))))
                }
            }
            start = end + 1
            line += 1
        }
    }
}
