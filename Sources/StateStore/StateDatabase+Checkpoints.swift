import EventModel

/// How far a source has been read: a byte offset for files, an offset per partition for Kafka, and
/// any extra state the source needs (fingerprint, inode…) as an opaque blob.
public struct Checkpoint: Sendable, Hashable {
    /// Stable source key (`file:/path` or `kafka:topic:partition`, chosen by the source).
    public var source: String
    public var offset: Int64?
    public var position: [UInt8]

    public init(source: String, offset: Int64? = nil, position: [UInt8] = []) {
        self.source = source
        self.offset = offset
        self.position = position
    }
}

extension StateDatabase {
    /// Writes `checkpoint`. Call it inside the transaction that stores what the events produced
    /// (`commit(batch:)` does), never on its own ahead of them.
    public func saveCheckpoint(_ checkpoint: Checkpoint) throws {
        try connection.run(
            """
            INSERT INTO checkpoints (source, offset, position, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(source) DO UPDATE SET offset = excluded.offset, position = excluded.position,
                updated_at = excluded.updated_at
            """, [checkpoint.source, checkpoint.offset, checkpoint.position, clock()])
    }

    public func checkpoint(source: String) throws -> Checkpoint? {
        try connection.query("SELECT source, offset, position FROM checkpoints WHERE source = ?", [source]) {
            Checkpoint(source: $0.string(0), offset: $0.optionalInt64(1), position: $0.blob(2))
        }.first
    }

    public func checkpoints() throws -> [Checkpoint] {
        try connection.query("SELECT source, offset, position FROM checkpoints ORDER BY source") {
            Checkpoint(source: $0.string(0), offset: $0.optionalInt64(1), position: $0.blob(2))
        }
    }
}
