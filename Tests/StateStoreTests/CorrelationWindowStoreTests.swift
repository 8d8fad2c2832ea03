import Foundation
@testable import StateStore
import Testing
import TestSupport

@Suite struct CorrelationWindowStoreTests {
    static func window(_ key: String, events: Int = 2) -> StoredCorrelationWindow {
        StoredCorrelationWindow(correlationId: "corr-1", groupKey: key, definition: "d1", firstNanos: 10, lastNanos: 20,
                                events: events, body: #"{"entities":[],"entries":[]}"#)
    }

    @Test func windowsAndClockRoundTrip() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("s.db"))
        #expect(try db.correlationWindows().isEmpty && db.correlationClock() == nil)
        try db.transaction {
            try db.saveCorrelationWindow(Self.window("alice"))
            try db.saveCorrelationWindow(Self.window("bob"))
            try db.saveCorrelationWindow(Self.window("alice", events: 3))   // upsert
            try db.saveCorrelationClock(StoredCorrelationClock(nowNanos: 30, fedNanos: 20, fedIds: ["b", "a"]))
        }
        #expect(try db.correlationWindows() == [Self.window("alice", events: 3), Self.window("bob")])
        #expect(try db.correlationClock() == StoredCorrelationClock(nowNanos: 30, fedNanos: 20, fedIds: ["b", "a"]))
        #expect(try db.removeCorrelationWindow(correlationId: "corr-1", groupKey: "bob"))
        #expect(try !db.removeCorrelationWindow(correlationId: "corr-1", groupKey: "bob"))
        #expect(try db.correlationWindowCount == 1)
        try db.close()
    }

    @Test func rolledBackTransactionLeavesNoWindow() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("s.db"))
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.saveCorrelationWindow(Self.window("alice"))
                throw Boom()
            }
        }
        #expect(try db.correlationWindowCount == 0)
        try db.close()
    }

    /// A database written by the previous schema (version 1) is brought up to date in place: its
    /// rows stay, the correlation tables appear.
    @Test func migratesADatabaseOfTheFirstSchema() throws {
        let dir = TemporaryFolder()
        let path = dir.path("old.db")
        let old = try SQLiteDatabase(path: path, options: .init(readOnly: false, create: true, busyTimeoutMilliseconds: 1000))
        try old.execute(StateDatabase.migrations[0])
        try old.execute("PRAGMA user_version = 1")
        try old.run("INSERT INTO checkpoints (source, offset, position, updated_at) VALUES ('file:a', 42, x'', 0)")
        try old.close()

        let db = try StateDatabase(path: path)
        #expect(try db.connection.scalarInt("PRAGMA user_version") == Int64(StateDatabase.schemaVersion))
        #expect(StateDatabase.schemaVersion >= 2)
        #expect(try db.checkpoint(source: "file:a")?.offset == 42, "existing rows survive the migration")
        try db.saveCorrelationWindow(Self.window("alice"))
        #expect(try db.correlationWindowCount == 1)
        try db.close()
        // Read-only opens of the migrated file work (no further upgrade needed).
        let ro = try StateDatabase(path: path, readOnly: true)
        #expect(try ro.correlationWindowCount == 1)
        try ro.close()
    }
}
