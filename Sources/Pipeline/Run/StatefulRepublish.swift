// Scale-out of stateful rules inside `vigil run` (docs/ingest.md, "Scale-out of stateful rules"):
// an Event Hubs source with `stateful_topic:` becomes two sources in every process.
//
// - Stage 1 (`StatelessRepublishSource`, the source hubs): decode, run the stateless rules, and
//   re-publish each record keyed (`StatefulPlan.keys`) to the stateful topic.
// - Stage 2 (`KeyedStatefulSource`, the stateful topic, its own consumer group): Kafka gives each
//   partition to one member and a key always maps to one partition, so every event of a key is in
//   one process; the stateful rules of the key's family run there.
//
// Both run their own detection and hand alerts to the service's round (`RunBatch.alerts`), so they
// are committed in the round's transaction like any other source's.
//
// Invariants (at least once, end to end):
// - Stage 1's source offsets advance only after `KeyedRepublisher.flush()` returned (every
//   re-published record acknowledged) AND the round's transaction (its stateless alerts, in the
//   outbox) committed. A failed flush re-joins the group, so the records are read again.
// - Stage 2's offsets advance with the transaction holding its alerts, never past an event its
//   detections still hold.
import Detection
import EventDecoding
import EventModel
import FastJSON
import Ingest
import Logging
import StateStore

/// `stateful_topic:` of an Event Hubs source.
public struct StatefulTopicSettings: Sendable {
    /// The keyed topic (an event hub of the same namespace), e.g. `vigil-stateful`.
    public var topic: String
    /// The consumer group of stage 2 (default: the source's group + `.stateful`).
    public var groupID: String?
    public init(topic: String, groupID: String? = nil) { self.topic = topic; self.groupID = groupID }
}

enum StatefulScaleOut {
    /// The two sources that replace one Event Hubs source with a stateful topic.
    static func sources(settings: EventHubsSourceSettings, stateful: StatefulTopicSettings, rules: RuleSetup,
                        database: StateDatabase, latenessSeconds: Int64, operationTimeoutSeconds: Int64? = nil,
                        logger: Logger) throws -> [any RunSource] {
        let plan = StatefulPlan(rules)
        var keyed = settings.consumer
        keyed.topics = [stateful.topic]
        keyed.groupID = stateful.groupID ?? settings.consumer.groupID + ".stateful"
        if !plan.groups.isEmpty {
            logger.info("correlations not grouped by the caller get a key family of their own",
                        metadata: ["correlations": "\(plan.groups.map(\.correlation.id).joined(separator: ","))"])
        }
        let stage1 = try StatelessRepublishSource(settings: settings, topic: stateful.topic, plan: plan, database: database,
                                                  latenessSeconds: latenessSeconds, logger: logger)
        var stage2Logger = logger
        stage2Logger[metadataKey: "source"] = "\(settings.name).stateful"
        let stage2 = try KeyedStatefulSource(name: settings.name + ".stateful", consumer: keyed, maxMessages: settings.maxMessages,
                                             plan: plan, database: database, latenessSeconds: latenessSeconds,
                                             operationTimeoutSeconds: operationTimeoutSeconds, logger: stage2Logger)
        return [stage1, stage2]
    }
}

/// Stage 1: the source hubs, stateless rules, keyed re-publishing.
final class StatelessRepublishSource: RunSource {
    let name: String
    private let settings: EventHubsSourceSettings
    private var inner: EventHubsRunSource
    private let republisher: KeyedRepublisher
    private let plan: StatefulPlan
    private let detection: TrackedDetection
    private let logger: Logger
    private(set) var republished = 0
    var blocksInPoll: Bool { true }

    init(settings: EventHubsSourceSettings, topic: String, plan: StatefulPlan, database: StateDatabase,
         latenessSeconds: Int64, logger: Logger) throws {
        name = settings.name
        self.settings = settings
        self.plan = plan
        self.logger = logger
        inner = try EventHubsRunSource(settings: settings, logger: logger)
        republisher = try KeyedRepublisher(connection: settings.consumer.connection, topic: topic, logger: logger)
        detection = TrackedDetection(rules: plan.stateless, database: database, latenessSeconds: latenessSeconds)
    }

    func poll(maxRecords: Int, timeout: Duration, into batch: inout RunBatch) throws {
        var mine = RunBatch()
        try inner.poll(maxRecords: maxRecords, timeout: timeout, into: &mine)
        batch.records += mine.records
        batch.diagnostics += mine.diagnostics
        for (event, origin) in mine.events {
            let payload = StatefulWire.encode(event)
            for key in plan.keys(for: event) { try republisher.publish(key: key, value: payload) }
            republished += 1
            batch.alerts += detection.process(event, from: origin).filter { !plan.statelessDrops.contains($0.ruleId) }
            batch.detected += 1
        }
        batch.diagnostics += detection.drainDiagnostics()
    }

