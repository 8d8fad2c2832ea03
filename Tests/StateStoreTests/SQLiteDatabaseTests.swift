import TestSupport
import Foundation
import EventModel
@testable import StateStore
import Testing

@Suite struct SQLiteDatabaseTests {
    @Test func createsFilesPrivateIncludingWALAndSHM() throws {
        let dir = TemporaryFolder()
        let path = dir.path("sub/dir/state.db")
        let db = try StateDatabase(path: path)
        try db.saveCheckpoint(Checkpoint(source: "file:a", offset: 10))   // forces -wal and -shm into being
        #expect(fileMode(path) == 0o600)
        #expect(fileMode(path + "-wal") == 0o600)
        #expect(fileMode(path + "-shm") == 0o600)
        #expect(fileMode(dir.path("sub/dir")) == 0o700)
        #expect(try db.connection.query("PRAGMA journal_mode") { $0.string(0) } == ["wal"])
        #expect(try db.connection.scalarInt("PRAGMA synchronous") == 2)   // FULL
        #expect(try db.connection.scalarInt("PRAGMA foreign_keys") == 1)
    }

    @Test func migratesOnceAndKeepsDataAcrossReopen() throws {
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        do {
            let db = try StateDatabase(path: path)
            #expect(try db.connection.scalarInt("PRAGMA user_version") == Int64(StateDatabase.schemaVersion))
            try db.saveCheckpoint(Checkpoint(source: "kafka:t:0", offset: 42, position: [1, 2, 3]))
            try db.setBaselineValue([9], namespace: "first-seen", key: "alice")
            try db.close()
        }
        let db = try StateDatabase(path: path)
        #expect(try db.checkpoint(source: "kafka:t:0") == Checkpoint(source: "kafka:t:0", offset: 42, position: [1, 2, 3]))
        #expect(try db.baselineValue(namespace: "first-seen", key: "alice") == [9])
        #expect(try db.baselineKeys(namespace: "first-seen") == ["alice"])
        #expect(try db.removeBaselineValue(namespace: "first-seen", key: "alice"))
        #expect(try db.baselineValue(namespace: "first-seen", key: "alice") == nil)
    }

    @Test func refusesNewerSchema() throws {
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        let raw = try SQLiteDatabase(path: path)
        try raw.execute("PRAGMA user_version = 999")
        try raw.close()
        let error = try #require(throws: SQLiteError.self) { try StateDatabase(path: path) }
        #expect(error.kind == .schemaTooNew)
    }

