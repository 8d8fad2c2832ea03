// Outbox: delivers what `commit(batch:)` stored to every configured sink.
//
// Invariants:
// - Each sink has its own cursor: a slow or failing sink never holds back another.
// - Per sink, rows go out in row order, at most `maxBatch` at a time; a failing batch blocks the
//   rows behind it (until delivered or dead-lettered), so a sink never sees revision 3 before 2.
// - A *deferred* row (the sink needs a later row first, e.g. a comment before its incident) does
//   not block: it waits a short, growing delay without counting an attempt while the rows behind it
//   go on, and is dead-lettered with the reason after `maxDeferSeconds`.
// - A row is marked delivered only after `deliver` returned (or named it in `DeliveryError.delivered`):
//   delivery is at-least-once, and a crash at any point redelivers at worst.
import EventModel
import Foundation
import Logging
import StateStore

/// What one pass over the sinks did.
public struct DispatchRound: Sendable, Equatable {
    public var delivered = 0
    public var failed = 0
    public var deadLettered = 0
    /// Rows a sink deferred in this pass (waiting for another row; not failures).
    public var deferred = 0
    /// Rows still waiting for some sink after the pass.
    public var pending = 0
    /// Earliest time (Unix seconds) a waiting retry becomes due, when one is waiting.
    public var nextDueAt: Double?

    public init() {}

    /// A deferral counts: the rows behind the deferred ones can go at once.
    var madeProgress: Bool { delivered > 0 || deadLettered > 0 || deferred > 0 }
}

/// The result of `drain(until:)`.
public struct DrainReport: Sendable, Equatable {
    public var delivered = 0
    public var deadLettered = 0
    public var attemptsFailed = 0
    /// Rows left when the deadline came (0 when drained).
    public var remaining = 0
    public var isComplete: Bool { remaining == 0 }
}

/// Delivers outbox rows to sinks, retrying with backoff and moving hopeless rows to `dead_letter`.
///
/// Threading: every method blocks (SQLite and the sinks' network calls); run it on its own thread.
/// `run()` (async) does that for you and stops cleanly when its task is cancelled.
public final class OutboxDispatcher: @unchecked Sendable {
    public let database: StateDatabase
    public let sinks: [any Sink]
    public let configuration: OutboxConfiguration
    private let clock: any OutboxClock
    private let jitter: @Sendable (Double) -> Double
    private let logger: Logger
    /// When finished rows are next looked for (`OutboxConfiguration.keepDeliveredSeconds`).
    private var nextPurgeAt = -Double.infinity
    public static let purgeInterval: Double = 3600

    /// `jitter(ceiling)` returns the delay to wait, in [0, ceiling] (default: uniform random).
    public init(database: StateDatabase, sinks: [any Sink], configuration: OutboxConfiguration = OutboxConfiguration(),
                clock: any OutboxClock = SystemOutboxClock(), logger: Logger = Logger(label: "vigil.outbox"),
                jitter: @escaping @Sendable (Double) -> Double = { Double.random(in: 0...max(0, $0)) }) throws {
        var names: Set<String> = []
        for sink in sinks where !names.insert(sink.name).inserted {
            throw DeliveryError(.permanent, "two sinks are named '\(sink.name)'; sink names must be unique")
        }
        self.database = database
        self.sinks = sinks
        self.configuration = configuration
        self.clock = clock
        self.jitter = jitter
        self.logger = logger
        for sink in sinks { try database.registerSink(sink.name) }
    }

    /// One attempt per sink that has rows due: delivers its next batch, or records the failure.
    public func dispatchOnce() throws -> DispatchRound {
        var round = DispatchRound()
        for sink in sinks {
            let now = clock.now()
            // Deferred rows not due yet are skipped; a failed row not due yet stops the batch there.
            let rows = try database.dueOutbox(sink: sink.name, limit: max(1, sink.maxBatch), now: now)
                .prefix { ($0.nextAttemptAt ?? now) <= now }
            guard !rows.isEmpty else { continue }
            try deliver(Array(rows), to: sink, now: now, round: &round)
        }
        for sink in sinks {
            let depth = try database.pendingCount(sink: sink.name)
            guard depth > 0 else { continue }
            round.pending += depth
            let now = clock.now()
            var due = try database.dueOutbox(sink: sink.name, limit: 1, now: now).first.map { $0.nextAttemptAt ?? now }
            if let deferred = try database.nextDeferredDue(sink: sink.name) { due = min(due ?? deferred, deferred) }
            let next = due ?? now
            round.nextDueAt = min(round.nextDueAt ?? next, next)
        }
        try purgeDeliveredIfDue()
        return round
    }

