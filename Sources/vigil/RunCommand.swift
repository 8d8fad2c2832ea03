import ArgumentParser
import Glibc
import Logging
import Outputs
import Pipeline
import StateStore

/// `vigil run --config FILE`: the long-running service. Every configured source is read, detected,
/// committed (alerts + checkpoints in one transaction) and delivered; SIGTERM/SIGINT finish the
/// batch, commit and exit 0. Health and Prometheus metrics on `metrics.listen`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run as a service: read every configured source, detect, and deliver incidents.",
        discussion: """
        Sources, sinks, rules and the rest come from the config file (see docs/configuration.md; \
        'vigil init' writes a commented one). A bad config lists every problem by key path and exits 2. \
        SIGTERM or SIGINT: the current batch finishes and commits, delivery drains briefly, exit 0. \
        GET /healthz and GET /metrics (Prometheus) are served on metrics.listen (default 127.0.0.1:9464).
        """)

    @Option(help: ArgumentHelp("Config file (vigil.yaml).", valueName: "file"))
    var config: String

    @Option(help: ArgumentHelp("State database; overrides state.path of the config.", valueName: "path"))
    var state: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Overrides log.level (trace, debug, info, notice, warning, error, critical).", valueName: "level"))
    var logLevel: String?

    @Flag(name: .customLong("check"), help: "Only validate the config (and the rules it names), then exit.")
    var checkOnly = false

    func run() throws {
        let settings: VigilConfig
        ServiceCommand.trapSignals()
        do { settings = try VigilConfig.load(path: config) } catch {
            // Before `bootstrap`; `--check` is text, as below.
            StandardStreams.writeError((checkOnly ? "\(error)" : ServiceLogging.startupLine("\(error)")) + "\n")
            throw ExitCode(2)
        }
        var level = settings.log.level
        if let logLevel {
            guard let l = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
            level = l
        }
        // `--check` is read by people: everything it says is text, whatever log.format says.
        ServiceLogging.bootstrap(level: level, format: checkOnly ? .text : settings.log.format)
        do {
            try ServiceCommand.run(settings: settings, statePath: state ?? settings.statePath ?? StateDatabase.defaultPath,
                                   checkOnly: checkOnly)
        } catch let error where ServiceLogging.writesJSON && !(error is ExitCode) {
            // What stops the service (state database, metrics port, sources) is its last log line,
            // as JSON like the others; in text it reads as before (`Error: …`).
            StandardStreams.writeError(ServiceLogging.line("\(error)", level: .critical) + "\n")
            throw ExitCode(1)
        }
    }
}

/// What `run` and `tail` share: rules, state, sinks, the metrics server, signals.
enum ServiceCommand {
    /// Set by SIGTERM/SIGINT; trapped first thing, so a signal during startup also stops cleanly.
    static let stop = StopFlag()
    nonisolated(unsafe) private static var trap: SignalTrap?

    static func trapSignals() {
        guard trap == nil else { return }
        trap = SignalTrap { sig in
            Logger(label: "vigil.run").notice("stopping: finishing the current batch", metadata: ["signal": "\(sig == SIGTERM ? "SIGTERM" : "SIGINT")"])
            stop.set()
        }
    }

    static func run(settings: VigilConfig, statePath: String, extraSinks: [any Sink] = [], checkOnly: Bool = false) throws {
        let logger = Logger(label: "vigil.run")
        let rules = try RuleSetup.load(ruleDirectories: settings.rules.paths ?? RuleSetup.defaultDirectories,
                                       addDirectories: settings.rules.add, fieldMapPath: settings.rules.fieldmap,
                                       placeholders: settings.rules.placeholders, database: nil)
        for d in rules.diagnostics where d.level == .error || !checkOnly { StandardStreams.writeError(ServiceLogging.line(for: d) + "\n") }
        // `--check` insists on a clean rule set; the service runs the rules that compiled.
        if !rules.blockingErrors.isEmpty || (checkOnly && rules.hasErrors) { throw ExitCode(1) }
        if !rules.ruleErrors.isEmpty {
            logger.error("rules left out", metadata: ["errors": "\(rules.ruleErrors.count)", "running": "\(rules.ruleCount)"])
        }
        var sinks: [any Sink]
        do { sinks = try settings.makeSinks(logger: Logger(label: "vigil.sink")) + extraSinks } catch {
            StandardStreams.writeError(ServiceLogging.line("\(settings.file ?? "config"): \(error)", level: .error) + "\n")
            throw ExitCode(2)
        }
        if checkOnly {
            StandardStreams.writeError("config ok: \(settings.sources.count) source(s), \(sinks.count) sink(s), \(rules.ruleCount) rule(s)\n")
            return
        }
        if sinks.isEmpty { logger.warning("no sinks configured: alerts and incidents stay in the state database") }
        let database = try StateDatabase(path: statePath)
        let baselines = try BaselineWriterLock.hold(statePath: statePath, mode: .shared,
                                                    refuse: { StandardStreams.writeError(ServiceLogging.line($0, level: .error) + "\n") },
                                                    warn: { logger.warning("\($0)") })
        defer { withExtendedLifetime(baselines) {} }
        let metrics = RunMetrics()
        let reporter = try DiagnosticReporter(errorsPath: nil, echo: .serviceLog)
        let service = try RunService(sources: settings.sources, rules: rules, database: database, sinks: sinks,
                                     options: RunOptions(config: settings), metrics: metrics, logger: logger,
                                     onDiagnostic: reporter.report)
        var server: MetricsServer?
        if settings.metrics.enabled {
            server = try MetricsServer(host: settings.metrics.host, port: settings.metrics.port, metrics: metrics,
                                       logger: logger) { metrics.health }
            server?.start()
            logger.info("metrics and health served", metadata: ["listen": "\(settings.metrics.host):\(server!.port)"])
        }
        trapSignals()
        let summary = try service.run(until: stop)
        server?.stop()
        try database.close()
        logger.info("stopped", metadata: ["alerts": "\(summary.newAlerts)", "records": "\(summary.records)"])
    }
}
