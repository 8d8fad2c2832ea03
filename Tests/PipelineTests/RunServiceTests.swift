import Foundation
import Ingest
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// `vigil run` in-process and as the real binary. Serialized: the tests share the two cores and
/// each runs a service with threads of its own.
@Suite(.serialized) struct RunTests {
    /// Alert ids of the stateless sample rules over the whole sample tree (plus the tick line),
    /// read in one go: what any interrupted run must end up delivering.
    /// `lateness`: the reference run's (a YAML duration); a run it is compared with must use the
    /// same, since what is late (so reaches no window and no assembly) depends on it.
    static func referenceAlerts(rulePaths: [String] = RunFixture.rulePaths, extra: [String] = [], lateness: String = "0") throws -> Set<String> {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try RunFixture.sampleFiles()
        for f in files { try RunFixture.append(f.lines, to: "\(dir)/tree/\(f.relative)") }
        if !extra.isEmpty { try RunFixture.append(extra, to: "\(dir)/tree/insights-activity-logs/extra/PT1H.json") }
        try RunFixture.append([RunFixture.tickLine(files.last!.lines.last!)], to: "\(dir)/tree/\(RunFixture.tickRelative)")
        let yaml = RunFixture.config(tree: "\(dir)/tree", state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl", metrics: false)
            .replacingOccurrences(of: "lateness: 0", with: "lateness: \(lateness)")
        let (service, database, _) = try makeService(withRules(yaml, rulePaths))
        let total = files.reduce(0) { $0 + $1.lines.count } + extra.count + 1
        let run = BackgroundRun(service)
        #expect(RunFixture.waitUntil(30) { service.metrics.eventsIn("exports") >= total })
        #expect(run.finish())
        let ids = try database.connection.query("SELECT id FROM alerts") { $0.string(0) }
        try database.close()
        return Set(ids)
    }

    @Test func tailingAnExportTreeRaisesAlertsIntoTheJSONLSink() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try RunFixture.sampleFiles()
        try FileManager.default.createDirectory(atPath: "\(dir)/tree", withIntermediateDirectories: true)
        let jsonl = "\(dir)/out.jsonl"
        let (service, database, _) = try makeService(RunFixture.config(tree: "\(dir)/tree", state: "\(dir)/state.db", jsonl: jsonl, metrics: false))
        let run = BackgroundRun(service)
        // Live: files appear and grow while the service runs.
        for f in files {
            try RunFixture.append(Array(f.lines.prefix(f.lines.count / 2)), to: "\(dir)/tree/\(f.relative)")
            usleep(20_000)
            try RunFixture.append(Array(f.lines.dropFirst(f.lines.count / 2)), to: "\(dir)/tree/\(f.relative)")
        }
        #expect(RunFixture.waitUntil(20) { !RunFixture.alertIds(jsonl).isEmpty }, "alerts reach the JSONL sink while tailing")
        try RunFixture.append([RunFixture.tickLine(files.last!.lines.last!)], to: "\(dir)/tree/\(RunFixture.tickRelative)")
        let total = files.reduce(0) { $0 + $1.lines.count } + 1
        #expect(RunFixture.waitUntil(30) { service.metrics.eventsIn("exports") >= total })
        #expect(run.finish())
        #expect(run.error == nil)
        let stored = Set(try database.connection.query("SELECT id FROM alerts") { $0.string(0) })
        #expect(!stored.isEmpty)
        #expect(RunFixture.alertIds(jsonl) == stored, "every stored alert was delivered by the shutdown drain")
        let incidents = Set(try database.incidents().map(\.id))
        let delivered = Set(RunFixture.rows(jsonl).filter { $0.kind == "incident" }.map(\.id))
        #expect(!incidents.isEmpty && incidents == delivered)
        // Every file has a checkpoint, saved with the alerts.
        let checkpoints = try database.checkpoints().filter { $0.source.hasPrefix("file:") }
        #expect(checkpoints.count == files.count + 1)
        // Correlation base-rule matches and lifecycle records (rules read assembled operations) wait
        // in event time; the tick line moves the watermark past all files but the one whose records
        // are still within the lateness of it, so at most one checkpoint is held back at its start.
        // (RunTests.checkpointsNeverPassAnEventDetectionStillHolds covers a held event.)
        #expect(checkpoints.filter { ($0.offset ?? 0) > 0 }.count >= files.count)
        #expect(service.metrics.totalAlerts == stored.count)
        try database.close()
    }

