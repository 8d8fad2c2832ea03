// `vigil replay`: files → events → detectors → (alerts, incidents, checkpoint) in one SQLite
// transaction per batch → outbox → sinks.
//
// The files are read side by side and merged by event time (`MergedInput`), so files that cover the
// same hours (one per log category, an export tree next to an Event Hubs capture) reach the stateful
// stages as if the events had arrived in time order.
//
// Invariant (STYLE.md #6): the replay checkpoint of a file moves forward only in the transaction
// that stores the alerts and incidents of the events before it, and sinks see an alert only after
// that transaction committed. A crash at any point loses nothing: rerunning the replay re-derives
// the same alert ids, which the alerts table deduplicates.
import EventDecoding
import EventModel
import FastJSON
import Incidents
import Logging
import Outputs
import StateStore

public struct ReplayOptions: Sendable {
    public var paths: [String]
    public var from: EventTime?
    public var to: EventTime?
    public var maxLineBytes: Int = ReaderOptions.defaultMaxLineBytes
    /// Events per SQLite commit. Bigger batches mean fewer fsyncs; smaller ones, less rework on restart.
    public var batchEvents: Int = 20_000
    /// Events between saves of the anomaly baselines (rounded up to whole commits; always at the
    /// end). Each save re-encodes every profile those events touched, which is most of them, so
    /// saving at every commit cost as much as learning. File checkpoints move only with these
    /// saves and record how far each file was durably processed; a replay run again (after a kill
    /// or not) reads every file from its start: the baselines skip the events they had learned
    /// (`LearnedMark`, saved with them), the alerts table absorbs the alerts raised again, and
    /// correlation windows, saved at every commit, skip what they had taken. Saves come every `baselineEvents` events or
    /// `baselineInterval`, whichever is first. (A replay reads fast: every 100,000 events was a
    /// save every second or two, each re-encoding and rewriting most of the baselines, about 5 %
    /// of what the stateful rules cost on the 1M bench.)
    public var baselineEvents: Int = BaselineSaves.defaultReplayEvents
    public var baselineInterval: Duration = .seconds(30)
    /// How long the final drain may wait for sinks that ask to retry later.
    public var drainSeconds: Double = 30
    public var grouping = IncidentGrouping()
    /// The detection stage's allowed lateness and operation timeout (nil: the lateness):
    /// checkpoints hold back their sum in event time (the buffer, then the assembler).
    public var latenessSeconds: Int64 = 900
    public var operationTimeoutSeconds: Int64?
    /// How the files are merged into one event-time ordered stream (open-file cap, look-ahead).
    public var merge = MergeOptions()

    /// The files to read (expanded once, here; read side by side, merged by event time).
    public let inputs: InputSet

    /// Expands `paths`; every missing or unreadable path is in the thrown error.
    public init(paths: [String], from: EventTime? = nil, to: EventTime? = nil) throws(InputSetError) {
        self.paths = paths
        self.from = from
        self.to = to
        self.inputs = try InputSet(paths: paths, from: from, to: to)
    }
}

/// Called with the running totals while a replay reads; the CLI draws a progress bar from it.
public typealias ReplayProgressHandler = (ReplayProgress) -> Void

public struct ReplayProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: Int64
    public var bytesTotal: Int64
    public var events: Int
    public var alerts: Int
    public var elapsedSeconds: Double
}

public final class ReplayPipeline {
    public let options: ReplayOptions
    private let database: StateDatabase
    fileprivate let detection: DetectionStage
    private let sinks: [any Sink]
    private let logger: Logger
    private let onDiagnostic: (Diagnostic) -> Void

    /// - Parameters:
    ///   - detection: runs on every event; `finish()` at the end releases what it still holds.
    ///   - onDiagnostic: every input problem, as it is found (the CLI prints and logs them).
    public init(options: ReplayOptions, database: StateDatabase, detection: DetectionStage, sinks: [any Sink],
                logger: Logger = Logger(label: "vigil.replay"), onDiagnostic: @escaping (Diagnostic) -> Void) {
        self.options = options
        self.database = database
        self.detection = detection
        self.sinks = sinks
        self.logger = logger
        self.onDiagnostic = onDiagnostic
    }

