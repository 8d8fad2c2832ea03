import CRdKafka
import EventModel

public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) { self.topic = topic; self.partition = partition }
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    public var description: String { "\(topic)[\(partition)]" }
    /// The checkpoint key: `kafka:<topic>/<partition>`.
    public var key: String { "kafka:\(topic)/\(partition)" }
}

/// One Kafka message (one Event Hubs event) with its metadata.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The message timestamp: the enqueued time on Event Hubs.
    public var timestamp: EventTime?
    public var key: [UInt8]?
    public var payload: [UInt8]

    public init(topic: String, partition: Int32, offset: Int64, timestamp: EventTime? = nil, key: [UInt8]? = nil, payload: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.payload = payload
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// `kafka:<topic>[partition]@offset`, with the enqueued time.
    public var position: SourcePosition {
        SourcePosition(source: "kafka:\(topic)", partition: partition, kafkaOffset: offset, enqueuedTime: timestamp)
    }

    /// The checkpoint once this message is durable: the next offset to read.
    public var checkpoint: Checkpoint { Checkpoint(key: topicPartition.key, offset: offset + 1) }

    init(_ m: rd_kafka_message_t, timestamp ms: Int64) {
        topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        partition = m.partition
        offset = m.offset
        timestamp = ms >= 0 ? EventTime(nanoseconds: ms * 1_000_000) : nil
        key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        payload = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
    }
}
