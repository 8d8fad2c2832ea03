// `vigil run` and `vigil tail`: every source polled by one loop → decode → detection → one SQLite
// transaction per round (alerts, incidents, outbox rows, learned baselines AND the source
// checkpoints) → only then Kafka offsets → the outbox dispatcher (its own thread and connection)
// delivers to the sinks.
//
// Invariants:
// - Durable before acknowledged (STYLE.md #6): a file checkpoint or Kafka offset moves only after
//   the transaction holding the alerts of the events before it committed, and never past an event
//   the stateful stages still hold (`TrackedDetection`). kill -9 at any point loses nothing; the
//   re-read events re-derive the same alert ids, which the alerts table deduplicates.
// - Checkpoints move only in a transaction that also saves the learned baselines, and baselines
//   are saved every `baselineEvents` events or `baselineInterval`, and at stop (re-encoding every
//   baseline a round touched, at every round, cost as much as learning). Alerts and correlation
//   windows commit every round. A restart re-reads from the last checkpoint and learns those
//   events once, as the baselines saved with it did not include them.
// - Stop (SIGTERM/SIGINT → `StopFlag`): the round in flight finishes and commits, sources close
//   (Kafka commits its offsets and leaves the group), the dispatcher stops after its batch and
//   drains for at most `shutdownDrainSeconds`, sinks close.
// - A failing source backs off (0.5 s doubling to 30 s) and says why; it never spins.
import Detection
import EventModel
import Foundation
import Incidents
import Ingest
import Logging
import Outputs
import StateStore
import Synchronization

public struct RunOptions: Sendable {
    public var latenessSeconds: Int64 = 900
    /// How long an operation waits for its final record (nil: the lateness).
    public var operationTimeoutSeconds: Int64?
    /// Most records read per source per round (one transaction per round).
    public var batchRecords = 5_000
    public var grouping = IncidentGrouping()
    public var outbox = OutboxConfiguration()
    public var shutdownDrainSeconds: Double = 10
    /// How long an idle loop waits for new input before polling again.
    public var idleWait: Duration = .milliseconds(500)
    /// Events between saves of the anomaly baselines, and so between checkpoint moves (rounded up
    /// to whole rounds); `baselineInterval` bounds the time between them too.
    public var baselineEvents = BaselineSaves.defaultRunEvents
    public var baselineInterval: Duration = .seconds(30)
    public init() {}

    public init(config: VigilConfig) {
        latenessSeconds = config.detection.latenessSeconds
        operationTimeoutSeconds = config.detection.operationTimeoutSeconds
        batchRecords = config.detection.batchEvents
        grouping = IncidentGrouping(windowSeconds: config.incidentWindowSeconds)
        outbox = config.outbox
        shutdownDrainSeconds = config.shutdownDrainSeconds
    }
}

/// What a run did, for the exit log line and tests.
public struct RunSummary: Sendable {
    public var records = 0
    public var events = 0
    public var newAlerts = 0
    public var incidentRevisions = 0
    public var commits = 0
    public var delivery: DrainReport?
}

public final class RunService {
    public let options: RunOptions
    public let metrics: RunMetrics
    private let database: StateDatabase
    private let detection: TrackedDetection
    private let sources: [any RunSource]
    private let sinks: [any Sink]
    private let logger: Logger
    private let onDiagnostic: (Diagnostic) -> Void
    private var backoff: [String: (failures: Int, until: ContinuousClock.Instant)] = [:]
    private let clock = ContinuousClock()
    private var saves: BaselineSaves
    /// The newest checkpoint per source and key since the last baseline save (persisted, then
    /// acknowledged, with the next save).
    private var unsavedCheckpoints: [[String: Ingest.Checkpoint]] = []