    public func run(progress: ReplayProgressHandler? = nil) throws -> ReplaySummary {
        let started = MonotonicClock.now()
        let inputs = options.inputs
        var summary = ReplaySummary()
        let totalBytes = inputs.files.reduce(Int64(0)) { $0 + (FileSize.of($1.path) ?? 0) }

        let readerOptions = ReaderOptions(maxLineBytes: options.maxLineBytes, from: options.from, to: options.to)
        var merge = options.merge
        merge.latenessSeconds = options.latenessSeconds
        var input = MergedInput(files: inputs.files, reader: readerOptions, options: merge)
        // Checkpoints hold back what the buffer and then the assembler may still hold.
        let timeout = DetectionStage.operationTimeout(latenessSeconds: options.latenessSeconds, configured: options.operationTimeoutSeconds)
        // The merge takes the released events back to the reading threads that decoded them.
        detection.retiresEvents = true
        defer { detection.retiresEvents = false }
        var consumer = BatchingConsumer(pipeline: self, summary: summary,
                                        checkpoints: ReplayCheckpoints(files: inputs.files, holdSeconds: options.latenessSeconds + timeout))
        consumer.onFileFinished = { done, bytes, events, alerts in
            progress?(ReplayProgress(filesDone: done, filesTotal: inputs.files.count, bytesDone: bytes, bytesTotal: totalBytes,
                                     events: events, alerts: alerts, elapsedSeconds: MonotonicClock.now() - started))
        }
        try input.run(into: &consumer)
        // Stateful detectors release what they still hold (open windows, pending operations).
        consumer.pending.append(contentsOf: detection.finish())
        try consumer.flush(drained: true)
        summary = consumer.summary
        summary.read = input.stats
        summary.mostFilesOpen = input.mostOpen
        summary.filesJoinedBehind = input.joinedBehind
        summary.filesSkippedByTime = inputs.skippedByTime.count
        summary.lateEvents = detection.lateEvents
        summary.operationsAssembled = detection.operationsAssembled
        summary.eventsHeld = detection.eventsBuffered
        summary.eventsHeldWithoutRecord = detection.eventsHeldWithoutRecord
        summary.mostEventsHeld = detection.mostEventsHeld
        summary.mostOperationsOpen = detection.mostOperationsOpen
        summary.evictions = detection.evictions
        summary.operationRepeatsNotHeld = detection.operationRepeatsNotHeld
        summary.baselineUpdatesAlreadyLearned = detection.baselineUpdatesAlreadyLearned

        if !sinks.isEmpty {
            let dispatcher = try OutboxDispatcher(database: database, sinks: sinks, logger: logger)
            let deadline = WallClock.now() + options.drainSeconds
            let report = try dispatcher.drain(until: deadline)
            summary.delivery = report
            try dispatcher.closeSinks()
        }
        summary.elapsedSeconds = MonotonicClock.now() - started
        return summary
    }

    fileprivate func detect(_ event: Event, into alerts: inout [Alert]) {
        alerts.append(contentsOf: detection.process(event))
    }

    /// One transaction: the alerts and their incidents, the outbox rows, the correlation windows,
    /// and, with `baselines`, the learned baselines and the checkpoints they cover.
    fileprivate func commit(_ alerts: [Alert], checkpoints: [Checkpoint], baselines: Bool) throws -> CommitResult {
        for d in detection.drainDiagnostics() { onDiagnostic(d) }
        let batch = CommitBatch(alerts: alerts, checkpoints: baselines ? checkpoints : [])
        return try database.transaction {
            try detection.saveState(baselines: baselines)
            return try database.commit(batch: batch, grouper: IncidentGrouper(configuration: options.grouping))
        }
    }

    fileprivate func report(_ d: Diagnostic) { onDiagnostic(d) }
}

/// Collects alerts between commits, and keeps the counters for the summary.
private struct BatchingConsumer: MergedConsumer {
    let pipeline: ReplayPipeline
    var summary: ReplaySummary
    var checkpoints: ReplayCheckpoints
    var pending: [Alert] = []
    var eventsSinceCommit = 0
    var saves: BaselineSaves
    var filesDone = 0
    var bytesDone: Int64 = 0
    var onFileFinished: ((_ files: Int, _ bytes: Int64, _ events: Int, _ alerts: Int) -> Void)?

    init(pipeline: ReplayPipeline, summary: ReplaySummary, checkpoints: ReplayCheckpoints) {
        self.pipeline = pipeline
        self.summary = summary
        self.checkpoints = checkpoints
        saves = BaselineSaves(learns: pipeline.detection.learnsBaselines, everyEvents: pipeline.options.baselineEvents,
                              interval: pipeline.options.baselineInterval)
    }

    mutating func event(_ event: Event, file: Int) throws {
        summary.count(event)
        let before = pending.count
        pipeline.detect(event, into: &pending)
        if pending.count > before { summary.count(alerts: pending[before...]) }
        checkpoints.fed(event, file: file)
        eventsSinceCommit += 1
        saves.count(1)
        if eventsSinceCommit >= pipeline.options.batchEvents { try flush() }
    }

    mutating func diagnostic(_ diagnostic: Diagnostic) {
        pipeline.report(diagnostic)
    }

    mutating func takeRetired() -> [Event] { pipeline.detection.takeRetired() }

    mutating func fileFinished(_ file: Int, stats: ReadStats) throws {
        checkpoints.ended(file, decodedBytes: stats.bytesDecoded)
        filesDone += 1
        bytesDone += stats.bytesRead
        onFileFinished?(filesDone, bytesDone, summary.events, summary.alertsRaised)
    }

    /// Commits the pending alerts with every file position they cover. `drained`: the detection
    /// stage holds nothing any more (after `finish()`).
    mutating func flush(drained: Bool = false) throws {
        let baselines = saves.due(final: drained, wanted: pipeline.detection.baselineSaveWanted)
        if !baselines { checkpoints.dropThrough() }
        let moved = baselines ? checkpoints.moved(drained: drained) : []
        if pending.isEmpty && eventsSinceCommit == 0 && moved.isEmpty { return }
        let result = try pipeline.commit(pending, checkpoints: moved, baselines: baselines)
        summary.record(result)
        pending.removeAll(keepingCapacity: true)
        eventsSinceCommit = 0
        if baselines { saves.saved() }
    }
}

public enum ReplayError: Error, CustomStringConvertible {
    case inputs(Int)
    public var description: String {
        switch self {
        case .inputs(let n): return "\(n) input path\(n == 1 ? "" : "s") could not be read"
        }
    }
}
