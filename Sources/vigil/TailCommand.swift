import ArgumentParser
import EventDecoding
import EventModel
import FastJSON
import Glibc
import Ingest
import Logging
import Outputs
import Pipeline
import StateStore

/// `vigil tail PATH...`: follows files and export trees through the full pipeline (the `vigil run`
/// loop with one file source): detection, incidents in the state database, delivery to `--output`.
/// `--events` instead prints each normalised event as a JSON line and keeps no state.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow log files and export directory trees; detect and deliver as they grow.",
        discussion: """
        Waits for each line's newline, follows renames and truncation, reads dropped-in .gz archives once, \
        and reads pretty-printed JSON documents (envelopes, arrays) whole once they are complete. \
        Positions are kept in the state database with the alerts they produced, so a restart resumes. \
        --events prints normalised events instead (no rules, no state).
        """)

    @Argument(help: "Files or directories to follow (directories recursively).")
    var paths: [String]

    @Flag(name: .customLong("from-beginning"), help: "Read files without a checkpoint from their beginning (default).")
    var fromBeginning = false

    @Flag(name: .customLong("from-end"), help: "Read only what is appended to files that exist at startup and have no checkpoint.")
    var fromEnd = false

    @Flag(name: .customLong("no-inotify"), help: "Poll instead of using inotify.")
    var noInotify = false

    @Flag(help: "Print normalised events as JSON lines instead of detecting (keeps no state).")
    var events = false

    @Option(name: .customLong("max-events"), help: "With --events: stop after this many events (for scripts and tests).")
    var maxEvents: Int?

    @Option(name: .customLong("state"), help: ArgumentHelp("State database file.", valueName: "path"))
    var state: String = StateDatabase.defaultPath

    @Option(name: .customLong("output"), help: ArgumentHelp("Output: jsonl:FILE or jsonl:- (repeatable; default jsonl:-).", valueName: "spec"))
    var outputs: [String] = []

    @Option(help: ArgumentHelp("Config file for sinks, rules and detection settings (its sources are ignored).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("rules"), help: ArgumentHelp("Rule directory or file, replacing detections/ (repeatable).", valueName: "dir"))
    var rules: [String] = []

    @Option(name: .customLong("rules-add"), help: ArgumentHelp("Rule directory or file added to the rules (repeatable).", valueName: "dir"))
    var rulesAdd: [String] = []

    @Option(help: ArgumentHelp("Allowed lateness of events, in seconds.", valueName: "seconds"))
    var lateness: Int64?

    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp("Serve /healthz and /metrics here (HOST:PORT).", valueName: "address"))
    var metricsListen: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Log level (default notice).", valueName: "level"))
    var logLevel: String = "notice"

    func validate() throws {
        if fromBeginning && fromEnd { throw ValidationError("--from-beginning and --from-end exclude each other") }
        if paths.isEmpty { throw ValidationError("give at least one file or directory") }
        for spec in outputs { _ = try OutputSpec(parsing: spec) }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
    }

    func run() throws {
        var tail = TailConfiguration(startPosition: fromEnd ? .end : .beginning)
        tail.useInotify = !noInotify
        if events { return try printEvents(tail) }
        ServiceCommand.trapSignals()

        var settings = VigilConfig()
        if let config {
            do { settings = try VigilConfig.load(path: config) } catch {
                StandardStreams.writeError("\(error)\n")
                throw ExitCode(2)
            }
        }
        ServiceLogging.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .notice)
        settings.sources = [.file(FileSourceSettings(name: "tail", paths: paths, tail: tail))]
        if !rules.isEmpty { settings.rules.paths = rules }
        settings.rules.add += rulesAdd
        if let lateness { settings.detection.latenessSeconds = lateness }
        settings.metrics.enabled = false
        if let metricsListen {
            guard let colon = metricsListen.lastIndex(of: ":"), let port = UInt16(metricsListen[metricsListen.index(after: colon)...]) else {
                throw ValidationError("--metrics-listen: expected HOST:PORT")
            }
            settings.metrics.enabled = true
            settings.metrics.host = String(metricsListen[..<colon])
            settings.metrics.port = port
        }
        var extra: [any Sink] = try outputs.map { try OutputSpec(parsing: $0).makeSink() }
        if extra.isEmpty && settings.sinks.isEmpty { extra = [try JSONLinesSink(name: "jsonl", destination: .standardOutput)] }
        try ServiceCommand.run(settings: settings, statePath: state, extraSinks: extra)
    }

    /// `--events`: the stateless printer.
    private func printEvents(_ config: TailConfiguration) throws {
        let source = TailSource(paths: paths, configuration: config, checkpoints: InMemoryCheckpointStore(),
                                logger: Logger(label: "vigil.tail"))
        var printer = TailEventPrinter(limit: maxEvents)
        let normalizer = Normalizer()
        while !printer.done {
            let lines = try source.poll(maxLines: 4096)
            for line in lines where !printer.done {
                try JSONRecords.decode(line, normalizer: normalizer, into: &printer)
            }
            fflush(nil)   // every stream: lines appear as they are read
            if lines.isEmpty { source.wait(timeout: .seconds(1)) }
        }
    }
}

/// Prints `{"source":…,"id":…,"kind":…,"shape":…,"record":{…}}` per event; diagnostics go to stderr.
struct TailEventPrinter: EventConsumer {
    let limit: Int?
    var printed = 0
    var done: Bool { limit.map { printed >= $0 } ?? false }

    mutating func event(_ event: Event) {
        guard !done else { return }
        var w = JSONWriter()
        w.beginObject()
        w.key("source"); w.writeString(event.position.description); w.comma()
        w.key("id"); w.writeString(event.idString); w.comma()
        w.key("kind"); w.writeString(event.kind.rawValue); w.comma()
        w.key("shape"); w.writeString(event.shape.rawValue); w.comma()
        w.key("record"); w.write(event.record.root)
        w.endObject()
        print(w.text)
        printed += 1
    }

    mutating func diagnostic(_ diagnostic: Diagnostic) {
        StandardStreams.writeError("\(diagnostic)\n")
    }
}
