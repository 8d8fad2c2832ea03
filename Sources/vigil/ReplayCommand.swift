import ArgumentParser
import EventModel
import Incidents
import Logging
import Outputs
import Pipeline
import StateStore

/// `vigil replay`: reads historical logs as fast as the disk allows, runs the rules, raises
/// incidents into the state database and delivers them to the configured outputs.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay log files through the rules; raise and deliver incidents.",
        discussion: """
        Reads files, directories (Azure storage-export trees) and '-' (stdin), in any supported format. \
        The files are read side by side and merged by event time, so files that cover the same hours \
        (one per log category) reach windows, operation assembly and baselines in time order. Alerts and incidents are stored in the state database (default \
        .vigil/state.db) together with each file's position, then delivered through the outbox to the \
        outputs: --output jsonl:FILE (or jsonl:- for stdout, the default when no output is given) and \
        the sinks of --config FILE.
        """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .customLong("rules"), help: ArgumentHelp("Rule directory or file, replacing detections/ (repeatable).", valueName: "dir"))
    var rules: [String] = []

    @Option(name: .customLong("rules-add"), help: ArgumentHelp("Rule directory or file added to the default rules (repeatable).", valueName: "dir"))
    var rulesAdd: [String] = []

    @Option(name: .customLong("state"), help: ArgumentHelp("State database (default: the config's state.path, else .vigil/state.db).", valueName: "path"))
    var statePath: String?

    @Option(name: .customLong("output"), help: ArgumentHelp("Output: jsonl:FILE or jsonl:- (repeatable).", valueName: "spec"))
    var outputs: [String] = []

    @Option(help: ArgumentHelp("Config file with sinks (see docs/outputs.md).", valueName: "file"))
    var config: String?

    @Flag(help: "Exit non-zero when any input error was reported, and refuse to start when any rule has an error (otherwise bad rules are reported and left out).")
    var strict = false

    @Flag(help: "No progress bar and no summary table.")
    var quiet = false

    @Option(help: ArgumentHelp("End-of-run summary: text (stderr) or json (stdout).", valueName: "format"))
    var summary: SummaryFormat = .text

    @Option(help: ArgumentHelp("Allowed lateness of events, in seconds (event-time windows wait this long).", valueName: "seconds"))
    var lateness: Int64 = 900

    @Option(name: .customLong("operation-timeout"), help: ArgumentHelp("How long an operation waits for its final record, in seconds of event time (default: the lateness).", valueName: "seconds"))
    var operationTimeout: Int64?

    @Option(help: ArgumentHelp("Most input files read side by side; with more, files are merged in time order as room frees up.", valueName: "n"))
    var maxOpenFiles: Int = 64

    @Option(help: ArgumentHelp("Incident grouping window in seconds.", valueName: "seconds"))
    var groupingWindow: Int64 = 18_000

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String = "notice"

    enum SummaryFormat: String, ExpressibleByArgument { case text, json }

    func validate() throws {
        for spec in outputs { _ = try OutputSpec(parsing: spec) }
        if maxOpenFiles < 1 { throw ValidationError("--max-open-files must be at least 1") }
        if groupingWindow <= 0 { throw ValidationError("--grouping-window must be positive") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
    }

    func run() throws {
        let configuration = try config.map { try VigilConfig.load(path: $0) }
        // Text logs on a terminal, JSON lines otherwise (or as the config's log.format says).
        ServiceLogging.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .notice,
                                 format: configuration?.log.format ?? .auto)
        let reporter = try DiagnosticReporter(errorsPath: input.errors)
        // Flags win over the config file; the config wins over the defaults.
        let ruleDirectories = !rules.isEmpty ? rules : (configuration?.rules.paths ?? RuleSetup.defaultDirectories)
        let detection = try RuleSetup.load(
            ruleDirectories: ruleDirectories, addDirectories: rulesAdd + (configuration?.rules.add ?? []),
            fieldMapPath: configuration?.rules.fieldmap, placeholders: configuration?.rules.placeholders ?? [:],
            database: nil)
        for d in detection.diagnostics { StandardStreams.writeError("\(d)\n") }
        if !detection.blockingErrors.isEmpty || (strict && detection.hasErrors) { throw ExitCode(1) }
        if !detection.ruleErrors.isEmpty {
            StandardStreams.writeError("vigil replay: \(detection.ruleErrors.count) rule error(s) above; those rules are left out and the other \(detection.ruleCount) run (--strict refuses to start instead)\n")
        }

        var sinks: [any Sink] = try outputs.map { try OutputSpec(parsing: $0).makeSink() }
        if let configuration { sinks += try configuration.makeSinks() }
        if sinks.isEmpty { sinks = [try JSONLinesSink(name: "jsonl", destination: .standardOutput)] }

        let databasePath = statePath ?? configuration?.statePath ?? StateDatabase.defaultPath
        let database = try StateDatabase(path: databasePath)
        let baselines = try BaselineWriterLock.hold(statePath: databasePath, mode: .shared,
                                                    refuse: { StandardStreams.writeError("vigil replay: \($0)\n") },
                                                    warn: { StandardStreams.writeError("vigil replay: warning: \($0)\n") })
        defer { withExtendedLifetime(baselines) {} }
        var options: ReplayOptions
        do {
            options = try ReplayOptions(paths: input.paths, from: input.fromTime, to: input.toTime)
        } catch {
            for d in error.diagnostics { reporter.report(d) }
            throw ReplayError.inputs(error.diagnostics.count)
        }
        options.maxLineBytes = input.maxLineBytes
        options.grouping = IncidentGrouping(windowSeconds: groupingWindow)
        options.latenessSeconds = lateness
        options.operationTimeoutSeconds = operationTimeout
        options.merge = MergeOptions(maxOpenFiles: maxOpenFiles)
        let pipeline = ReplayPipeline(options: options, database: database,
                                      detection: detection.makeDetection(database: database, latenessSeconds: lateness,
                                                                         operationTimeoutSeconds: operationTimeout),
                                      sinks: sinks, onDiagnostic: reporter.report)
        let showProgress = !quiet && StandardStreams.stderrIsTerminal
        var bar = ProgressBar()
        let result = try pipeline.run(progress: showProgress ? { bar.draw($0) } : nil)
        if showProgress { bar.finish() }

        switch summary {
        case .json:
            StandardStreams.writeOutput(SummaryRenderer.json(result) + "\n")
        case .text where !quiet:
            let incidents = try result.incidentIds.compactMap { try database.incident(id: $0) }
            StandardStreams.writeError(SummaryRenderer.text(result, incidents: incidents))
        case .text:
            break
        }
        try database.close()
        // Undelivered rows are kept in the outbox, never dropped, but a run that ends with some must
        // not look like success (a full disk under the JSON-lines file, a sink down past the drain).
        if let d = result.delivery, d.remaining > 0 || d.deadLettered > 0 {
            StandardStreams.writeError("vigil replay: \(d.remaining) outbox row\(d.remaining == 1 ? "" : "s") not delivered (kept in \(databasePath); "
                + "rerun or see 'vigil outbox status'), \(d.deadLettered) dead-lettered\n")
            if d.remaining > 0 { throw ExitCode(1) }
        }
        if strict && result.read.errorCount > 0 { throw ExitCode(1) }
    }
}
