import Foundation
import Glibc
import Ingest
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// The real `vigil run` binary: SIGTERM and kill -9 in the middle of tailing.
extension RunTests {
    static let binary = PackageRoot.url.appendingPathComponent(".build/debug/vigil")
    static let hasBinary = FileManager.default.isExecutableFile(atPath: binary.path)

    static func spawn(config: String, log: String, logLevel: String = "warning") throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["run", "--config", config, "--log-level", logLevel]
        p.currentDirectoryURL = URL(fileURLWithPath: (config as NSString).deletingLastPathComponent)
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try h.seekToEnd()
        p.standardOutput = h
        p.standardError = h
        try p.run()
        return p
    }

    /// Waits for the exit; a process still running then is killed (so the test never hangs or
    /// reads the status of a live process) and false returned.
    static func wait(_ p: Process, seconds: Double) -> Bool {
        if RunFixture.waitUntil(seconds, { !p.isRunning }) { return true }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return false
    }

    /// Runs the service on `config` to its exit (it must stop by itself): its status and the lines
    /// it wrote to standard error.
    static func runToExit(config: String, dir: String) throws -> (status: Int32, lines: [Substring]) {
        let p = try spawn(config: config, log: "\(dir)/log")
        #expect(wait(p, seconds: 20))
        return (p.terminationStatus, try String(contentsOfFile: "\(dir)/log", encoding: .utf8).split(separator: "\n"))
    }

    /// A log line as a JSON object (nil when it is not one).
    static func object(_ line: Substring?) -> [String: Any]? {
        line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func checkpoints(_ state: String) -> [StateStore.Checkpoint] {
        guard let db = try? StateDatabase(path: state, readOnly: true) else { return [] }
        defer { try? db.close() }
        return ((try? db.checkpoints()) ?? []).filter { $0.source.hasPrefix("file:") }
    }

    /// The first `count` sample files in a tree under `dir`, and the binary running on them
    /// (standard error to `dir/log`) until it has checkpointed every one.
    static func runOnSamples(_ count: Int, in dir: String, logLevel: String = "warning") throws -> (Process, [(relative: String, lines: [String])]) {
        let files = Array(try RunFixture.sampleFiles().prefix(count))
        for f in files { try RunFixture.append(f.lines, to: "\(dir)/tree/\(f.relative)") }
        let config = "\(dir)/vigil.yaml"
        try RunFixture.config(tree: "\(dir)/tree", state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl", metrics: false)
            .write(toFile: config, atomically: true, encoding: .utf8)
        let p = try Self.spawn(config: config, log: "\(dir)/log", logLevel: logLevel)
        #expect(RunFixture.waitUntil(20) { Self.checkpoints("\(dir)/state.db").count == files.count }, "checkpoints appear")
        return (p, files)
    }

    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func sigtermFinishesTheBatchCommitsAndExitsZero() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (p, files) = try Self.runOnSamples(6, in: dir)
        p.terminate()   // SIGTERM
        #expect(Self.wait(p, seconds: 20))
        #expect(p.terminationReason == .exit)
        #expect(p.terminationStatus == 0, "log: \((try? String(contentsOfFile: "\(dir)/log", encoding: .utf8)) ?? "")")
        let saved = Self.checkpoints("\(dir)/state.db")
        #expect(saved.count == files.count)
        // Every file but the one holding the newest event is checkpointed at its end.
        let sizes = files.map { $0.lines.reduce(0) { $0 + $1.utf8.count + 1 } }
        #expect(saved.filter { c in sizes.contains(Int(c.offset ?? -1)) }.count >= files.count - 1)
    }

    /// Standard error is no terminal here, so the service logs JSON lines (`log.format: auto`):
    /// each one an object with its time, level, logger and message; the diagnostics too (the
    /// fixture's lateness 0 gives the `detection.no-assembly` warning), with their code.
    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func logsAreJSONLinesWhenStandardErrorIsNoTerminal() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (p, _) = try Self.runOnSamples(2, in: dir, logLevel: "info")
        p.terminate()
        #expect(Self.wait(p, seconds: 20))
        let lines = try String(contentsOfFile: "\(dir)/log", encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty, "the service logs at info level")
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["ts"] is String && object?["logger"] is String && object?["msg"] is String, "\(line)")
            #expect(["info", "notice", "warning", "error", "critical"].contains(object?["level"] as? String ?? ""), "\(line)")
        }
        #expect(lines.contains { $0.contains(#""logger":"vigil.diagnostics""#) && $0.contains(#""code":"detection.no-assembly""#) })
    }

    /// What stops the service at start is its last log line, as JSON like the others: here a state
    /// database whose folder cannot be made.
    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func aFatalErrorIsAJSONLogLineToo() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = "\(dir)/vigil.yaml"
        try RunFixture.config(tree: "\(dir)/tree", state: "/proc/vigil-none/state.db", jsonl: "\(dir)/out.jsonl", metrics: false)
            .write(toFile: config, atomically: true, encoding: .utf8)
        let (status, lines) = try Self.runToExit(config: config, dir: dir)
        #expect(status == 1)
        let last = Self.object(lines.last)
        #expect(last?["level"] as? String == "critical")
        #expect((last?["msg"] as? String ?? "").contains("/proc/vigil-none/state.db"), "\(lines)")
    }

    /// A config that cannot be read: its `log.format` is unknown, so the default (`auto`) decides,
    /// and standard error here is no terminal.
    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func anUnreadableConfigIsAJSONLogLineOffATerminal() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = "\(dir)/vigil.yaml"
        try "state: {path: \"\(dir)/state.db\"}\nbogus_key: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let (status, lines) = try Self.runToExit(config: config, dir: dir)
        #expect(status == 2)
        #expect(lines.count == 1, "\(lines)")
        let line = Self.object(lines.first)
        #expect(line?["level"] as? String == "critical")
        #expect((line?["msg"] as? String ?? "").contains("bogus_key: unknown key"), "\(lines)")
    }

    /// `--check` is read by people: its problems are text even where the service would log JSON
    /// lines (standard error no terminal, `log.format: auto`).
    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func checkReportsInTextOffATerminal() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/rules", withIntermediateDirectories: true)
        try """
            title: Bad modifier
            id: 11111111-2222-3333-4444-555555555555
            logsource: {product: azure, service: activitylogs}
            detection:
              sel:
                operationName|bogusmod: x
              condition: sel
            level: low
            """.write(toFile: "\(dir)/rules/bad.yml", atomically: true, encoding: .utf8)
        let config = "\(dir)/vigil.yaml"
        try "state: {path: \"\(dir)/state.db\"}\nrules: {paths: [\"\(dir)/rules\"]}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["run", "--config", config, "--check"]
        FileManager.default.createFile(atPath: "\(dir)/log", contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/log"))
        try p.run()
        #expect(Self.wait(p, seconds: 20))
        #expect(p.terminationStatus == 1)
        let text = try String(contentsOfFile: "\(dir)/log", encoding: .utf8)
        #expect(text.contains("bad.yml:6:19: error[rule.unknown-modifier]"), "\(text)")
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("{") }, "\(text)")
    }

    /// Appends the sample tree in small seeded chunks while killing the service with SIGKILL at
    /// seeded points and restarting it; at the end the JSONL sink must hold every alert of an
    /// uninterrupted run (repeats of a row are allowed: delivery is at least once), and every
    /// incident the state database holds.
    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"), arguments: [7, 42])
    func killNineAndRestartWhileTailingLosesNothing(seed: Int) throws {
        let reference = try Self.referenceAlerts()
        #expect(!reference.isEmpty)
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/tree", withIntermediateDirectories: true)
        let config = "\(dir)/vigil.yaml", jsonl = "\(dir)/out.jsonl", state = "\(dir)/state.db"
        try RunFixture.config(tree: "\(dir)/tree", state: state, jsonl: jsonl, metrics: false)
            .write(toFile: config, atomically: true, encoding: .utf8)
        var rng = SplitMix64(seed: UInt64(seed))
        var chunks: [(String, [String])] = []
        for f in try RunFixture.sampleFiles() {
            var rest = f.lines[...]
            while !rest.isEmpty {
                let n = Int.random(in: 1...12, using: &rng)
                chunks.append((f.relative, Array(rest.prefix(n))))
                rest = rest.dropFirst(n)
            }
        }
        let killAt = Set((0..<3).map { _ in Int.random(in: 5..<chunks.count, using: &rng) })
        var process = try Self.spawn(config: config, log: "\(dir)/log")
        var kills = 0
        for (i, (rel, lines)) in chunks.enumerated() {
            try RunFixture.append(lines, to: "\(dir)/tree/\(rel)")
            usleep(UInt32.random(in: 2_000...15_000, using: &rng))
            if killAt.contains(i) {
                usleep(UInt32.random(in: 0...400_000, using: &rng))
                kill(process.processIdentifier, SIGKILL)
                #expect(Self.wait(process, seconds: 10))
                #expect(process.terminationReason == .uncaughtSignal)
                kills += 1
                process = try Self.spawn(config: config, log: "\(dir)/log")
            }
        }
        let files = try RunFixture.sampleFiles()
        try RunFixture.append([RunFixture.tickLine(files.last!.lines.last!)], to: "\(dir)/tree/\(RunFixture.tickRelative)")
        let complete = RunFixture.waitUntil(60) { RunFixture.alertIds(jsonl).isSuperset(of: reference) }
        usleep(500_000)   // past startup, so SIGTERM meets the installed trap
        process.terminate()
        #expect(Self.wait(process, seconds: 20))
        #expect(process.terminationStatus == 0)
        #expect(kills == killAt.count)
        #expect(complete, "missing alerts: \(reference.subtracting(RunFixture.alertIds(jsonl)).sorted())")
        let rows = RunFixture.rows(jsonl)
        #expect(RunFixture.alertIds(jsonl) == reference, "no alert that an uninterrupted run would not raise")
        let db = try StateDatabase(path: state, readOnly: true)
        let incidents = Set(try db.incidents().map(\.id))
        try db.close()
        let deliveredIncidents = Set(rows.filter { $0.kind == "incident" }.map(\.id))
        #expect(!incidents.isEmpty)
        #expect(incidents.isSubset(of: deliveredIncidents), "every stored incident reached the sink")
        let alertRows = rows.filter { $0.kind == "alert" }
        print("kill -9 seed \(seed): \(kills) kills, \(alertRows.count) alert rows for \(reference.count) alerts (\(alertRows.count - reference.count) repeated rows), \(incidents.count) incidents")
    }
}
extension RunTests {
    /// `vigil run` (the binary) consuming from the librdkafka mock cluster that lives in this test
    /// process, killed with SIGKILL mid-way and restarted: every alert arrives (at least once).
    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func killNineAndRestartWhileConsumingLosesNothing() throws {
        let reference = try Self.referenceAlerts()
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("activity", partitions: 2)
        let producer = try KeyedRepublisher(connection: cluster.connection, topic: "activity")
        let files = try RunFixture.sampleFiles()
        var n = 0
        for f in files {
            for line in f.lines {
                try producer.produce(partition: Int32(n % 2), key: nil, value: Array(line.utf8))
                n += 1
            }
        }
        for p in Int32(0)..<2 { try producer.produce(partition: p, key: nil, value: Array(RunFixture.tickLine(files.last!.lines.last!).utf8)) }
        try producer.flush()
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let jsonl = "\(dir)/out.jsonl"
        let yaml = RunFixture.config(state: "\(dir)/state.db", jsonl: jsonl, metrics: false,
                                     source: RunFixture.kafkaSource(cluster.bootstrapServers, group: "kill-test",
                                                                    extra: "session_timeout: 6s, max_messages: 20, commit_interval: 100ms"))
            .replacingOccurrences(of: "batch_events: 50", with: "batch_events: 20")
        try yaml.write(toFile: "\(dir)/vigil.yaml", atomically: true, encoding: .utf8)
        var process = try Self.spawn(config: "\(dir)/vigil.yaml", log: "\(dir)/log")
        // Kill right after the first committed batch: mid-way through the partitions.
        _ = RunFixture.waitUntil(15) {
            guard let db = try? StateDatabase(path: "\(dir)/state.db", readOnly: true) else { return false }
            defer { try? db.close() }
            return ((try? db.checkpoints()) ?? []).contains { $0.source.hasPrefix("kafka:") }
        }
        kill(process.processIdentifier, SIGKILL)
        #expect(Self.wait(process, seconds: 10))
        let before = RunFixture.alertIds(jsonl).count
        process = try Self.spawn(config: "\(dir)/vigil.yaml", log: "\(dir)/log")
        let complete = RunFixture.waitUntil(40) { RunFixture.alertIds(jsonl).isSuperset(of: reference) }
        usleep(500_000)
        process.terminate()
        #expect(Self.wait(process, seconds: 30))
        #expect(process.terminationStatus == 0)
        #expect(complete, "missing: \(reference.subtracting(RunFixture.alertIds(jsonl)).count) of \(reference.count); log: \((try? String(contentsOfFile: "\(dir)/log", encoding: .utf8))?.suffix(1500) ?? "")")
        #expect(RunFixture.alertIds(jsonl) == reference)
        let rows = RunFixture.rows(jsonl).filter { $0.kind == "alert" }.count
        let committedBeforeKill = before
        print("kill -9 while consuming: \(committedBeforeKill) of \(reference.count) alerts delivered before the kill; \(rows) alert rows at the end")
    }
}