    /// Builds the sources (Kafka consumers subscribe here; they connect on the first poll).
    public init(sources: [SourceSettings], rules: RuleSetup, database: StateDatabase, sinks: [any Sink],
                options: RunOptions, metrics: RunMetrics = RunMetrics(), logger: Logger = Logger(label: "vigil.run"),
                onDiagnostic: @escaping (Diagnostic) -> Void = { _ in }) throws {
        guard !sources.isEmpty else { throw PipelineError("no sources configured: add a file or eventhubs source under 'sources:'") }
        self.options = options
        self.metrics = metrics
        self.database = database
        self.logger = logger
        self.onDiagnostic = onDiagnostic
        self.sinks = sinks.map { MeteredSink(base: $0, metrics: metrics) }
        detection = TrackedDetection(rules: rules, database: database, latenessSeconds: options.latenessSeconds,
                                     operationTimeoutSeconds: options.operationTimeoutSeconds)
        let store = SQLiteCheckpointStore(database: database)
        var built: [any RunSource] = []
        for s in sources {
            var sourceLogger = logger
            sourceLogger[metadataKey: "source"] = "\(s.name)"
            switch s {
            case .file(let f): built.append(FileRunSource(settings: f, checkpoints: store, logger: sourceLogger))
            case .eventHubs(let e):
                do {
                    if let stateful = e.stateful {
                        built += try StatefulScaleOut.sources(settings: e, stateful: stateful, rules: rules, database: database,
                                                              latenessSeconds: options.latenessSeconds,
                                                              operationTimeoutSeconds: options.operationTimeoutSeconds, logger: sourceLogger)
                    } else {
                        built.append(try EventHubsRunSource(settings: e, logger: sourceLogger))
                    }
                } catch {
                    throw PipelineError("source \(s.name): \(error)")
                }
            }
        }
        self.sources = built
        unsavedCheckpoints = Array(repeating: [:], count: built.count)
        saves = BaselineSaves(learns: detection.learnsBaselines || built.contains(where: \.learnsBaselines),
                              everyEvents: options.baselineEvents, interval: options.baselineInterval)
        metrics.update { m in for s in built { m.sourceUp[s.name] = true; m.eventsIn[s.name] = 0; m.eventsOut[s.name] = 0 } }
    }

    /// Runs until `stop` is set, then shuts down cleanly. Throws only on state-database failures
    /// (the run cannot keep its promises without them).
    public func run(until stop: StopFlag) throws -> RunSummary {
        var summary = RunSummary()
        let outboxDatabase = try StateDatabase(path: database.path)
        let dispatcher = try OutboxDispatcher(database: outboxDatabase, sinks: sinks, configuration: options.outbox, logger: logger)
        let outboxStop = OutboxStopSignal()
        let outboxDone = StopFlag()
        let outboxFailure = Mutex<String?>(nil)
        let thread = Thread { [logger] in
            // A state-database error (busy past its timeout, disk full) pauses delivery, never ends it:
            // the rows wait in the outbox.
            while !outboxStop.isStopped {
                do {
                    try dispatcher.run(until: outboxStop)
                    outboxFailure.withLock { $0 = nil }
                } catch {
                    logger.error("outbox dispatcher failed; retrying in 1 s", metadata: ["error": "\(error)"])
                    outboxFailure.withLock { $0 = "\(error)" }
                    for _ in 0..<10 where !outboxStop.isStopped { usleep(100_000) }
                }
            }
            outboxDone.set()
        }
        thread.name = "vigil-outbox"
        thread.start()
        logger.info("vigil run started", metadata: ["sources": "\(sources.map(\.name).joined(separator: ","))",
                                                    "sinks": "\(sinks.map(\.name).joined(separator: ","))"])
        var lastStatus = clock.now - .seconds(10)
        var loopError: (any Error)?
        do {
            while !stop.isSet {
                var round = RunBatch()
                let kafkaTimeout: Duration = sources.count == 1 ? options.idleWait : .milliseconds(100)
                for source in sources { poll(source, timeout: kafkaTimeout, into: &round) }
                try process(round, summary: &summary)
                if clock.now - lastStatus >= .seconds(1) {
                    lastStatus = clock.now
                    refreshStatus()
                }
                if round.records == 0 && !stop.isSet { idle() }
            }
            try process(RunBatch(), summary: &summary, final: true)   // the last positions and baselines
        } catch {
            loopError = error
        }
        // Shutdown: sources first (Kafka commits what is durable and leaves the group), then delivery.
        for source in sources {
            do { try source.close() } catch { logger.warning("source did not close cleanly", metadata: ["source": "\(source.name)", "error": "\(error)"]) }
        }
        outboxStop.stop()
        outboxDone.wait(timeoutSeconds: 60)
        if outboxDone.isSet && outboxFailure.withLock({ $0 }) == nil && options.shutdownDrainSeconds > 0 {
            summary.delivery = try? dispatcher.drain(until: Date().timeIntervalSince1970 + options.shutdownDrainSeconds)
        }
        if outboxDone.isSet {
            do { try dispatcher.closeSinks() } catch { logger.warning("a sink did not close cleanly", metadata: ["error": "\(error)"]) }
            try? outboxDatabase.close()
        }
        refreshStatus()
        if let loopError { throw loopError }
        logger.info("vigil run stopped", metadata: [
            "records": "\(summary.records)", "alerts": "\(summary.newAlerts)", "commits": "\(summary.commits)",
            "outbox_remaining": "\(summary.delivery?.remaining ?? -1)"])
        return summary
    }