    @Test func notADatabaseIsAClearErrorNamingThePath() throws {
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        try Data(String(repeating: "this is not sqlite, just text. ", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: SQLiteError.self) { try StateDatabase(path: path) }
        #expect(error.kind == .notADatabase)
        #expect(!error.isRetriable)
        #expect(error.description.contains(path))
        #expect(error.description.contains("file is not a database"))
    }

    @Test func readOnlyOpenRejectsWritesClearly() throws {
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        try StateDatabase(path: path).close()
        let db = try StateDatabase(path: path, readOnly: true)
        let error = try #require(throws: SQLiteError.self) { try db.saveCheckpoint(Checkpoint(source: "x", offset: 1)) }
        #expect(error.kind == .readOnly)
        #expect(error.description.contains("read-only") || error.description.contains("readonly"))
        // Browsing a database that does not exist fails instead of creating one.
        let missing = try #require(throws: SQLiteError.self) { try StateDatabase(path: dir.path("none.db"), readOnly: true) }
        #expect(missing.kind == .cantOpen)
        #expect(!FileManager.default.fileExists(atPath: dir.path("none.db")))
    }

    /// `:memory:`, an empty path and SQLite URI names are refused with a remedy, and nothing is created
    /// (the file named ":memory:" that opening it used to leave in the working folder).
    @Test func aStatePathThatNamesNoFileIsRefused() throws {
        for path in [":memory:", "", "file::memory:", "file:state.db?mode=memory"] {
            let error = try #require(throws: SQLiteError.self) { try StateDatabase(path: path) }
            #expect(error.kind == .notAFile)
            #expect(error.description.contains("give a file path"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: ":memory:"))
        #expect(!FileManager.default.fileExists(atPath: "state.db") && !FileManager.default.fileExists(atPath: "file:state.db?mode=memory"))
    }

    @Test func lockedDatabaseIsRetriable() throws {
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        let holder = try StateDatabase(path: path)
        let other = try StateDatabase(path: path, busyTimeoutMilliseconds: 50)
        try holder.connection.execute("BEGIN IMMEDIATE")
        let error = try #require(throws: SQLiteError.self) { try other.saveCheckpoint(Checkpoint(source: "x", offset: 1)) }
        #expect(error.kind == .busy)
        #expect(error.isRetriable)
        #expect(error.description.contains(path))
        try holder.connection.execute("ROLLBACK")
        try other.saveCheckpoint(Checkpoint(source: "x", offset: 1))
        #expect(try holder.checkpoint(source: "x")?.offset == 1)
    }

    @Test func fullDatabaseSaysSo() throws {
        let dir = TemporaryFolder()
        let db = try SQLiteDatabase(path: dir.path("small.db"))
        try db.execute("CREATE TABLE t (b BLOB)")
        try db.execute("PRAGMA max_page_count = 8")
        let error = try #require(throws: SQLiteError.self) {
            for _ in 0..<64 { try db.run("INSERT INTO t VALUES (?)", [[UInt8](repeating: 7, count: 4096)]) }
        }
        #expect(error.kind == .full)
        #expect(error.hint?.contains("disk is full") == true)
    }

    @Test func cannotCreateUnderAFile() throws {
        let dir = TemporaryFolder()
        #expect(FileManager.default.createFile(atPath: dir.path("file"), contents: Data()))
        let error = try #require(throws: SQLiteError.self) { try StateDatabase(path: dir.path("file/state.db")) }
        #expect(error.kind == .cantOpen)
    }

    @Test func transactionRollsBackOnThrowAndNests() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.saveCheckpoint(Checkpoint(source: "a", offset: 1))
                throw Boom()
            }
        }
        #expect(try db.checkpoints().isEmpty)
        try db.transaction {
            try db.saveCheckpoint(Checkpoint(source: "outer", offset: 1))
            try? db.transaction {
                try db.saveCheckpoint(Checkpoint(source: "inner", offset: 2))
                throw Boom()
            }
        }
        #expect(try db.checkpoints().map(\.source) == ["outer"])
    }

    /// `afterCommit` waits for the outermost commit: a nested transaction's release is not one, and
    /// a rollback (of the whole, or of the savepoint the action was asked in) drops the action.
    @Test func afterCommitRunsOnceTheOutermostTransactionCommits() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        struct Boom: Error {}
        var ran: [String] = []
        db.afterCommit { ran.append("outside") }
        #expect(ran == ["outside"])
        try db.transaction {
            try db.transaction { db.afterCommit { ran.append("nested") } }
            #expect(ran == ["outside"], "released a savepoint, not committed")
            try? db.transaction {
                db.afterCommit { ran.append("rolled back savepoint") }
                throw Boom()
            }
            db.afterCommit { ran.append("outer") }
        }
        #expect(ran == ["outside", "nested", "outer"])
        #expect(throws: Boom.self) {
            try db.transaction {
                db.afterCommit { ran.append("rolled back") }
                throw Boom()
            }
        }
        try db.transaction {}
        #expect(ran == ["outside", "nested", "outer"])
    }

    @Test func uncommittedWorkOfAClosedConnectionIsInvisible() throws {
        // A process killed mid-transaction: its connection goes away without COMMIT.
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        let survivor = try StateDatabase(path: path)
        let doomed = try StateDatabase(path: path)
        try doomed.connection.execute("BEGIN IMMEDIATE")
        try doomed.appendOutbox(kind: "alert", objectId: "a1", revision: 1, payload: "{}")
        try doomed.saveCheckpoint(Checkpoint(source: "file:x", offset: 99))
        try doomed.close()
        #expect(try survivor.outboxCount == 0)
        #expect(try survivor.checkpoint(source: "file:x") == nil)
    }

    /// Open incidents sharing an entity: the window holds the time (or starts within the lookback
    /// after it), the status is not Closed, any one key matches; oldest window first, then id.
    @Test func openIncidentIdsFindsOpenIncidentsSharingAnEntityInTheirWindow() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let alice = Entity(kind: .account, value: "alice@contoso.example"), bob = Entity(kind: .account, value: "bob@contoso.example")
        let ip = Entity(kind: .ip, value: "203.0.113.10")
        func save(_ id: String, start: Int64, end: Int64, status: Incident.Status = .new, _ entities: [Entity]) throws {
            let incident = Incident(id: id, title: id, description: "", severity: .high, status: status, entities: entities,
                                    firstActivity: EventTime(nanoseconds: start), lastActivity: EventTime(nanoseconds: start))
            try db.saveIncident(IncidentRecord(incident: incident, groupingKey: id, windowStart: EventTime(nanoseconds: start),
                                               windowEnd: EventTime(nanoseconds: end)), linking: [])
        }
        try save("b-late", start: 100, end: 200, [alice])
        try save("a-early", start: 50, end: 150, [alice, ip])
        try save("c-same-start", start: 50, end: 150, [bob, ip])
        try save("closed", start: 50, end: 200, status: .closed, [alice])
        try save("ended", start: 0, end: 120, [alice])
        try save("future", start: 130, end: 300, [alice])
        try save("stranger", start: 50, end: 200, [Entity(kind: .account, value: "carol@contoso.example")])
        func ids(_ keys: [Entity], at t: Int64, lookback: Int64 = 0) throws -> [String] {
            try db.openIncidentIds(sharingAnyOf: keys.map(\.key), at: EventTime(nanoseconds: t), lookbackSeconds: lookback).map(\.id)
        }
        #expect(try ids([alice], at: 120) == ["a-early", "b-late"])
        #expect(try ids([alice, ip], at: 120) == ["a-early", "c-same-start", "b-late"])
        #expect(try ids([Entity(kind: .account, value: "ALICE@contoso.example")], at: 120) == ["a-early", "b-late"])
        #expect(try ids([bob], at: 120) == ["c-same-start"])
        #expect(try ids([alice], at: 40) == ["ended"])
        // A window starting at most the lookback (in seconds) after the time counts too.
        #expect(try ids([alice], at: 120, lookback: 0) == ["a-early", "b-late"])
        #expect(try ids([alice], at: 120, lookback: 1) == ["a-early", "b-late", "future"])
        #expect(try ids([], at: 120).isEmpty)
        #expect(try db.openIncidentIds(sharingAnyOf: [alice.key], at: EventTime(nanoseconds: 120)).map(\.windowStart.nanoseconds) == [50, 100])
    }

    /// Every per-incident and per-entity look-up of incident grouping is an index search, not a scan
    /// of a table that grows with every incident (one look-up per alert or incident update).
    @Test func incidentLookUpsSearchAnIndex() throws {
        let dir = TemporaryFolder()
        let db = try StateDatabase(path: dir.path("state.db"))
        let lookUps = [
            "SELECT entity_key FROM incident_entities WHERE incident_id = 'x'",
            "SELECT COUNT(*) FROM incident_alerts WHERE incident_id = 'x'",
            "SELECT i.id FROM incidents i WHERE i.id = 'x'",
        ]
        for sql in lookUps {
            let plan = try db.connection.query("EXPLAIN QUERY PLAN " + sql) { $0.string(3) }
            #expect(!plan.isEmpty && plan.allSatisfy { !$0.hasPrefix("SCAN") || $0.contains("json_each") }, "\(sql): \(plan)")
        }
        // The open incidents sharing an entity: only the entity's rows whose window is still open
        // are visited (not every incident it ever had), through the entity and window index.
        let open = try db.connection.query("EXPLAIN QUERY PLAN " + StateDatabase.openIncidentsSharingAnEntity, [1, "[\"a\"]", 0]) { $0.string(3) }
        #expect(open.contains { $0.contains("incident_entities_open") && $0.contains("window_end_ns>?") }, "\(open)")
        #expect(open.allSatisfy { !$0.hasPrefix("SCAN") || $0.contains("json_each") }, "\(open)")
    }

    /// A database made before schema 3 (incident entities without their incident's window) is
    /// upgraded on open: the windows are filled in from the incidents, so the open incidents it
    /// already holds are still found by entity.
    @Test func schemaThreeFillsInTheWindowsOfExistingIncidentEntities() throws {
        let dir = TemporaryFolder()
        let path = dir.path("state.db")
        do {
            let raw = try SQLiteDatabase(path: path)
            for step in StateDatabase.migrations.prefix(2) { try raw.execute(step) }
            try raw.execute("PRAGMA user_version = 2")
            try raw.execute("""
                INSERT INTO incidents (id, grouping_key, window_start_ns, window_end_ns, revision, status, severity, title,
                                       first_activity_ns, last_activity_ns, body, created_at, updated_at)
                VALUES ('old', 'k', 100, 200, 1, 'New', 'High', 't', 100, 100, '{}', 0, 0);
                INSERT INTO incident_entities (entity_key, incident_id) VALUES ('Account:alice@contoso.example', 'old');
                """)
            try raw.close()
        }
        let db = try StateDatabase(path: path)
        #expect(try db.connection.scalarInt("PRAGMA user_version") == Int64(StateDatabase.schemaVersion))
        #expect(try db.openIncidentIds(sharingAnyOf: ["Account:alice@contoso.example"], at: EventTime(nanoseconds: 150)).map(\.id) == ["old"])
        #expect(try db.openIncidentIds(sharingAnyOf: ["Account:alice@contoso.example"], at: EventTime(nanoseconds: 250)).isEmpty)
        #expect(try db.entityKeys(ofIncident: "old") == ["Account:alice@contoso.example"])
    }
}
