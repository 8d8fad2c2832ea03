import EventModel
import Foundation
import Ingest
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// Failure handling and the checkpoint hold-back, without the binary.
extension RunTests {
    @Test func unreachableBrokerBacksOffWithAClearErrorAndNoBusyLoop() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = RunFixture.config(state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl", metrics: false,
                                       source: "{type: eventhubs, name: hub, bootstrap_servers: \"127.0.0.1:1\", hubs: [x], connect_timeout: 1s}")
        let (service, database, _) = try makeService(yaml)
        let run = BackgroundRun(service)
        #expect(RunFixture.waitUntil(10) { !service.metrics.health.ok }, "health turns degraded")
        usleep(3_000_000)
        #expect(run.finish())
        // The loop thread's own CPU (the process's would count the tests running beside this one):
        // a loop that spun instead of blocking in poll would use about all of the ~4 s.
        let cpu = run.loopCPUSeconds ?? .infinity
        let body = service.metrics.render()
        #expect(body.contains("vigil_source_up{source=\"hub\"} 0"))
        let errors = body.split(separator: "\n").first { $0.hasPrefix("vigil_source_errors_total{source=\"hub\"}") }
        let count = errors.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(count >= 1 && count <= 6, "backoff bounds the retries: \(count) in ~4 s")
        #expect(cpu < 1.0, "no busy loop: \(cpu) s of the loop thread's CPU in ~4 s")
        #expect(service.metrics.health.text.contains("hub"))
        try database.close()
    }

    @Test func checkpointsNeverPassAnEventDetectionStillHolds() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try StateDatabase(path: "\(dir)/s.db")
        // With the anomaly rules, lifecycle records wait in event time (assembled operations feed baselines).
        let rules = try RuleSetup.load(ruleDirectories: RunFixture.rulePaths + [RunFixture.detections.path + "/anomaly"],
                                       fieldMapPath: RunFixture.detections.path + "/fieldmap.yml", database: nil)
        let detection = TrackedDetection(rules: rules, database: database, latenessSeconds: 60)
        let lines = try RunFixture.sampleFiles()[0].lines
        var collector = JSONRecords.Collector()
        try JSONRecords.decode(Array(lines[0].utf8), at: SourcePosition(source: "f", offset: 0), normalizer: .init(), into: &collector)
        let event = try #require(collector.events.first)
        var frontier = Frontier()
        _ = detection.process(event, from: Origin(key: "file:a", generation: 0, resume: 0))
        frontier.advance("file:a", generation: 0, to: 500)
        // Held by the 60 s lateness: the checkpoint stays at the line's start.
        #expect(frontier.checkpoints(detection).map(\.offset) == [0])
        // An event 2 minutes later releases it: the checkpoint moves to the later line.
        var later = event
        later.id &+= 1
        later.time = EventTime(nanoseconds: (event.time?.nanoseconds ?? 0) + 120_000_000_000)
        _ = detection.process(later, from: Origin(key: "file:a", generation: 0, resume: 500))
        frontier.advance("file:a", generation: 0, to: 900)
        #expect(frontier.checkpoints(detection).map(\.offset) == [500])
        #expect(detection.heldEvents == 1)
        try database.close()
    }

    /// A Start released from the buffer still waits in the assembler for its Success: the
    /// checkpoint stays at the Start until the operation is emitted, so a restart in between
    /// re-reads the Start and assembles the operation with its request body.
    @Test func checkpointsNeverPassTheStartOfAnOpenOperation() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try StateDatabase(path: "\(dir)/s.db")
        defer { try? database.close() }
        let rules = try RuleSetup.load(ruleDirectories: RunFixture.rulePaths + [RunFixture.detections.path + "/anomaly"],
                                       fieldMapPath: RunFixture.detections.path + "/fieldmap.yml", database: nil)
        let detection = TrackedDetection(rules: rules, database: database, latenessSeconds: 900)
        func record(_ minute: Int, _ result: String, correlation: String) throws -> Event {
            let line = #"{"time":"2026-05-01T10:\#(String(format: "%02d", minute)):00Z","operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/WRITE","category":"Administrative","resultType":"\#(result)","correlationId":"\#(correlation)","caller":"alice@contoso.example","resourceId":"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w1/computes/c1"}"#
            var c = JSONRecords.Collector()
            try JSONRecords.decode(Array(line.utf8), at: SourcePosition(source: "f"), normalizer: .init(), into: &c)
            return try #require(c.events.first)
        }
        var frontier = Frontier()
        func feed(_ e: Event, at offset: Int64) {
            _ = detection.process(e, from: Origin(key: "file:a", generation: 0, resume: offset))
            frontier.advance("file:a", generation: 0, to: offset + 100)
        }
        feed(try record(0, "Start", correlation: "op-1"), at: 0)
        feed(try record(20, "Start", correlation: "op-2"), at: 100)        // watermark 10:05: op-1's Start leaves the buffer
        #expect(detection.stage.operationsAssembled == 0)
        #expect(frontier.checkpoints(detection).map(\.offset) == [0], "op-1 is open in the assembler")
        feed(try record(6, "Success", correlation: "op-1"), at: 200)
        feed(try record(40, "Start", correlation: "op-3"), at: 300)        // watermark 10:25: op-1 completes
        #expect(detection.stage.operationsAssembled == 1)
        #expect(frontier.checkpoints(detection).map(\.offset) == [100], "now op-2's Start is the earliest held")
    }

    @Test func eventsNoStatefulRuleWantsAreNeverHeld() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try StateDatabase(path: "\(dir)/s.db")
        let stateless = [try RunFixture.statelessRules(in: dir)]
        let rules = try RuleSetup.load(ruleDirectories: stateless, fieldMapPath: RunFixture.detections.path + "/fieldmap.yml", database: nil)
        let detection = TrackedDetection(rules: rules, database: database, latenessSeconds: 900)
        var frontier = Frontier()
        var offset: Int64 = 0
        for line in try RunFixture.sampleFiles()[0].lines {
            var collector = JSONRecords.Collector()
            try JSONRecords.decode(Array(line.utf8), at: SourcePosition(source: "f", offset: offset), normalizer: .init(), into: &collector)
            for e in collector.events { _ = detection.process(e, from: Origin(key: "file:a", generation: 0, resume: offset)) }
            offset += Int64(line.utf8.count + 1)
        }
        frontier.advance("file:a", generation: 0, to: offset)
        // Nothing waits for event time: the checkpoint is the end of what was read.
        #expect(frontier.checkpoints(detection).map(\.offset) == [offset])
        #expect(detection.heldEvents == 0)
        try database.close()
    }

    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func badConfigListsEveryProblemAndExitsNonZero() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "sources:\n  - type: file\n    pathz: [x]\nsinks:\n  out: {type: jsonl, pth: y}\nmetrics: {listen: nowhere}\n"
            .write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        let p = try Self.spawn(config: "\(dir)/bad.yaml", log: "\(dir)/log")
        #expect(Self.wait(p, seconds: 20))
        #expect(p.terminationStatus == 2)
        let log = try String(contentsOfFile: "\(dir)/log", encoding: .utf8)
        for expected in ["bad.yaml:3:5: error: sources[0].pathz: unknown key", "sources[0].paths: required key is missing",
                         "sinks.out.pth: unknown key", "metrics.listen"] {
            #expect(log.contains(expected), "missing \(expected) in \(log)")
        }
    }

    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"))
    func tailCommandRunsThePipelineAndResumesFromItsState() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try RunFixture.sampleFiles()
        for f in files { try RunFixture.append(f.lines, to: "\(dir)/tree/\(f.relative)") }
        try RunFixture.append([RunFixture.tickLine(files.last!.lines.last!)], to: "\(dir)/tree/\(RunFixture.tickRelative)")
        func tail() throws -> Process {
            let p = Process()
            p.executableURL = Self.binary
            var args = ["tail", "\(dir)/tree", "--state", "\(dir)/state.db", "--output", "jsonl:\(dir)/out.jsonl", "--lateness", "0"]
            for r in RunFixture.rulePaths { args += ["--rules", r] }
            p.arguments = args
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            return p
        }
        let reference = try Self.referenceAlerts()
        var p = try tail()
        #expect(RunFixture.waitUntil(30) { RunFixture.alertIds("\(dir)/out.jsonl") == reference })
        usleep(300_000)
        p.terminate()
        #expect(Self.wait(p, seconds: 20))
        #expect(p.terminationStatus == 0)
        let rowsBefore = RunFixture.rows("\(dir)/out.jsonl").count
        // A restart resumes from the saved positions: nothing is raised or delivered again.
        p = try tail()
        usleep(2_000_000)
        p.terminate()
        #expect(Self.wait(p, seconds: 20))
        #expect(RunFixture.rows("\(dir)/out.jsonl").count == rowsBefore)
    }
}
