import Foundation
import TestSupport
import Testing

/// Disk and database faults under `vigil replay`: each ends in a non-zero exit and a message naming
/// the state database and what to do, never a silent loss; a later run on a healthy database then
/// delivers everything. Files are created 0600.
@Suite(.serialized, .enabled(if: Chaos.hasVigil, Chaos.noVigil), .enabled(if: Chaos.python != nil, Chaos.noPython))
final class ChaosStateTests {
    let dir: URL
    let input: URL
    let expected: (incidents: Int, alerts: Int)

    init() throws {
        dir = try Chaos.temporaryDirectory("state")
        input = dir.appendingPathComponent("input")
        expected = try Chaos.workload(into: input, groups: 20, noise: 2_000, files: 1)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    private func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    private func replay(state: String, sink: String) throws -> Chaos.Result {
        try Chaos.vigil(Chaos.replayArguments(input: input.path, state: state, sink: sink), in: dir)
    }

    /// The failure is loud (non-zero, names the file and a remedy), and a rerun on a healthy
    /// database afterwards delivers every incident.
    private func expectLoudFailure(_ r: Chaos.Result, mentioning words: [String], state: String) throws {
        #expect(r.status != 0 && !r.signalled, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains(state), "stderr does not name \(state): \(r.stderr)")
        for w in words { #expect(r.stderr.lowercased().contains(w), "stderr lacks '\(w)': \(r.stderr)") }
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), "crashed: \(r.stderr)")
    }

