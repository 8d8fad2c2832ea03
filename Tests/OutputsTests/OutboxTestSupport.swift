import EventModel
import Foundation
import Outputs
import StateStore

/// A scripted sink: each `deliver` call takes the next scripted outcome (accept when the script is
/// empty) and records what it was given.
final class FakeSink: Sink, @unchecked Sendable {
    enum Outcome { case accept, fail(DeliveryError) }
    let name: String
    let maxBatch: Int
    private let lock = NSLock()
    private var script: [Outcome]
    private var calls: [[OutboxItem]] = []
    private var accepted: [OutboxItem] = []

    init(name: String, maxBatch: Int = 100, script: [Outcome] = []) {
        self.name = name
        self.maxBatch = maxBatch
        self.script = script
    }

    func deliver(_ batch: [OutboxItem]) throws(DeliveryError) {
        let outcome: Outcome = lock.withLock {
            calls.append(batch)
            return script.isEmpty ? .accept : script.removeFirst()
        }
        switch outcome {
        case .accept: lock.withLock { accepted += batch }
        case .fail(let error):
            lock.withLock { accepted += batch.filter { error.delivered.contains($0.rowId) } }
            throw error
        }
    }

    var batches: [[Int64]] { lock.withLock { calls.map { $0.map(\.rowId) } } }
    var acceptedIds: [String] { lock.withLock { accepted.map(\.objectId) } }
}

final class OutboxTemporaryFolder {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-outbox-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// A database whose clock is `clock`, with `count` alert rows in its outbox (`alert-1`…).
func outboxDatabase(_ folder: OutboxTemporaryFolder, clock: ManualOutboxClock, rows count: Int) throws -> StateDatabase {
    let db = try StateDatabase(path: folder.path("state.db"), clock: { clock.now() })
    for n in 1...max(1, count) where count > 0 {
        try db.appendOutbox(kind: "alert", objectId: "alert-\(n)", revision: 1, payload: "{\"type\":\"alert\",\"id\":\"alert-\(n)\"}")
    }
    return db
}
