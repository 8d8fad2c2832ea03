import CRdKafka
import Logging

/// Produces to one topic with a key, so every record of a key lands on one partition and is read by
/// one member of the consumer group (librdkafka's `murmur2_random`, the Java client's partitioner).
///
/// Vigil uses it for scale-out of stateful rules: events a stateful rule needs are re-published keyed
/// by the rule's group-by value, and the same group consumes that topic (docs/ingest.md).
/// At least once: `flush` returns only when every record is acknowledged, and throws otherwise; the
/// caller commits its source offsets only after a successful flush.
public final class KeyedRepublisher: @unchecked Sendable {
    public let topic: String
    private let handle: KafkaHandle
    private let logger: Logger

    public init(connection: KafkaConnection, topic: String, logger: Logger = Logger(label: "vigil.republish")) throws(KafkaError) {
        guard !topic.isEmpty else { throw KafkaError(.configuration, "the republish topic is empty") }
        self.topic = topic
        self.logger = logger
        self.handle = try KafkaHandle(role: .producer, connection: connection, settings: [
            ("partitioner", "murmur2_random"),
            ("enable.idempotence", "false"),
            ("linger.ms", "5"),
            ("compression.type", "none"),   // Event Hubs: compression is not safe on every tier
        ], logger: logger)
    }

    deinit { rd_kafka_flush(handle.rk, 5000) }

    /// Queues `value` under `key` (nil: any partition). Waits for queue space when the local queue is full.
    public func publish(key: [UInt8]?, value: [UInt8]) throws(KafkaError) {
        try produce(partition: RD_KAFKA_PARTITION_UA, key: key, value: value)
    }

    public func publish(key: String, value: [UInt8]) throws(KafkaError) {
        try publish(key: Array(key.utf8), value: value)
    }

    /// Queues `value` for a given partition (tests and tools).
    public func produce(partition: Int32, key: [UInt8]?, value: [UInt8]) throws(KafkaError) {
        while true {
            let err = value.withUnsafeBytes { v in
                if let key {
                    return key.withUnsafeBytes { k in crdk_produce(handle.rk, topic, partition, k.baseAddress, k.count, v.baseAddress, v.count, nil) }
                }
                return crdk_produce(handle.rk, topic, partition, nil, 0, v.baseAddress, v.count, nil)
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
            guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else { throw KafkaError(.produce, err, "producing to \(topic)") }
            rd_kafka_poll(handle.rk, 50)   // serve delivery reports to make room
        }
        rd_kafka_poll(handle.rk, 0)
    }

    /// Waits until every queued record is acknowledged; throws if any failed or time ran out.
    public func flush(timeout: Duration = .seconds(30)) throws(KafkaError) {
        let err = rd_kafka_flush(handle.rk, Int32(clamping: timeout.milliseconds))
        let d = handle.callbacks.deliveries.withLock { d in
            defer { d.failed = 0; d.lastError = nil }
            return d
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.produce, err, "\(rd_kafka_outq_len(handle.rk)) record(s) to \(topic) not acknowledged after \(timeout)")
        }
        if d.failed > 0 {
            throw KafkaError(.produce, code: 0, "\(d.failed) record(s) to \(topic) failed: \(d.lastError ?? "unknown")", retriable: true)
        }
    }

    /// Records acknowledged so far.
    public var acknowledged: Int { handle.callbacks.deliveries.withLock { $0.ok } }
}
