// Ingest: sources that turn files and Event Hubs partitions into records with positions.
//
// Invariant for every source here: a position moves forward only when the caller says the records
// before it are durable. Sources track what they have *delivered* in memory; what survives a restart is
// only what the caller saved through a `CheckpointStore`, so a crash re-delivers (at least once),
// never skips.
import Synchronization

/// A durable source position: a file identity or a Kafka partition, and the offset after the last
/// record the caller made durable.
public struct Checkpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `file:<fingerprint hex>` for tailed files, `kafka:<topic>/<partition>` for partitions.
    public var key: String
    /// Files: byte offset just after the last durable line (of the decompressed stream for gzip).
    /// Kafka: the next offset to read (last durable offset + 1).
    public var offset: Int64
    /// Files: bumped each time the file is truncated and rewritten. Kafka: always 0.
    public var generation: Int

    public init(key: String, offset: Int64, generation: Int = 0) {
        self.key = key
        self.offset = offset
        self.generation = generation
    }

    public var description: String { "\(key)#\(generation)@\(offset)" }

    /// One checkpoint per key, the furthest one (highest generation, then offset).
    public static func latest<S: Sequence>(_ entries: S) -> [Checkpoint] where S.Element == Checkpoint {
        var best: [String: Checkpoint] = [:]
        for c in entries {
            if let b = best[c.key], (b.generation, b.offset) >= (c.generation, c.offset) { continue }
            best[c.key] = c
        }
        return best.values.sorted { $0.key < $1.key }
    }
}

/// Where sources find their positions after a restart.
///
/// Contract for every implementation: `save` is atomic for the whole array (all or none), and a
/// `load` after a successful `save` returns what was saved, also after a process restart for durable
/// stores. The SQLite store saves checkpoints in the same transaction as the outbox rows of the events
/// read; callers save only after that transaction, never before.
public protocol CheckpointStore: AnyObject {
    func load(_ key: String) throws -> Checkpoint?
    func save(_ entries: [Checkpoint]) throws
}

/// A `CheckpointStore` in memory, for tests and `vigil tail` (which keeps no state).
public final class InMemoryCheckpointStore: CheckpointStore, Sendable {
    private let entries = Mutex<[String: Checkpoint]>([:])

    public init(_ initial: [Checkpoint] = []) {
        entries.withLock { e in for c in initial { e[c.key] = c } }
    }

    public func load(_ key: String) throws -> Checkpoint? { entries.withLock { $0[key] } }

    public func save(_ entries: [Checkpoint]) throws {
        self.entries.withLock { e in for c in entries { e[c.key] = c } }
    }

    public var all: [Checkpoint] { entries.withLock { $0.values.sorted { $0.key < $1.key } } }
}