    /// Deletes rows every sink finished longer than `keepDeliveredSeconds` ago, once an hour.
    private func purgeDeliveredIfDue() throws {
        let now = clock.now()
        guard now >= nextPurgeAt else { return }
        nextPurgeAt = now + Self.purgeInterval
        let purged = try database.purgeDelivered(before: now - configuration.keepDeliveredSeconds)
        if purged > 0 {
            logger.info("deleted delivered outbox rows", metadata: ["rows": "\(purged)", "older_than_s": "\(Int(configuration.keepDeliveredSeconds))"])
        }
    }

    private func deliver(_ rows: [OutboxRecord], to sink: any Sink, now: Double, round: inout DispatchRound) throws {
        let items = rows.map {
            OutboxItem(rowId: $0.rowId, kind: OutboxItem.Kind(rawValue: $0.kind) ?? .alert, objectId: $0.objectId,
                       revision: $0.revision, payload: $0.payload)
        }
        let outcome: DeliveryError?
        do {
            try sink.deliver(items)
            outcome = nil
        } catch {
            outcome = error
        }
        guard let error = outcome else {
            try database.markDelivered(sink: sink.name, rowIds: rows.map(\.rowId))
            round.delivered += rows.count
            return
        }
        // Partial success: what the sink named as accepted is done; deferred rows wait; the rest failed.
        let accepted = Set(error.delivered)
        let acceptedRows = rows.map(\.rowId).filter(accepted.contains)
        try database.markDelivered(sink: sink.name, rowIds: acceptedRows)
        round.delivered += acceptedRows.count
        let deferredIds = Set(error.deferred)
        let rest = rows.filter { !accepted.contains($0.rowId) }
        let isDeferred = { (row: OutboxRecord) in error.disposition == .deferred || deferredIds.contains(row.rowId) }
        try deferLater(rest.filter(isDeferred), sink: sink, reason: error.deferredReason ?? error.reason, now: now, round: &round)
        let failed = rest.filter { !isDeferred($0) }
        guard !failed.isEmpty else { return }
        switch error.disposition {
        case .deferred:
            break   // unreachable: every row not delivered was deferred above
        case .permanent where failed.count > 1:
            // One rejected item must not take its batch-mates with it: sinks stop at the first
            // rejection, so the rows after it were never tried. Each failed row goes again on its
            // own; only rows the sink rejects alone are dead-lettered, each with its own reason.
            for row in failed { try deliver([row], to: sink, now: now, round: &round) }
        case .permanent:
            logger.error("delivery failed permanently; dead-lettered",
                         metadata: ["sink": "\(sink.name)", "rows": "\(failed.count)", "error": "\(error.reason)"])
            try database.deadLetter(sink: sink.name, rowIds: failed.map(\.rowId), reason: error.reason)
            round.deadLettered += failed.count
        case .retry(let retryAfter):
            try retryLater(failed, sink: sink, reason: error.reason, retryAfter: retryAfter, now: now, round: &round)
        }
    }

    private func deferLater(_ rows: [OutboxRecord], sink: any Sink, reason: String, now: Double,
                            round: inout DispatchRound) throws {
        guard !rows.isEmpty else { return }
        let waited = { (row: OutboxRecord) in now - (row.firstErrorAt ?? now) }
        let exhausted = rows.filter { waited($0) >= configuration.maxDeferSeconds || now - $0.createdAt >= configuration.maxAgeSeconds }
        for row in exhausted {
            let why = "still not deliverable after waiting \(Int(waited(row))) s (limit: \(Int(configuration.maxDeferSeconds)) s "
                + "deferred, \(Int(configuration.maxAgeSeconds)) s in the outbox): \(reason)"
            logger.error("deferred delivery gave up; dead-lettered",
                         metadata: ["sink": "\(sink.name)", "row_id": "\(row.rowId)", "error": "\(reason)"])
            try database.deadLetter(sink: sink.name, rowIds: [row.rowId], reason: why)
        }
        round.deadLettered += exhausted.count
        let gone = Set(exhausted.map(\.rowId))
        let waiting = rows.filter { !gone.contains($0.rowId) }
        for (delay, group) in Dictionary(grouping: waiting, by: { configuration.deferDelay(waited: waited($0)) }) {
            try database.deferOutbox(sink: sink.name, rowIds: group.map(\.rowId), reason: reason, until: now + delay, now: now)
        }
        round.deferred += waiting.count
        if !waiting.isEmpty {
            logger.info("delivery deferred; rows behind go on",
                        metadata: ["sink": "\(sink.name)", "rows": "\(waiting.count)", "error": "\(reason)"])
        }
    }

