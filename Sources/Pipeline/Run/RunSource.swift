import Detection
import EventDecoding
import EventModel
import Ingest
import Logging

/// One source inside `vigil run`: reads, decodes, and says how far it may be checkpointed.
///
/// Contract: `poll` returns decoded events with the origin each came from and never blocks longer
/// than about `timeout`; `checkpoints` gives the positions that are safe to make durable (never past
/// an event detection still holds); `acknowledge` runs only after those were committed.
protocol RunSource: AnyObject {
    var name: String { get }
    var blocksInPoll: Bool { get }
    func poll(maxRecords: Int, timeout: Duration, into batch: inout RunBatch) throws
    func checkpoints(_ detection: TrackedDetection) -> [Ingest.Checkpoint]
    func acknowledge(_ committed: [Ingest.Checkpoint]) throws
    func wait(timeout: Duration)
    func updateMetrics(_ metrics: RunMetrics)
    func close() throws
    /// Sources that run detection themselves (the scale-out stages) save its state in the round's
    /// transaction (the baselines too when `baselines`); the others have none.
    func saveState(baselines: Bool) throws
    /// Whether the detection this source runs itself learns baselines.
    var learnsBaselines: Bool { get }
    /// Whether its baselines ask to be saved at the next commit (`DetectionStage.baselineSaveWanted`).
    var baselineSaveWanted: Bool { get }
    /// What the state bounds of the detection this source runs itself have let go.
    var evictions: StatefulStages.Evictions { get }
    /// Events the detection this source runs itself found behind its watermark.
    var lateEvents: Int { get }
}

extension RunSource {
    func saveState(baselines: Bool) throws {}
    var learnsBaselines: Bool { false }
    var baselineSaveWanted: Bool { false }
    var evictions: StatefulStages.Evictions { StatefulStages.Evictions() }
    var lateEvents: Int { 0 }
}

/// What one poll round read.
struct RunBatch {
    var records = 0
    var events: [(Event, Origin)] = []
    var diagnostics: [Diagnostic] = []
    /// Alerts of sources that run detection themselves (`StatefulRepublish.swift`), and how many
    /// events they detected on.
    var alerts: [Alert] = []
    var detected = 0
}

/// Keeps the furthest read position per key, and turns it into checkpoints that wait for held events.
struct Frontier {
    private(set) var read: [String: Origin] = [:]
    private var saved: [String: Origin] = [:]

    mutating func advance(_ key: String, generation: Int, to offset: Int64) {
        let o = Origin(key: key, generation: generation, resume: offset)
        if let r = read[key], r >= o { return }
        read[key] = o
    }

    /// Changed positions since the last call, each held back to the earliest event detection holds.
    mutating func checkpoints(_ detection: TrackedDetection) -> [Ingest.Checkpoint] {
        checkpoints(earliestHeld: detection.earliestHeld)
    }

    mutating func checkpoints(earliestHeld: (String) -> Origin?) -> [Ingest.Checkpoint] {
        var out: [Ingest.Checkpoint] = []
        for (key, furthest) in read {
            var safe = furthest
            if let h = earliestHeld(key), h < safe { safe = h }
            if saved[key] == safe { continue }
            saved[key] = safe
            out.append(Ingest.Checkpoint(key: key, offset: safe.resume, generation: safe.generation))
        }
        return out.sorted { $0.key < $1.key }
    }
}

extension RunBatch {
    /// What one decoded line, document or message body gave, all from `origin`.
    mutating func add(_ collector: JSONRecords.Collector, from origin: Origin) {
        for e in collector.events { events.append((e, origin)) }
        diagnostics += collector.diagnostics
    }
}

/// `type: file`.
final class FileRunSource: RunSource {
    let name: String
    let tail: TailSource
    private let normalizer = Normalizer()
    private var frontier = Frontier()
    var blocksInPoll: Bool { false }

