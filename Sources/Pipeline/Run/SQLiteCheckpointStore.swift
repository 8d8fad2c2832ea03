import Ingest
import StateStore

/// Ingest's `CheckpointStore` over the state database's `checkpoints` table: the key is the row's
/// `source`, the file generation is kept in `position` (decimal text).
///
/// `save` writes rows on the calling connection; `vigil run` instead puts the same rows into the
/// batch's `commit(batch:)` (`stateCheckpoint(_:)`), so positions advance in the transaction that
/// stores the alerts (STYLE.md #6).
public final class SQLiteCheckpointStore: CheckpointStore {
    let database: StateDatabase

    public init(database: StateDatabase) { self.database = database }

    public func load(_ key: String) throws -> Ingest.Checkpoint? {
        guard let row = try database.checkpoint(source: key), let offset = row.offset else { return nil }
        return Ingest.Checkpoint(key: key, offset: offset, generation: Int(String(decoding: row.position, as: UTF8.self)) ?? 0)
    }

    public func save(_ entries: [Ingest.Checkpoint]) throws {
        try database.transaction {
            for c in entries { try database.saveCheckpoint(Self.stateCheckpoint(c)) }
        }
    }

    /// The state-database row for an ingest checkpoint.
    public static func stateCheckpoint(_ c: Ingest.Checkpoint) -> StateStore.Checkpoint {
        StateStore.Checkpoint(source: c.key, offset: c.offset, position: Array(String(c.generation).utf8))
    }
}
