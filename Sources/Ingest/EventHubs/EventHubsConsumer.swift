import CRdKafka
import Logging
import Synchronization

/// How to consume: which hubs (topics), which consumer group, and the failure budget.
public struct EventHubsConsumerConfiguration: Sendable {
    public enum StartPosition: String, Sendable { case earliest, latest }

    public var connection: KafkaConnection
    /// Kafka `group.id` (on Event Hubs: a Kafka group, not an Event Hubs consumer group).
    public var groupID: String
    /// Hubs to read at once. Defaults to the connection string's EntityPath.
    public var topics: [String]
    /// Where a partition without a committed offset starts.
    public var startPosition: StartPosition = .earliest
    /// No broker for this long: `poll` throws a clear `unreachable` error (librdkafka keeps retrying with
    /// backoff until then).
    public var connectTimeout: Duration = .seconds(60)
    /// Durable offsets are committed at most this often per consumer (Event Hubs throttles commits to
    /// 4/s per partition); a revoke or `close()` commits at once.
    public var commitInterval: Duration = .seconds(1)
    public var sessionTimeout: Duration = .seconds(30)

    public init(connection: KafkaConnection, groupID: String, topics: [String] = []) {
        self.connection = connection
        self.groupID = groupID
        if topics.isEmpty, case .connectionString(let cs) = connection.authentication, let hub = cs.entityPath {
            self.topics = [hub]
        } else {
            self.topics = topics
        }
    }
}

/// A Kafka consumer in a consumer group, for Event Hubs (or any Kafka).
///
/// Offsets: `enable.auto.commit=false`. The caller reads with `poll`, makes the results durable, then
/// calls `commit(upTo:)`; only then can an offset be committed. When a rebalance revokes partitions,
/// `onRevoke` runs first (flush what you hold and call `commit(upTo:)`), then the durable offsets of
/// those partitions are committed, then the partitions are given up. Messages of revoked partitions
/// that the current `poll` had not returned yet are dropped: the new owner reads them again. So
/// delivery is at least once; dedup downstream absorbs repeats.
///
/// Thread rules: `poll`, `commit` and `close` from one thread (the source's loop). `onRevoke` runs on
/// that thread, inside `poll` or `close`.
public final class EventHubsConsumer: @unchecked Sendable {
    public let configuration: EventHubsConsumerConfiguration
    private let handle: KafkaHandle
    private let logger: Logger
    private let onRevoke: @Sendable ([TopicPartition]) -> Void
    private let startedAt = ContinuousClock.now

    private struct State {
        var assigned: Set<TopicPartition> = []
        /// Next offset to commit per partition (last durable + 1), and what was committed.
        var durable: [TopicPartition: Int64] = [:]
        var committed: [TopicPartition: Int64] = [:]
        var revokedDuringPoll: Set<TopicPartition> = []
        var lastCommit = ContinuousClock.now
        var closed = false
    }
    private let state = Mutex(State())

    public init(configuration: EventHubsConsumerConfiguration, logger: Logger = Logger(label: "vigil.eventhubs"),
                onRevoke: @escaping @Sendable ([TopicPartition]) -> Void = { _ in }) throws(KafkaError) {
        guard !configuration.topics.isEmpty else {
            throw KafkaError(.configuration, "no topic: give the event hub names (or an EntityPath in the connection string)")
        }
        guard !configuration.groupID.isEmpty, configuration.groupID.utf8.count <= 256 else {
            throw KafkaError(.configuration, "the consumer group id must have 1 to 256 characters")
        }
        self.configuration = configuration
        self.logger = logger
        self.onRevoke = onRevoke
        self.handle = try KafkaHandle(role: .consumer, connection: configuration.connection, settings: [
            ("group.id", configuration.groupID),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", configuration.startPosition.rawValue),
            ("session.timeout.ms", "\(configuration.sessionTimeout.milliseconds)"),
            ("enable.partition.eof", "false"),
            ("reconnect.backoff.ms", "200"),
            ("reconnect.backoff.max.ms", "5000"),
        ], logger: logger)

        handle.callbacks.rebalance.withLock { [unowned self] in
            $0 = { rk, err, partitions in self.rebalance(rk, err, partitions) }
        }
        rd_kafka_poll_set_consumer(handle.rk)
        let list = rd_kafka_topic_partition_list_new(Int32(configuration.topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in configuration.topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle.rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.subscribe, err, "cannot subscribe to \(configuration.topics)") }
        logger.info("kafka consumer subscribed", metadata: [
            "topics": "\(configuration.topics.joined(separator: ","))", "group": "\(configuration.groupID)",
            "bootstrap": "\(configuration.connection.bootstrapServers)"])
    }