    private func poll(_ source: any RunSource, timeout: Duration, into round: inout RunBatch) {
        if let b = backoff[source.name], clock.now < b.until { return }
        let before = (round.records, round.events.count + round.detected, round.diagnostics.count)
        do {
            try source.poll(maxRecords: options.batchRecords, timeout: timeout, into: &round)
            if backoff.removeValue(forKey: source.name) != nil {
                logger.notice("source recovered", metadata: ["source": "\(source.name)"])
            }
            metrics.update { m in
                m.sourceUp[source.name] = true
                m.eventsIn[source.name, default: 0] += round.records - before.0
                m.eventsOut[source.name, default: 0] += round.events.count + round.detected - before.1
                m.decodeErrors[source.name, default: 0] += round.diagnostics.count - before.2
            }
        } catch {
            let failures = (backoff[source.name]?.failures ?? 0) + 1
            let delay = min(30.0, 0.5 * Double(1 << min(failures - 1, 6)))
            backoff[source.name] = (failures, clock.now + .milliseconds(Int64(delay * 1000)))
            logger.error("source failed; retrying", metadata: [
                "source": "\(source.name)", "error": "\(error)", "attempt": "\(failures)", "retry_in": "\(delay)s"])
            metrics.update { m in
                m.sourceUp[source.name] = false
                m.sourceErrors[source.name, default: 0] += 1
            }
        }
    }

    /// Detection and the round's transaction; then the sources learn what is durable. `final`: the
    /// last round, which saves the baselines and the last positions whatever the interval.
    private func process(_ round: RunBatch, summary: inout RunSummary, final: Bool = false) throws {
        for d in round.diagnostics { onDiagnostic(d) }
        var alerts = round.alerts
        for (event, origin) in round.events { alerts += detection.process(event, from: origin) }
        for d in detection.drainDiagnostics() { onDiagnostic(d) }
        // Asked every round (a source may flush what it re-publishes), kept until the next save.
        for (i, source) in sources.enumerated() {
            for c in source.checkpoints(detection) { unsavedCheckpoints[i][c.key] = c }
        }
        summary.records += round.records
        summary.events += round.events.count
        saves.count(round.events.count)
        let baselines = saves.due(final: final, wanted: detection.baselineSaveWanted || sources.contains(where: \.baselineSaveWanted))
        var perSource: [(any RunSource, [Ingest.Checkpoint])] = []
        if baselines {
            for (i, source) in sources.enumerated() where !unsavedCheckpoints[i].isEmpty {
                perSource.append((source, unsavedCheckpoints[i].values.sorted { $0.key < $1.key }))
                unsavedCheckpoints[i].removeAll()
            }
        }
        guard !alerts.isEmpty || !perSource.isEmpty || (baselines && saves.learns && saves.events > 0) else { return }
        let batch = CommitBatch(alerts: alerts, checkpoints: perSource.flatMap { $0.1.map(SQLiteCheckpointStore.stateCheckpoint) })
        let grouper = IncidentGrouper(configuration: options.grouping)
        let result = try database.transaction {
            try detection.saveState(baselines: baselines)
            for source in sources { try source.saveState(baselines: baselines) }
            return try database.commit(batch: batch, grouper: grouper)
        }
        if baselines { saves.saved() }
        summary.commits += 1
        summary.newAlerts += result.newAlerts.count
        summary.incidentRevisions += result.incidents.count
        metrics.update { m in
            m.commits += 1
            m.lastCommitUnix = Date().timeIntervalSince1970
            m.incidentsChanged += result.incidents.count
            for a in result.newAlerts { m.alerts[a.ruleId, default: 0] += 1 }
        }
        for (source, committed) in perSource {
            do { try source.acknowledge(committed) } catch {
                // The positions are durable in SQLite; the group commit is retried on the next round.
                logger.warning("offset commit failed; will retry", metadata: ["source": "\(source.name)", "error": "\(error)"])
            }
        }
    }

    private func refreshStatus() {
        for s in sources { s.updateMetrics(metrics) }
        // The shared stage and the scale-out stages some sources run (the stateful rules live there).
        let evictions = sources.reduce(detection.stage.evictions) { $0 + $1.evictions }
        let late = sources.reduce(detection.stage.lateEvents) { $0 + $1.lateEvents }
        metrics.update { m in
            m.stateEvictions = evictions
            m.lateEvents = late
        }
        if let status = try? database.outboxStatus() {
            metrics.update { m in for s in status { m.outboxDepth[s.sink] = s.depth } }
        }
    }

    /// Nothing was read: wait for input without spinning (Kafka polls already blocked).
    private func idle() {
        if sources.contains(where: { $0.blocksInPoll && backoff[$0.name] == nil }) { return }
        let files = sources.filter { !$0.blocksInPoll && backoff[$0.name] == nil }
        if files.isEmpty {
            var ts = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            nanosleep(&ts, nil)
            return
        }
        let each = files.count == 1 ? options.idleWait : .milliseconds(50)
        for f in files { f.wait(timeout: each) }
    }
}
