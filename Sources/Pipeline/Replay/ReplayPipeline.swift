// `vigil replay`: files → events → detectors → (alerts, incidents, checkpoint) in one SQLite
// transaction per batch → outbox → sinks.
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
    /// How long the final drain may wait for sinks that ask to retry later.
    public var drainSeconds: Double = 30
    public var grouping = IncidentGrouping()

    /// The files to read, in order (expanded once, here).
    public let inputs: InputSet

    /// Expands `paths`; every missing or unreadable path is in the thrown error.
    public init(paths: [String], from: EventTime? = nil, to: EventTime? = nil) throws(InputSetError) {
        self.paths = paths
        self.from = from
        self.to = to
        self.inputs = try InputSet(paths: paths, from: from, to: to)
    }

    /// Extra lateness this replay needs. An export tree keeps one hourly blob per category, and a
    /// replay reads them one after another: events of the same hour arrive up to an hour apart
    /// across blobs. With more than one category in the tree, windows wait an hour more, so the
    /// same input gives the same alerts as when tailed live (where the blobs grow side by side).
    public var exportSlackSeconds: Int64 {
        var containers = Set<String>()
        for f in inputs.files where f.exportHour != nil {
            if let c = f.path.split(separator: "/").first(where: { $0.hasPrefix("insights-") }) { containers.insert(String(c)) }
        }
        return containers.count > 1 ? 3600 : 0
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
    private let detection: DetectionStage
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
        var reader = RecordReader(options: readerOptions)
        var consumer = BatchingConsumer(pipeline: self, summary: summary)
        var decodedBefore: Int64 = 0
        for (index, file) in inputs.files.enumerated() {
            consumer.currentSource = file.path
            try reader.read(file, into: &consumer)
            // The whole file is done: its checkpoint is its decoded length.
            try consumer.flush(checkpointOffset: reader.stats.bytesDecoded - decodedBefore)
            decodedBefore = reader.stats.bytesDecoded
            progress?(ReplayProgress(filesDone: index + 1, filesTotal: inputs.files.count,
                                     bytesDone: reader.stats.bytesRead, bytesTotal: totalBytes,
                                     events: consumer.summary.events, alerts: consumer.summary.alertsRaised,
                                     elapsedSeconds: MonotonicClock.now() - started))
        }
        // Stateful detectors release what they still hold (open windows, pending operations).
        consumer.pending.append(contentsOf: detection.finish())
        try consumer.flush(checkpointOffset: nil)
        summary = consumer.summary
        summary.read = reader.stats
        summary.filesSkippedByTime = inputs.skippedByTime.count
        summary.lateEvents = detection.lateEvents
        summary.operationsAssembled = detection.operationsAssembled

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

    /// One transaction: learned baselines, the alerts and their incidents, the outbox rows and
    /// the checkpoint.
    fileprivate func commit(_ alerts: [Alert], checkpoint: Checkpoint?) throws -> CommitResult {
        for d in detection.drainDiagnostics() { onDiagnostic(d) }
        let batch = CommitBatch(alerts: alerts, checkpoints: checkpoint.map { [$0] } ?? [])
        return try database.transaction {
            try detection.saveState()
            return try database.commit(batch: batch, grouper: IncidentGrouper(configuration: options.grouping))
        }
    }

    fileprivate func report(_ d: Diagnostic) { onDiagnostic(d) }
}

/// Collects alerts between commits, and keeps the counters for the summary.
private struct BatchingConsumer: EventConsumer {
    let pipeline: ReplayPipeline
    var summary: ReplaySummary
    var pending: [Alert] = []
    var eventsSinceCommit = 0
    var currentSource = ""
    var lastOffset: Int64 = 0

    init(pipeline: ReplayPipeline, summary: ReplaySummary) {
        self.pipeline = pipeline
        self.summary = summary
    }

    mutating func event(_ event: Event) throws {
        summary.count(event)
        let before = pending.count
        pipeline.detect(event, into: &pending)
        if pending.count > before { summary.count(alerts: pending[before...]) }
        if let offset = event.position.offset { lastOffset = offset }
        eventsSinceCommit += 1
        if eventsSinceCommit >= pipeline.options.batchEvents { try flush(checkpointOffset: lastOffset) }
    }

    mutating func diagnostic(_ diagnostic: Diagnostic) {
        pipeline.report(diagnostic)
    }

    /// Commits the pending alerts with the current file's position.
    mutating func flush(checkpointOffset: Int64?) throws {
        let checkpoint = currentSource.isEmpty ? nil
            : Checkpoint(source: "replay:" + currentSource, offset: checkpointOffset ?? lastOffset)
        if pending.isEmpty && eventsSinceCommit == 0 && checkpoint == nil { return }
        let result = try pipeline.commit(pending, checkpoint: checkpoint)
        summary.record(result)
        pending.removeAll(keepingCapacity: true)
        eventsSinceCommit = 0
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