    deinit {
        // `self` cannot be reached from the callback any more: plain assign/unassign from here on.
        handle.callbacks.rebalance.withLock { $0 = nil }
        if !state.withLock({ $0.closed }) {
            try? commitDurable(rk: handle.rk, only: nil)
            rd_kafka_consumer_close(handle.rk)
        }
    }

    /// The partitions this consumer owns now.
    public var assignment: [TopicPartition] { state.withLock { $0.assigned.sorted() } }

    /// Up to `maxMessages` messages, waiting at most `timeout` for the first one. Never spins: each
    /// wait blocks in librdkafka. Throws `unreachable`/`authentication` once no broker answered for
    /// `connectTimeout`.
    public func poll(maxMessages: Int = 1000, timeout: Duration = .milliseconds(500)) throws(KafkaError) -> [KafkaMessage] {
        if state.withLock({ $0.closed }) { throw KafkaError(.closed, "the consumer is closed") }
        let deadline = ContinuousClock.now + timeout
        var out: [KafkaMessage] = []
        state.withLock { $0.revokedDuringPoll = [] }   // revokes outside poll (close) concern no batch
        while out.count < maxMessages {
            let remaining = deadline - ContinuousClock.now
            // Block only for the first message; then drain what is already fetched.
            let waitMs: Int32 = out.isEmpty ? Int32(clamping: max(0, min(remaining, .milliseconds(200)).milliseconds)) : 0
            let m = rd_kafka_consumer_poll(handle.rk, waitMs)
            dropRevoked(from: &out)
            guard let m else {
                if !out.isEmpty || remaining <= .zero { break }
                try handle.checkReachable(startedAt: startedAt, timeout: configuration.connectTimeout)
                continue
            }
            defer { rd_kafka_message_destroy(m) }
            let err = m.pointee.err
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                let text = handle.callbacks.scrub(m.pointee.payload.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "")
                logger.warning("kafka consume error", metadata: ["error": "\(String(cString: rd_kafka_err2str(err))) \(text)"])
                if [RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
                    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__FATAL].contains(err) {
                    throw KafkaError(.consume, err, "cannot consume \(configuration.topics)")
                }
                continue
            }
            handle.callbacks.markConnected()
            var tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            out.append(KafkaMessage(m.pointee, timestamp: rd_kafka_message_timestamp(m, &tstype)))
        }
        return out
    }

    /// A revoke ran inside the last `rd_kafka_consumer_poll`: the messages of those partitions
    /// collected before it are not ours to return any more (they were not committed; the next owner,
    /// maybe us again, reads them from the committed offset). Later messages are kept.
    private func dropRevoked(from out: inout [KafkaMessage]) {
        let revoked = state.withLock { s in
            defer { s.revokedDuringPoll = [] }
            return s.revokedDuringPoll
        }
        if !revoked.isEmpty { out.removeAll { revoked.contains($0.topicPartition) } }
    }

    /// Marks everything up to and including these messages durable, and commits when due.
    public func commit(upTo messages: [KafkaMessage], force: Bool = false) throws(KafkaError) {
        var furthest: [TopicPartition: Int64] = [:]
        for m in messages { furthest[m.topicPartition] = max(furthest[m.topicPartition] ?? -1, m.offset) }
        try commit(upTo: furthest, force: force)
    }

    /// Marks `offsets` (the last durable offset per partition) durable, and commits when due.
    /// Partitions this consumer no longer owns are ignored: their new owner re-reads them.
    public func commit(upTo offsets: [TopicPartition: Int64], force: Bool = false) throws(KafkaError) {
        let due = state.withLock { s -> Bool in
            for (tp, offset) in offsets {
                guard s.assigned.contains(tp) else { continue }
                s.durable[tp] = max(s.durable[tp] ?? 0, offset + 1)
            }
            return force || ContinuousClock.now - s.lastCommit >= configuration.commitInterval
        }
        if due { try commitDurable(rk: handle.rk, only: nil) }
    }

    /// Commits every durable offset now (before shutdown, or to measure).
    public func flushCommits() throws(KafkaError) { try commitDurable(rk: handle.rk, only: nil) }

    /// Commits, leaves the group (revoking and committing through `onRevoke`), and stops.
    public func close() throws(KafkaError) {
        guard !state.withLock({ $0.closed }) else { return }
        try commitDurable(rk: handle.rk, only: nil)
        let err = rd_kafka_consumer_close(handle.rk)
        state.withLock { $0.closed = true }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, err, "closing the consumer") }
        logger.info("kafka consumer closed", metadata: ["group": "\(configuration.groupID)"])
    }

    /// Stops fetching from every owned partition (backpressure); `resume()` continues where it stopped.
    public func pause() throws(KafkaError) { try setPaused(true) }
    public func resume() throws(KafkaError) { try setPaused(false) }

    private func setPaused(_ paused: Bool) throws(KafkaError) {
        let owned = assignment
        guard !owned.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(owned.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for tp in owned { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
        let err = paused ? rd_kafka_pause_partitions(handle.rk, list) : rd_kafka_resume_partitions(handle.rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.consume, err, paused ? "pausing" : "resuming") }
    }

    /// Messages behind the high watermark per owned partition (from the last fetch; no network call).
    public func lag() -> [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for tp in assignment {
            var low: Int64 = 0, high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(handle.rk, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let position = state.withLock { $0.durable[tp] ?? $0.committed[tp] } ?? low
            out[tp] = max(0, high - position)
        }
        return out
    }

    /// The group's committed offsets (next offset to read) for `partitions`, asked of the group
    /// coordinator without joining the group. Partitions without a commit are left out.
    public static func committedOffsets(connection: KafkaConnection, groupID: String, partitions: [TopicPartition],
                                        timeout: Duration = .seconds(10), logger: Logger = Logger(label: "vigil.eventhubs")) throws(KafkaError) -> [TopicPartition: Int64] {
        let handle = try KafkaHandle(role: .consumer, connection: connection, settings: [("group.id", groupID)], logger: logger)
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for tp in partitions { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
        let err = rd_kafka_committed(handle.rk, list, Int32(clamping: timeout.milliseconds))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, err, "reading committed offsets") }
        var out: [TopicPartition: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let p = list.pointee.elems[i]
            if p.offset >= 0 { out[TopicPartition(topic: String(cString: p.topic), partition: p.partition)] = p.offset }
        }
        return out
    }

    // MARK: - Internals (also called from the rebalance callback, on the polling thread)

    private func commitDurable(rk: OpaquePointer, only: Set<TopicPartition>?) throws(KafkaError) {
        let pending = state.withLock { s in
            s.lastCommit = ContinuousClock.now
            return s.durable.filter { tp, offset in (only?.contains(tp) ?? true) && s.committed[tp] != offset }
        }
        guard !pending.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(pending.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in pending { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset }
        let err = rd_kafka_commit(rk, list, 0)
        switch err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            state.withLock { s in for (tp, offset) in pending { s.committed[tp] = offset } }
            logger.debug("offsets committed", metadata: ["offsets": "\(pending.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" })"])
        case RD_KAFKA_RESP_ERR__NO_OFFSET:
            break
        case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID,
             RD_KAFKA_RESP_ERR__STATE:
            // The group moved on: the new owner re-reads from the last commit (at least once).
            logger.notice("offset commit lost to a rebalance", metadata: ["error": "\(String(cString: rd_kafka_err2str(err)))"])
        default:
            throw KafkaError(.commit, err, "committing offsets")
        }
    }

    private func rebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let list = (0..<Int(partitions.pointee.cnt)).map { i in
            let p = partitions.pointee.elems[i]
            return TopicPartition(topic: String(cString: p.topic), partition: p.partition)
        }
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            rd_kafka_assign(rk, partitions)
            state.withLock { s in s.assigned.formUnion(list) }
            logger.info("partitions assigned", metadata: ["partitions": "\(list.sorted().map(\.description).joined(separator: ","))"])
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            state.withLock { $0.revokedDuringPoll.formUnion(list) }
            onRevoke(list)
            do { try commitDurable(rk: rk, only: Set(list)) } catch {
                logger.warning("commit on revoke failed", metadata: ["error": "\(error)"])
            }
            state.withLock { s in
                s.assigned.subtract(list)
                for tp in list { s.durable[tp] = nil; s.committed[tp] = nil }
            }
            rd_kafka_assign(rk, nil)
            logger.info("partitions revoked", metadata: ["partitions": "\(list.sorted().map(\.description).joined(separator: ","))"])
        default:
            logger.error("rebalance error", metadata: ["error": "\(String(cString: rd_kafka_err2str(err)))"])
            state.withLock { s in s.assigned = [] }
            rd_kafka_assign(rk, nil)
        }
    }
}