    @Test func metricsAndHealthEndpoints() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try RunFixture.sampleFiles()
        for f in files.prefix(4) { try RunFixture.append(f.lines, to: "\(dir)/tree/\(f.relative)") }
        let metrics = RunMetrics()
        let (service, database, _) = try makeService(RunFixture.config(tree: "\(dir)/tree", state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl"), metrics: metrics)
        let server = try MetricsServer(host: "127.0.0.1", port: 0, metrics: metrics, logger: .init(label: "t")) { metrics.health }
        server.start()
        defer { server.stop() }
        #expect(server.port != 0)
        let run = BackgroundRun(service)
        let lines = files.prefix(4).reduce(0) { $0 + $1.lines.count }
        #expect(RunFixture.waitUntil(20) { metrics.eventsIn("exports") >= lines })
        usleep(1_200_000)   // one status refresh (lag, outbox depth)
        let page = RunFixture.httpGet(port: server.port, path: "/metrics")
        #expect(page?.0 == 200)
        let body = page?.1 ?? ""
        for name in ["vigil_source_events_in_total{source=\"exports\"} \(lines)", "vigil_source_events_out_total",
                     "vigil_file_lag_bytes{source=\"exports\",file=", "vigil_partition_lag_messages", "vigil_alerts_total",
                     "vigil_outbox_depth{sink=\"out\"}", "vigil_delivery_errors_total", "# TYPE vigil_alerts_total counter",
                     "vigil_state_evictions_total{kind=\"events_released_early\"} 0", "vigil_state_evictions_total{kind=\"operations_forgotten\"} 0"] {
            #expect(body.contains(name), "missing \(name)")
        }
        // A record far behind the watermark is counted late.
        func late(_ page: String?) -> Int? {
            page?.split(separator: "\n").first { $0.hasPrefix("vigil_late_events_total ") }
                .flatMap { Int($0.split(separator: " ").last ?? "") }
        }
        let lateBefore = try #require(late(body))
        // (A compute delete: the mass-deletion correlation wants it, so it would enter a window.)
        let old = #"{"time":"2001-01-01T00:00:00Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/W1/COMPUTES/C1","#
            + #""operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/DELETE","category":"Administrative","resultType":"Success","#
            + #""correlationId":"old-1","caller":"mallory@contoso.example"}"#
        try RunFixture.append([old], to: "\(dir)/tree/\(files[0].relative)")
        #expect(RunFixture.waitUntil(20) { metrics.eventsIn("exports") >= lines + 1 })
        usleep(1_200_000)
        let lateAfter = late(RunFixture.httpGet(port: server.port, path: "/metrics")?.1)
        #expect(lateAfter.map { $0 > lateBefore } == true, "late events: \(lateBefore) → \(lateAfter.map(String.init) ?? "nil")")
        #expect(RunFixture.httpGet(port: server.port, path: "/healthz")?.0 == 200)
        #expect(RunFixture.httpGet(port: server.port, path: "/nope")?.0 == 404)
        #expect(run.finish())
        try database.close()
    }

    @Test func eventHubsSourceOnTheMockCluster() throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("activity", partitions: 2)
        let producer = try KeyedRepublisher(connection: cluster.connection, topic: "activity")
        let files = try RunFixture.sampleFiles()
        var messages = 0
        for f in files {
            // One message per file, Azure's envelope: {"records":[…]}.
            let body = "{\"records\":[" + f.lines.joined(separator: ",") + "]}"
            try producer.produce(partition: Int32(messages % 2), key: nil, value: Array(body.utf8))
            messages += 1
        }
        try producer.produce(partition: 0, key: nil, value: Array(RunFixture.tickLine(files.last!.lines.last!).utf8))
        try producer.produce(partition: 1, key: nil, value: Array(RunFixture.tickLine(files.last!.lines.last!).utf8))
        messages += 2
        try producer.flush()
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = RunFixture.config(state: "\(dir)/state.db", jsonl: "\(dir)/out.jsonl", metrics: false,
                                       source: RunFixture.kafkaSource(cluster.bootstrapServers, group: "run-test"))
        let (service, database, _) = try makeService(yaml)
        let run = BackgroundRun(service)
        #expect(RunFixture.waitUntil(40) { service.metrics.eventsIn("hub") >= messages }, "all messages consumed")
        #expect(run.finish())
        #expect(run.error == nil)
        let stored = Set(try database.connection.query("SELECT id FROM alerts") { $0.string(0) })
        #expect(!stored.isEmpty)
        #expect(RunFixture.alertIds("\(dir)/out.jsonl") == stored)
        // The same records through a file give the same alerts (ids come from the records).
        #expect(stored == (try Self.referenceAlerts()))
        // Offsets committed to the group only after the transaction: the group's offsets are at the end.
        let committed = try EventHubsConsumer.committedOffsets(
            connection: cluster.connection, groupID: "run-test",
            partitions: [TopicPartition(topic: "activity", partition: 0), TopicPartition(topic: "activity", partition: 1)])
        #expect(committed.values.reduce(0, +) >= Int64(messages - 2), "committed \(committed)")
        let saved = try database.checkpoints().filter { $0.source.hasPrefix("kafka:") }
        #expect(saved.count == 2)
        try database.close()
    }
}