    /// Flushes the re-published records first: only acknowledged records let the offsets move.
    func checkpoints(_ shared: TrackedDetection) -> [Ingest.Checkpoint] {
        do {
            try republisher.flush()
        } catch {
            logger.error("re-publishing to the stateful topic failed; re-reading from the last commit", metadata: ["error": "\(error)"])
            rejoin()
            return []
        }
        return inner.checkpoints(detection)
    }

    /// Drops the consumer (and what it read) and joins the group again: the records after the last
    /// committed offset are read once more (their alerts dedup).
    private func rejoin() {
        try? inner.close()
        do { inner = try EventHubsRunSource(settings: settings, logger: logger) } catch {
            logger.error("cannot re-create the consumer", metadata: ["error": "\(error)"])
        }
    }

    func acknowledge(_ committed: [Ingest.Checkpoint]) throws { try inner.acknowledge(committed) }
    func wait(timeout: Duration) {}
    func updateMetrics(_ metrics: RunMetrics) { inner.updateMetrics(metrics) }
    func saveState(baselines: Bool) throws { try detection.saveState(baselines: baselines) }
    var learnsBaselines: Bool { detection.learnsBaselines }
    var baselineSaveWanted: Bool { detection.baselineSaveWanted }
    var evictions: StatefulStages.Evictions { detection.stage.evictions }
    var lateEvents: Int { detection.stage.lateEvents }

    func close() throws {
        try? republisher.flush()
        try inner.close()
    }
}

/// Stage 2: the keyed topic; each message goes to its key family's detection.
final class KeyedStatefulSource: KafkaRunSource {
    let name: String
    let consumer: EventHubsConsumer
    private let plan: StatefulPlan
    private let maxMessages: Int
    private let normalizer = Normalizer()
    private let identity: TrackedDetection
    private let groups: [TrackedDetection]
    private let logger: Logger
    private var frontier = Frontier()
    private(set) var partitions: [String: TopicPartition] = [:]
    var blocksInPoll: Bool { true }

    init(name: String, consumer configuration: EventHubsConsumerConfiguration, maxMessages: Int, plan: StatefulPlan,
         database: StateDatabase, latenessSeconds: Int64, operationTimeoutSeconds: Int64? = nil, logger: Logger) throws {
        self.name = name
        self.plan = plan
        self.maxMessages = maxMessages
        self.logger = logger
        identity = TrackedDetection(rules: plan.identity, database: database, latenessSeconds: latenessSeconds,
                                    operationTimeoutSeconds: operationTimeoutSeconds)
        groups = plan.groups.map { TrackedDetection(rules: $0.rules, database: database, latenessSeconds: latenessSeconds) }
        consumer = try EventHubsConsumer(configuration: configuration, logger: logger)
    }

    func poll(maxRecords: Int, timeout: Duration, into batch: inout RunBatch) throws {
        for message in try consumer.poll(maxMessages: min(maxRecords, maxMessages), timeout: timeout) {
            batch.records += 1
            let tp = message.topicPartition
            partitions[tp.key] = tp
            defer { frontier.advance(tp.key, generation: 0, to: message.offset + 1) }
            guard let family = plan.family(ofKey: message.key) else {
                logger.warning("stateful message with an unknown key family skipped (a correlation removed from the rules?)",
                               metadata: ["partition": "\(tp)", "offset": "\(message.offset)"])
                continue
            }
            var collector = JSONRecords.Collector()
            try StatefulWire.decode(message.payload, at: message.position, normalizer: normalizer, into: &collector)
            batch.diagnostics += collector.diagnostics
            let origin = Origin(key: tp.key, generation: 0, resume: message.offset)
            for event in collector.events {
                batch.detected += 1
                if let gi = family {
                    let id = plan.groups[gi].correlation.id
                    batch.alerts += groups[gi].process(event, from: origin).filter { $0.ruleId == id }
                } else {
                    batch.alerts += identity.process(event, from: origin).filter { plan.identityKeeps.contains($0.ruleId) }
                }
            }
        }
        batch.diagnostics += identity.drainDiagnostics() + groups.flatMap { $0.drainDiagnostics() }
    }

    /// Never past an event any family still holds.
    func checkpoints(_ shared: TrackedDetection) -> [Ingest.Checkpoint] {
        let detections = [identity] + groups
        return frontier.checkpoints { key in detections.compactMap { $0.earliestHeld(key) }.min() }
    }

    func saveState(baselines: Bool) throws {
        try identity.saveState(baselines: baselines)
        for g in groups { try g.saveState(baselines: baselines) }
    }

    var learnsBaselines: Bool { ([identity] + groups).contains(where: \.learnsBaselines) }
    var baselineSaveWanted: Bool { ([identity] + groups).contains(where: \.baselineSaveWanted) }
    var evictions: StatefulStages.Evictions { groups.reduce(identity.stage.evictions) { $0 + $1.stage.evictions } }
    var lateEvents: Int { groups.reduce(identity.stage.lateEvents) { $0 + $1.stage.lateEvents } }
}