    private func retryLater(_ failed: [OutboxRecord], sink: any Sink, reason: String, retryAfter: Double?, now: Double,
                            round: inout DispatchRound) throws {
        let attempts = (failed.map(\.attempts).max() ?? 0) + 1
        let exhausted = failed.filter {
            $0.attempts + 1 >= configuration.maxAttempts || now - $0.createdAt >= configuration.maxAgeSeconds
        }
        let waiting = failed.filter { row in !exhausted.contains { $0.rowId == row.rowId } }
        round.failed += failed.count
        if !exhausted.isEmpty {
            try database.recordFailure(sink: sink.name, rowIds: exhausted.map(\.rowId), reason: reason, nextAttemptAt: now)
            let why = "gave up after \(attempts) attempt\(attempts == 1 ? "" : "s") (limits: \(configuration.maxAttempts) attempts, "
                + "\(Int(configuration.maxAgeSeconds)) s): \(reason)"
            logger.error("delivery retries exhausted; dead-lettered",
                         metadata: ["sink": "\(sink.name)", "rows": "\(exhausted.count)", "error": "\(reason)"])
            try database.deadLetter(sink: sink.name, rowIds: exhausted.map(\.rowId), reason: why)
            round.deadLettered += exhausted.count
        }
        guard !waiting.isEmpty else { return }
        let delay = retryAfter.map { min(max(0, $0), configuration.maxRetryAfterSeconds) }
            ?? jitter(configuration.backoffCeiling(attempt: attempts))
        let due = now + delay
        try database.recordFailure(sink: sink.name, rowIds: waiting.map(\.rowId), reason: reason, nextAttemptAt: due)
        logger.warning("delivery failed; will retry",
                       metadata: ["sink": "\(sink.name)", "rows": "\(waiting.count)", "attempts": "\(attempts)",
                                  "retry_in": "\(delay)", "error": "\(reason)"])
    }

    /// Delivers everything now (for `vigil replay`), sleeping through retries while they fall due
    /// before `deadline` (Unix seconds). Returns what it did and what is left.
    public func drain(until deadline: Double) throws -> DrainReport {
        var report = DrainReport()
        while true {
            let round = try dispatchOnce()
            report.delivered += round.delivered
            report.deadLettered += round.deadLettered
            report.attemptsFailed += round.failed
            report.remaining = round.pending
            if round.pending == 0 { return report }
            if round.madeProgress { continue }
            let now = clock.now()
            guard let due = round.nextDueAt, due <= deadline else { return report }
            clock.sleep(seconds: max(0, due - now))
        }
    }

    /// Delivers until `stop` is signalled: idle, it polls every `pollIntervalSeconds`; after a
    /// failure it sleeps until the retry is due. Returns after the batch in flight when stopped.
    public func run(until stop: OutboxStopSignal) throws {
        while !stop.isStopped {
            let round = try dispatchOnce()
            if round.madeProgress { continue }
            let now = clock.now()
            var wait = configuration.pollIntervalSeconds
            if let due = round.nextDueAt { wait = min(wait, max(0, due - now)) }
            var slept = 0.0
            while slept < wait, !stop.isStopped {
                let slice = min(0.1, wait - slept)
                clock.sleep(seconds: slice)
                slept += slice
            }
        }
    }

    /// `run(until:)` on a dedicated thread (off the cooperative pool). Cancelling the calling task
    /// stops it after the batch in flight; then the sinks are closed.
    public func run() async throws {
        let stop = OutboxStopSignal()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread { [self] in
                    do {
                        try run(until: stop)
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "vigil-outbox"
                thread.start()
            }
        } onCancel: {
            stop.stop()
        }
        try closeSinks()
    }

    /// Closes every sink, reporting the first failure after trying them all.
    public func closeSinks() throws {
        var first: (any Error)?
        for sink in sinks {
            do { try sink.close() } catch { if first == nil { first = error } }
        }
        if let first { throw first }
    }
}