    @Test func stateAndSinkFilesAreCreated0600() throws {
        let r = try replay(state: path("s.db"), sink: path("out.jsonl"))
        #expect(r.status == 0, "\(r.stderr)")
        for f in ["s.db", "out.jsonl"] { #expect(Chaos.mode(path(f)) == 0o600, "\(f): \(String(Chaos.mode(path(f)), radix: 8))") }
        for f in ["s.db-wal", "s.db-shm"] where FileManager.default.fileExists(atPath: path(f)) {
            #expect(Chaos.mode(path(f)) == 0o600, "\(f)")
        }
        let got = try Chaos.SinkContents(path: path("out.jsonl"))
        #expect(got.incidents.count == expected.incidents && got.alerts.count == expected.alerts)
    }

    @Test func garbageStateFileIsRefused() throws {
        let bytes = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        FileManager.default.createFile(atPath: path("junk.db"), contents: Data(bytes))
        let r = try replay(state: path("junk.db"), sink: path("junk.jsonl"))
        try expectLoudFailure(r, mentioning: ["not a database"], state: path("junk.db"))
        #expect(FileManager.default.contents(atPath: path("junk.db")) == Data(bytes), "the file was modified")
    }

    @Test func damagedStateFileIsRefused() throws {
        #expect(try replay(state: path("d.db"), sink: path("d1.jsonl")).status == 0)
        // Keep the header page, overwrite every later page with garbage.
        var data = try #require(FileManager.default.contents(atPath: path("d.db")))
        for i in 4096..<data.count { data[i] = UInt8(truncatingIfNeeded: i &* 31) }
        try data.write(to: URL(fileURLWithPath: path("d.db")))
        try? FileManager.default.removeItem(atPath: path("d.db-wal"))
        try? FileManager.default.removeItem(atPath: path("d.db-shm"))
        let r = try replay(state: path("d.db"), sink: path("d2.jsonl"))
        try expectLoudFailure(r, mentioning: [], state: path("d.db"))
        #expect(r.stderr.contains("damaged") || r.stderr.contains("malformed") || r.stderr.contains("not a database"), "\(r.stderr)")
    }

    @Test func lockedStateDatabaseFailsAfterTheBusyTimeout() throws {
        #expect(try replay(state: path("l.db"), sink: path("l1.jsonl")).status == 0)
        // Another process holds an exclusive lock for longer than vigil's 5 s busy timeout.
        let holder = try Chaos.Child(Chaos.python!, ["-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            time.sleep(30)
            """, path("l.db")], in: dir)
        defer { holder.kill9(); _ = try? holder.wait() }
        for _ in 0..<200 {
            if (try? String(contentsOf: holder.out, encoding: .utf8))?.contains("locked") == true { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let started = Date()
        let r = try replay(state: path("l.db"), sink: path("l2.jsonl"))
        try expectLoudFailure(r, mentioning: ["lock"], state: path("l.db"))
        #expect(Date().timeIntervalSince(started) >= 4, "gave up before the busy timeout")
        holder.kill9()
        _ = try holder.wait()
        let again = try replay(state: path("l.db"), sink: path("l2.jsonl"))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Chaos.SinkContents(path: path("l2.jsonl")).incidents.count == expected.incidents)
    }

    /// A full disk, made with RLIMIT_FSIZE (SIGXFSZ ignored, so writes past the limit fail with
    /// EFBIG the way ENOSPC would): the replay stops with an error, and with room again a rerun on
    /// the same database delivers every incident.
    @Test func fullDiskStopsTheReplayLoudly() throws {
        let args = Chaos.replayArguments(input: input.path, state: path("f.db"), sink: path("f.jsonl"))
        let quoted = ([Chaos.vigil] + args).map { "'" + $0 + "'" }.joined(separator: " ")
        let r = try Chaos.run("/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 48; exec \(quoted)"], in: dir)
        #expect(r.status != 0 && !r.signalled, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains(path("f.db")) || r.stderr.contains(path("f.jsonl")), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"), "\(r.stderr)")
        let again = try replay(state: path("f.db"), sink: path("f.jsonl"))
        #expect(again.status == 0, "\(again.stderr)")
        let got = try Chaos.SinkContents(path: path("f.jsonl"))
        #expect(got.incidents.count == expected.incidents && got.alerts.count == expected.alerts)
    }

    /// The JSON-lines sink's disk fills up (a 64 KB tmpfs; root only, skipped otherwise): the replay
    /// keeps the undelivered rows queued, says so and exits non-zero after its drain; the file holds
    /// only whole lines; with room again a rerun completes it to exactly the expected incidents.
    @Test(.timeLimit(.minutes(4)))
    func fullSinkDiskKeepsRowsQueued() throws {
        let mount = path("sinkfs")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        guard geteuid() == 0, try Chaos.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount], in: dir).status == 0 else {
            print("fullSinkDiskKeepsRowsQueued: needs root and mount, skipped"); return
        }
        defer { _ = try? Chaos.run("/bin/umount", ["-l", mount], in: dir) }
        let sink = mount + "/out.jsonl"
        let r = try replay(state: path("q.db"), sink: sink)
        #expect(r.status == 1 && !r.signalled, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("not delivered") && r.stderr.contains("No space left on device"), "\(r.stderr)")
        let partial = try #require(FileManager.default.contents(atPath: sink))
        #expect(partial.isEmpty || partial.last == 0x0A, "a torn line was left behind")
        _ = try Chaos.SinkContents(path: sink)   // every line parses
        #expect(try Chaos.run("/bin/mount", ["-o", "remount,size=8m", mount], in: dir).status == 0)
        // The queued rows keep their backoff (full jitter, up to ~30 s after six failures); a rerun
        // whose drain ends before they fall due stops at once, exit 1. Rerun until it completes, as
        // an operator would.
        var again = try replay(state: path("q.db"), sink: sink)
        for _ in 0..<12 where again.status != 0 {
            Thread.sleep(forTimeInterval: 5)
            again = try replay(state: path("q.db"), sink: sink)
        }
        #expect(again.status == 0, "\(again.stderr)")
        let got = try Chaos.SinkContents(path: sink)
        #expect(got.incidents.count == expected.incidents && got.alerts.count == expected.alerts)
    }

    /// A read-only state database. Root ignores file modes, so as root the database sits on a
    /// tmpfs remounted read-only (skipped, saying so, when mounting is not permitted).
    @Test func readOnlyStateDatabaseIsRefused() throws {
        let mount = path("ro")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let asRoot = geteuid() == 0
        if asRoot {
            guard try Chaos.run("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount], in: dir).status == 0 else {
                print("readOnlyStateDatabaseIsRefused: mount not permitted, skipped"); return
            }
        }
        defer { if asRoot { _ = try? Chaos.run("/bin/umount", ["-l", mount], in: dir) } }
        let db = mount + "/s.db"
        #expect(try replay(state: db, sink: path("ro1.jsonl")).status == 0)
        if asRoot {
            #expect(try Chaos.run("/bin/mount", ["-o", "remount,ro", mount], in: dir).status == 0)
        } else {
            chmod(db, 0o400); chmod(mount, 0o500)
        }
        let r = try replay(state: db, sink: path("ro2.jsonl"))
        try expectLoudFailure(r, mentioning: [], state: db)
        // SQLite reports EROFS on open as SQLITE_CANTOPEN, so the hint is the "writable" one.
        #expect(r.stderr.contains("read-only") || r.stderr.contains("writable"), "\(r.stderr)")
    }
}
