// StateStore: Vigil's durable state in one SQLite file (`.vigil/state.db` by default).
//
// Invariants:
// - Alerts are unique by id (the `alerts` primary key): an alert is never raised twice, across restarts.
// - A source checkpoint moves forward only in the transaction that stores the alerts, incidents and
//   outbox rows its events produced (`StateDatabase.transaction`, used by `commit(batch:)`).
// - An outbox row leaves a sink's queue only after that sink accepted it, or into `dead_letter`.
// - The file and its -wal/-shm are mode 0600; secrets are never stored.
import CSQLite
import EventModel
import Foundation

/// The state database: schema, migrations and the typed stores (see the `StateDatabase+*.swift` files).
public final class StateDatabase: @unchecked Sendable {
    /// The default location, relative to the working directory.
    public static let defaultPath = ".vigil/state.db"

    public let connection: SQLiteDatabase
    public var path: String { connection.path }
    /// Wall clock (Unix seconds) for `created_at`/`updated_at` columns; tests inject a fake one.
    public let clock: @Sendable () -> Double

    /// Opens (creating when needed, with its folder) the database at `path` and brings its schema
    /// up to date. `readOnly` opens an existing database for browsing and fails if it is missing.
    public init(path: String = StateDatabase.defaultPath, readOnly: Bool = false,
                busyTimeoutMilliseconds: Int32 = 5_000,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.clock = clock
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else {
                throw SQLiteError(kind: .cantOpen, code: SQLITE_CANTOPEN, message: "no state database here",
                                  path: path, operation: "open")
            }
        } else {
            try StateDatabase.createFolder(of: path)
        }
        connection = try SQLiteDatabase(path: path, options: .init(readOnly: readOnly, create: !readOnly,
                                                                  busyTimeoutMilliseconds: busyTimeoutMilliseconds))
        try migrate(readOnly: readOnly)
    }

    /// Closes the connection, reporting a failed close.
    public func close() throws { try connection.close() }

    /// Runs `body` in one SQLite transaction: all of its writes land, or none do.
    public func transaction<T>(_ body: () throws -> T) throws -> T { try connection.transaction(body) }

    /// `SQLiteDatabase.afterCommit`.
    public func afterCommit(_ action: @escaping () -> Void) { connection.afterCommit(action) }

    static func createFolder(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw SQLiteError(kind: .cantOpen, code: SQLITE_CANTOPEN, message: "cannot create folder \(folder)",
                              path: path, operation: "create")
        }
    }

    // MARK: Schema

    /// Schema steps; `PRAGMA user_version` records how many have been applied. Append, never edit.
    static let migrations: [String] = [
        """
        CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            rule_id TEXT NOT NULL,
            rule_title TEXT NOT NULL,
            severity TEXT NOT NULL,
            time_ns INTEGER NOT NULL,
            incident_id TEXT,
            body TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE INDEX alerts_rule ON alerts(rule_id);
        CREATE INDEX alerts_incident ON alerts(incident_id);
        CREATE TABLE incidents (
            id TEXT PRIMARY KEY,
            grouping_key TEXT NOT NULL,
            window_start_ns INTEGER NOT NULL,
            window_end_ns INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            status TEXT NOT NULL,
            severity TEXT NOT NULL,
            title TEXT NOT NULL,
            first_activity_ns INTEGER NOT NULL,
            last_activity_ns INTEGER NOT NULL,
            body TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX incidents_window ON incidents(window_end_ns, window_start_ns);
        CREATE INDEX incidents_last ON incidents(last_activity_ns);
        CREATE TABLE incident_alerts (
            incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
            alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            PRIMARY KEY (incident_id, alert_id)
        );
        CREATE TABLE incident_entities (
            entity_key TEXT NOT NULL,
            incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
            PRIMARY KEY (entity_key, incident_id)
        );
        CREATE TABLE outbox (
            row_id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('alert', 'incident')),
            object_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            payload TEXT NOT NULL,
            created_at REAL NOT NULL,
            target_sink TEXT
        );
        CREATE TABLE outbox_sinks (
            sink TEXT PRIMARY KEY,
            cursor INTEGER NOT NULL DEFAULT 0,
            delivered INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL
        );
        CREATE TABLE outbox_attempts (
            sink TEXT NOT NULL,
            row_id INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            first_error_at REAL,
            last_error_at REAL,
            last_error TEXT,
            next_attempt_at REAL,
            done INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (sink, row_id)
        );
        CREATE TABLE dead_letter (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            sink TEXT NOT NULL,
            row_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            object_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            payload TEXT NOT NULL,
            reason TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            first_error_at REAL NOT NULL,
            last_error_at REAL NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE INDEX dead_letter_sink ON dead_letter(sink, id);
        CREATE TABLE checkpoints (
            source TEXT PRIMARY KEY,
            offset INTEGER,
            position BLOB,
            updated_at REAL NOT NULL
        );
        CREATE TABLE baselines (
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value BLOB NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (namespace, key)
        );
        """,
        // 2: open Sigma correlation windows (StateDatabase+Correlations.swift).
        """
        CREATE TABLE correlation_windows (
            correlation_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            definition TEXT NOT NULL,
            first_ns INTEGER NOT NULL,
            last_ns INTEGER NOT NULL,
            events INTEGER NOT NULL,
            body TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (correlation_id, group_key)
        );
        CREATE TABLE correlation_clock (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            now_ns INTEGER NOT NULL,
            fed_ns INTEGER NOT NULL,
            fed_ids TEXT NOT NULL,
            updated_at REAL NOT NULL
        );
        """,
        // 3: incident look-ups that stay cheap however many incidents a long replay leaves behind.
        // - By entity, open at a time (`openIncidentIds`, once per alert): each entity row carries its
        //   incident's window (fixed when the incident is made), so the index finds the incidents
        //   sharing an entity whose window is still open without visiting the entity's older ones.
        // - By incident (`entityKeys(ofIncident:)`, once per incident update; the entity filter of
        //   `incidents list`; cascading deletes): the primary key leads with the entity, so each of
        //   these read the whole table.
        """
        ALTER TABLE incident_entities ADD COLUMN window_start_ns INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE incident_entities ADD COLUMN window_end_ns INTEGER NOT NULL DEFAULT 0;
        UPDATE incident_entities SET
            window_start_ns = COALESCE((SELECT window_start_ns FROM incidents WHERE id = incident_id), 0),
            window_end_ns = COALESCE((SELECT window_end_ns FROM incidents WHERE id = incident_id), 0);
        CREATE INDEX incident_entities_open ON incident_entities(entity_key, window_end_ns, window_start_ns);
        CREATE INDEX incident_entities_incident ON incident_entities(incident_id);
        """,
    ]

    public static var schemaVersion: Int { migrations.count }

    private func migrate(readOnly: Bool) throws {
        let current = Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
        if current > StateDatabase.migrations.count {
            throw SQLiteError(kind: .schemaTooNew, code: 0,
                              message: "schema version \(current) is newer than this build's \(StateDatabase.migrations.count)",
                              path: path, operation: "migrate")
        }
        guard current < StateDatabase.migrations.count else { return }
        if readOnly {
            throw SQLiteError(kind: .readOnly, code: SQLITE_READONLY,
                              message: "schema version \(current) needs an upgrade, which a read-only open cannot do",
                              path: path, operation: "migrate")
        }
        for version in current..<StateDatabase.migrations.count {
            try connection.transaction {
                try connection.execute(StateDatabase.migrations[version])
                try connection.execute("PRAGMA user_version = \(version + 1)")
            }
        }
    }
}
