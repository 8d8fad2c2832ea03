/// Where a record came from: a file with line and byte offset, or a Kafka partition and offset.
/// Every error and alert carries one, so a person can open the exact spot.
public struct SourcePosition: Sendable, Hashable, Codable, CustomStringConvertible {
    /// File path, `-` for standard input, or `kafka:<topic>`.
    public var source: String
    /// 1-based line of the record's first byte (files), when known.
    public var line: Int?
    /// Byte offset of the record's first byte in the (decompressed) stream, when known.
    public var offset: Int64?
    /// Index of the record inside a `{"records":[…]}` envelope or a JSON array.
    public var recordIndex: Int?
    public var partition: Int32?
    public var kafkaOffset: Int64?
    /// Kafka/Event Hubs: when the broker enqueued the message (the message timestamp).
    public var enqueuedTime: EventTime?

    public init(source: String, line: Int? = nil, offset: Int64? = nil, recordIndex: Int? = nil,
                partition: Int32? = nil, kafkaOffset: Int64? = nil, enqueuedTime: EventTime? = nil) {
        self.source = source
        self.line = line
        self.offset = offset
        self.recordIndex = recordIndex
        self.partition = partition
        self.kafkaOffset = kafkaOffset
        self.enqueuedTime = enqueuedTime
    }

    /// `file:line` (or `file@offset`), `[record N]` appended inside envelopes; `topic[p]@offset` for Kafka.
    public var description: String {
        var s = source
        if let partition, let kafkaOffset { s += "[\(partition)]@\(kafkaOffset)" }
        if let line { s += ":\(line)" } else if let offset { s += "@\(offset)" }
        if let recordIndex { s += " [record \(recordIndex)]" }
        return s
    }
}
