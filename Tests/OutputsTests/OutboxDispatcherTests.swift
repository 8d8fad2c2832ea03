import EventModel
import Foundation
import Outputs
import StateStore
import Testing

@Suite struct OutboxDispatcherTests {
    let clock = ManualOutboxClock()
    let folder = OutboxTemporaryFolder()

    private func dispatcher(_ db: StateDatabase, _ sinks: [any Sink], _ config: OutboxConfiguration = OutboxConfiguration())
        throws -> OutboxDispatcher {
        // Jitter returns its ceiling, so backoff delays are exact.
        try OutboxDispatcher(database: db, sinks: sinks, configuration: config, clock: clock, jitter: { $0 })
    }

    @Test func deliversInRowOrderInBatchesOfMaxBatch() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 7)
        let sink = FakeSink(name: "a", maxBatch: 3)
        let report = try dispatcher(db, [sink]).drain(until: clock.now())
        #expect(report.isComplete && report.delivered == 7)
        #expect(sink.batches == [[1, 2, 3], [4, 5, 6], [7]])
        #expect(try db.pendingCount(sink: "a") == 0)
        // Nothing is sent twice once acknowledged, even by a new dispatcher (a restart).
        let again = FakeSink(name: "a", maxBatch: 3)
        #expect(try dispatcher(db, [again]).drain(until: clock.now()).delivered == 0)
        #expect(again.batches.isEmpty)
    }

    @Test func sinksProgressIndependently() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 2)
        let healthy = FakeSink(name: "healthy")
        let broken = FakeSink(name: "broken", script: [.fail(DeliveryError(.retry(retryAfter: nil), "503"))])
        let round = try dispatcher(db, [broken, healthy]).dispatchOnce()
        #expect(healthy.acceptedIds == ["alert-1", "alert-2"])
        #expect(round.delivered == 2 && round.failed == 2 && round.pending == 2)
        #expect(try db.pendingCount(sink: "healthy") == 0)
        #expect(try db.pendingCount(sink: "broken") == 2)
    }

    @Test func backsOffExponentiallyThenDelivers() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 1)
        let err = DeliveryError(.retry(retryAfter: nil), "connection reset")
        let sink = FakeSink(name: "s", script: [.fail(err), .fail(err), .fail(err)])
        let config = OutboxConfiguration(baseDelaySeconds: 2, maxDelaySeconds: 5)
        let report = try dispatcher(db, [sink], config).drain(until: clock.now() + 60)
        #expect(report.isComplete && report.delivered == 1 && report.attemptsFailed == 3)
        #expect(clock.sleeps == [2, 4, 5])   // 2·2^0, 2·2^1, capped at 5
        #expect(sink.batches.count == 4)
    }

    @Test func fullJitterStaysUnderTheCeiling() {
        let config = OutboxConfiguration(baseDelaySeconds: 1, maxDelaySeconds: 300)
        #expect(config.backoffCeiling(attempt: 1) == 1)
        #expect(config.backoffCeiling(attempt: 4) == 8)
        #expect(config.backoffCeiling(attempt: 40) == 300)
    }

    @Test func honoursRetryAfter() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 1)
        let sink = FakeSink(name: "s", script: [.fail(DeliveryError(.retry(retryAfter: 7), "429 Too Many Requests"))])
        let report = try dispatcher(db, [sink]).drain(until: clock.now() + 60)
        #expect(report.isComplete)
        #expect(clock.sleeps == [7])
    }

    @Test func drainStopsAtTheDeadline() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 1)
        let sink = FakeSink(name: "s", script: [.fail(DeliveryError(.retry(retryAfter: 120), "throttled"))])
        let report = try dispatcher(db, [sink]).drain(until: clock.now() + 60)
        #expect(!report.isComplete && report.remaining == 1)
        #expect(clock.sleeps.isEmpty)
        let status = try #require(try db.outboxStatus().first)
        #expect(status.depth == 1 && status.maxAttempts == 1 && status.lastError == "throttled")
    }

    @Test func permanentFailureIsDeadLetteredWithReasonAndCanBeRetried() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 3)
        let other = FakeSink(name: "other")
        let sink = FakeSink(name: "s", maxBatch: 1, script: [.accept, .fail(DeliveryError(.permanent, "400 malformed JSON"))])
        let report = try dispatcher(db, [sink, other]).drain(until: clock.now())
        #expect(report.isComplete && report.deadLettered == 1)
        #expect(sink.acceptedIds == ["alert-1", "alert-3"])
        let dead = try db.deadLetters()
        #expect(dead.map(\.rowId) == [2] && dead[0].reason == "400 malformed JSON" && dead[0].sink == "s")
        // Back to the queue for that sink only.
        #expect(try db.retryDeadLetters(sink: "s") == 1)
        #expect(try db.deadLetters().isEmpty)
        _ = try dispatcher(db, [sink, other]).drain(until: clock.now())
        #expect(sink.acceptedIds == ["alert-1", "alert-3", "alert-2"])
        #expect(other.acceptedIds == ["alert-1", "alert-2", "alert-3"])
    }

    @Test func attemptCapDeadLetters() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 1)
        let err = DeliveryError(.retry(retryAfter: 1), "500")
        let sink = FakeSink(name: "s", script: Array(repeating: .fail(err), count: 10))
        let report = try dispatcher(db, [sink], OutboxConfiguration(maxAttempts: 3)).drain(until: clock.now() + 3600)
        #expect(report.isComplete && report.deadLettered == 1 && sink.batches.count == 3)
        let dead = try #require(try db.deadLetters().first)
        #expect(dead.attempts == 3)
        #expect(dead.reason.hasPrefix("gave up after 3 attempts") && dead.reason.hasSuffix(": 500"))
    }

    @Test func ageCapDeadLetters() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 1)
        let err = DeliveryError(.retry(retryAfter: 6), "503")
        let sink = FakeSink(name: "s", script: Array(repeating: .fail(err), count: 10))
        let report = try dispatcher(db, [sink], OutboxConfiguration(maxAgeSeconds: 10)).drain(until: clock.now() + 3600)
        #expect(report.deadLettered == 1)
        #expect(sink.batches.count == 3)   // at t=0, 6 and 12; the failure at t=12 is past the 10 s cap
        #expect(clock.sleeps == [6, 6])
    }

    @Test func partialSuccessResendsOnlyTheRest() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 4)
        let sink = FakeSink(name: "s", script: [.fail(DeliveryError(.retry(retryAfter: 0), "413 split", delivered: [1, 2]))])
        _ = try dispatcher(db, [sink]).drain(until: clock.now() + 10)
        #expect(sink.batches == [[1, 2, 3, 4], [3, 4]])
        #expect(sink.acceptedIds == ["alert-1", "alert-2", "alert-3", "alert-4"])
    }

    @Test func aDeferredRowWaitsWithoutBlockingOrCountingAnAttempt() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 3)
        let sink = FakeSink(name: "s", maxBatch: 1, script: [.fail(DeliveryError(.deferred, "needs alert-3 first"))])
        let d = try dispatcher(db, [sink], OutboxConfiguration(deferDelaySeconds: 5))
        let round = try d.dispatchOnce()
        #expect(round.deferred == 1 && round.failed == 0 && round.nextDueAt == clock.now())   // row 2 can go now
        let status = try #require(try db.outboxStatus().first)
        #expect(status.maxAttempts == 0 && status.lastError == "deferred: needs alert-3 first")
        let report = try d.drain(until: clock.now() + 60)
        #expect(report.isComplete && report.attemptsFailed == 0)
        #expect(sink.batches == [[1], [2], [3], [1]])                  // rows behind went first
        #expect(clock.sleeps == [5])
        #expect(try db.pendingCount(sink: "s") == 0)
    }

    @Test func aBatchCanDeliverDeferAndFailAtOnce() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 3)
        let mixed = DeliveryError(.retry(retryAfter: 30), "503 on row 3", delivered: [1], deferred: [2], deferredReason: "row 2 waits")
        let sink = FakeSink(name: "s", script: [.fail(mixed)])
        let d = try dispatcher(db, [sink], OutboxConfiguration(deferDelaySeconds: 5))
        let round = try d.dispatchOnce()
        #expect(round.delivered == 1 && round.deferred == 1 && round.failed == 1)
        #expect(round.nextDueAt == clock.now() + 5)                     // the deferred row is due first
        let lastErrors = try db.connection.query("SELECT row_id, attempts, last_error FROM outbox_attempts ORDER BY row_id") {
            "\($0.int64(0)) \($0.int(1)) \($0.string(2))"
        }
        #expect(lastErrors == ["2 0 deferred: row 2 waits", "3 1 503 on row 3"])
        #expect(try d.dispatchOnce().delivered == 0)                    // the failed row 3 is not due yet
        let report = try d.drain(until: clock.now() + 60)
        #expect(report.isComplete)
        #expect(sink.batches == [[1, 2, 3], [2], [3]])
        #expect(clock.sleeps == [5, 25])
    }

    @Test func purgeDeliveredKeepsWhatASinkStillNeeds() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 3)
        _ = try dispatcher(db, [FakeSink(name: "a")]).drain(until: clock.now())
        try db.registerSink("late")   // a sink that has delivered nothing yet
        #expect(try db.purgeDelivered(before: clock.now() + 1) == 0)
        _ = try dispatcher(db, [FakeSink(name: "late")]).drain(until: clock.now())
        #expect(try db.purgeDelivered(before: clock.now() - 1) == 0)   // too young
        #expect(try db.purgeDelivered(before: clock.now() + 1) == 3)
        #expect(try db.outboxCount == 0)
    }

    /// The dispatcher itself deletes finished rows past `keepDeliveredSeconds`, looking hourly.
    @Test func deliveredRowsAreDeletedOnceOldEnough() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 4)
        let d = try dispatcher(db, [FakeSink(name: "a")], OutboxConfiguration(keepDeliveredSeconds: 60))
        #expect(try d.drain(until: clock.now()).delivered == 4)
        clock.advance(by: 61)
        _ = try d.dispatchOnce()
        #expect(try db.outboxCount == 4, "old enough, but the last look was a minute ago")
        clock.advance(by: OutboxDispatcher.purgeInterval)
        _ = try d.dispatchOnce()
        #expect(try db.outboxCount == 0, "every sink done and older than a minute: deleted")

        let keepADay = try dispatcher(db, [FakeSink(name: "a")], OutboxConfiguration(keepDeliveredSeconds: 86_400))
        try db.appendOutbox(kind: "incident", objectId: "inc-9", revision: 1, payload: "{}")
        #expect(try keepADay.dispatchOnce().delivered == 1)
        clock.advance(by: OutboxDispatcher.purgeInterval)
        _ = try keepADay.dispatchOnce()
        #expect(try db.outboxCount == 1, "an hour old: kept")
    }

    @Test func runStopsCleanlyWhenSignalled() async throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 5)
        let sink = FakeSink(name: "s", maxBatch: 2)
        let d = try OutboxDispatcher(database: db, sinks: [sink], configuration: OutboxConfiguration(pollIntervalSeconds: 0.05))
        let task = Task { try await d.run() }
        for _ in 0..<200 where try db.pendingCount(sink: "s") > 0 { try await Task.sleep(for: .milliseconds(10)) }
        try db.appendOutbox(kind: "incident", objectId: "inc-1", revision: 1, payload: "{}")
        for _ in 0..<200 where try db.pendingCount(sink: "s") > 0 { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        try await task.value
        #expect(sink.acceptedIds == ["alert-1", "alert-2", "alert-3", "alert-4", "alert-5", "inc-1"])
    }

    @Test func duplicateSinkNamesAreRejected() throws {
        let db = try outboxDatabase(folder, clock: clock, rows: 0)
        #expect(throws: DeliveryError.self) { try dispatcher(db, [FakeSink(name: "x"), FakeSink(name: "x")]) }
    }
}