    init(settings: FileSourceSettings, checkpoints: any CheckpointStore, logger: Logger) {
        name = settings.name
        tail = TailSource(paths: settings.paths, configuration: settings.tail, checkpoints: checkpoints, logger: logger)
    }

    func poll(maxRecords: Int, timeout: Duration, into batch: inout RunBatch) throws {
        for line in try tail.poll(maxLines: maxRecords) {
            batch.records += 1
            let origin = Origin(key: line.fingerprint.key, generation: line.generation, resume: line.offset)
            var collector = JSONRecords.Collector()
            try JSONRecords.decode(line, normalizer: normalizer, into: &collector)
            batch.add(collector, from: origin)
            frontier.advance(origin.key, generation: line.generation, to: line.offsetAfterLine)
        }
    }

    func checkpoints(_ detection: TrackedDetection) -> [Ingest.Checkpoint] { frontier.checkpoints(detection) }
    func acknowledge(_ committed: [Ingest.Checkpoint]) throws {}
    func wait(timeout: Duration) { tail.wait(timeout: timeout) }

    func updateMetrics(_ metrics: RunMetrics) {
        let files = tail.files
        metrics.update { s in
            var lag: [String: Int64] = [:]
            for f in files { lag[f.path] = f.lag }
            s.fileLag[name] = lag
        }
    }

    func close() throws {}
}

/// `type: eventhubs`: offsets are committed to the group only after the batch's transaction.
final class EventHubsRunSource: KafkaRunSource {
    let name: String
    let consumer: EventHubsConsumer
    private let records: EventHubsRecords
    private let maxMessages: Int
    private var frontier = Frontier()
    private(set) var partitions: [String: TopicPartition] = [:]
    var blocksInPoll: Bool { true }

    init(settings: EventHubsSourceSettings, logger: Logger) throws {
        name = settings.name
        maxMessages = settings.maxMessages
        records = EventHubsRecords()
        // Revokes need nothing from us: every poll round is committed before the next poll, and the
        // consumer commits the durable offsets of revoked partitions itself.
        consumer = try EventHubsConsumer(configuration: settings.consumer, logger: logger)
    }

    func poll(maxRecords: Int, timeout: Duration, into batch: inout RunBatch) throws {
        for message in try consumer.poll(maxMessages: min(maxRecords, maxMessages), timeout: timeout) {
            batch.records += 1
            let tp = message.topicPartition
            partitions[tp.key] = tp
            let origin = Origin(key: tp.key, generation: 0, resume: message.offset)
            var collector = JSONRecords.Collector()
            try JSONRecords.decode(message.payload, at: message.position, normalizer: records.normalizer, into: &collector)
            batch.add(collector, from: origin)
            frontier.advance(tp.key, generation: 0, to: message.offset + 1)
        }
    }

    func checkpoints(_ detection: TrackedDetection) -> [Ingest.Checkpoint] { frontier.checkpoints(detection) }
}

/// A source reading a Kafka consumer: offsets are committed to the group only after the round's
/// transaction; lag per owned partition.
protocol KafkaRunSource: RunSource {
    var consumer: EventHubsConsumer { get }
    /// Checkpoint key → partition, for the partitions read so far.
    var partitions: [String: TopicPartition] { get }
}

extension KafkaRunSource {
    /// Marks the committed positions durable in the consumer (it commits to the group when due).
    func acknowledge(_ committed: [Ingest.Checkpoint]) throws {
        var offsets: [TopicPartition: Int64] = [:]
        for c in committed where c.offset > 0 {
            if let tp = partitions[c.key] { offsets[tp] = c.offset - 1 }
        }
        if !offsets.isEmpty { try consumer.commit(upTo: offsets) }
    }

    func updateMetrics(_ metrics: RunMetrics) {
        let lag = consumer.lag()
        metrics.update { s in
            var out: [String: Int64] = [:]
            for (tp, n) in lag { out[tp.description] = n }
            s.partitionLag[name] = out
        }
    }

    func wait(timeout: Duration) {}
    func close() throws { try consumer.close() }
}
