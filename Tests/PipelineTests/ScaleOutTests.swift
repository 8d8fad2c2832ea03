import EventModel
import Foundation
import Glibc
import Ingest
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// Scale-out on librdkafka's mock cluster (hosted in this test process; the `vigil run` children
/// connect to it over TCP): two processes in one consumer group, kill -9 of one, and the keyed
/// stateful topic. Part of `RunTests` (serialized with the other service tests: each group join
/// costs ~3 s and the children share the two cores).
extension RunTests {
    /// Records of the sample tree as `{"records":[…]}` bodies of `perBody` records, as Azure
    /// Monitor sends them to Event Hubs.
    static func sampleBodies(perBody: Int = 3) throws -> [[UInt8]] {
        let lines = try RunFixture.sampleFiles().flatMap(\.lines)
        return stride(from: 0, to: lines.count, by: perBody).map { i in
            Array("{\"records\":[\(lines[i..<min(lines.count, i + perBody)].joined(separator: ","))]}".utf8)
        }
    }

    /// Six computes deleted by one caller within six minutes (after every sample event, on the
    /// samples' day, so the whole stream spans less than a day of event time): the
    /// mass-deletion correlation (group-by `vigil.caller`, ≥ 5 in 10 min) fires only if one
    /// detection sees them all.
    static let massDeletion: [String] = (0..<6).map { n in
        #"{"time":"2026-11-03T23:5\#(n):00.0000000Z","resourceId":"/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/RESOURCEGROUPS/ML-RG/PROVIDERS/MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MLW-PROD/COMPUTES/GPU-\#(n)","operationName":"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/DELETE","category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","callerIpAddress":"198.51.100.7","correlationId":"5e0d4c1e-9d45-4f6b-8f3e-00000000000\#(n)","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"mallory@contoso.com"}},"level":"Information","properties":{"statusCode":"OK"}}"#
    }

    static func tickBody() throws -> [UInt8] {
        Array(RunFixture.tickLine(try RunFixture.sampleFiles().last!.lines.last!).utf8)
    }

    /// How many messages stage 1 publishes to the stateful topic for `lines`: one per key
    /// (`StatefulPlan.keys`) of each record, with the rules the service runs.
    static func statefulMessages(_ lines: [String]) throws -> Int {
        let rules = try RuleSetup.load(ruleDirectories: RunFixture.rulePaths, fieldMapPath: RunFixture.detections.path + "/fieldmap.yml",
                                       database: nil)
        let plan = StatefulPlan(rules)
        var collector = JSONRecords.Collector()
        for line in lines {
            try JSONRecords.decode(Array(line.utf8), at: SourcePosition(source: "test"), normalizer: .init(), into: &collector)
        }
        return collector.events.reduce(0) { $0 + plan.keys(for: $1).count }
    }

    /// The stateless rules only (no correlations, no anomaly): what N processes raise without a
    /// stateful topic, whatever the partitioning.
    static var statelessRulePaths: [String] { RunFixture.rulePaths.filter { !$0.hasSuffix("/correlations") } }

    static func withRules(_ yaml: String, _ paths: [String]) -> String {
        yaml.replacingOccurrences(of: RunFixture.rulePaths.map { "\"\($0)\"" }.joined(separator: ", "),
                                  with: paths.map { "\"\($0)\"" }.joined(separator: ", "))
    }

    /// A free TCP port on 127.0.0.1 (bound and released; the child binds it right after).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in
                bind(fd, a, len) == 0 && getsockname(fd, a, &len) == 0
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The partitions a running `vigil run` owns, from its metrics endpoint (nil: not answering).
    static func ownedPartitions(port: Int, source: String = "hub") -> Set<String>? {
        guard let (code, body) = RunFixture.httpGet(port: UInt16(port), path: "/metrics"), code == 200 else { return nil }
        let prefix = "vigil_partition_lag_messages{source=\"\(source)\",partition=\""
        return Set(body.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix(prefix), let end = line.dropFirst(prefix.count).firstIndex(of: "\"") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: prefix.count)..<end])
        })
    }

    static func metric(_ name: String, port: Int, source: String) -> Int? {
        guard let (_, body) = RunFixture.httpGet(port: UInt16(port), path: "/metrics") else { return nil }
        let prefix = "\(name){source=\"\(source)\"} "
        return body.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }

    /// Two `vigil run` processes in one group share four partitions (each its own state database
    /// and JSONL sink: separate machines in production); one is killed with SIGKILL mid-stream.
    /// The survivor takes over its partitions and the union of both sinks holds every alert a
    /// single process raises over the same records (repeats allowed, nothing lost).
    @Test(.enabled(if: RunTests.hasBinary, "vigil binary not built at .build/debug/vigil"), .timeLimit(.minutes(3)))
    func twoProcessesInOneGroupSurviveAKillNine() throws {
        let stateless = Self.statelessRulePaths
        let reference = try Self.referenceAlerts(rulePaths: stateless)
        #expect(!reference.isEmpty)
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("activity", partitions: 4)
        let producer = try KeyedRepublisher(connection: cluster.connection, topic: "activity")
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ports = [Self.freePort(), Self.freePort()]
        var processes: [Process] = []
        for (i, name) in ["a", "b"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(name)", withIntermediateDirectories: true)
            let source = RunFixture.kafkaSource(cluster.bootstrapServers, group: "scale-out",
                                                extra: "session_timeout: 6s, max_messages: 20, commit_interval: 100ms")
            let yaml = Self.withRules(RunFixture.config(state: "\(dir)/\(name)/state.db", jsonl: "\(dir)/\(name)/out.jsonl",
                                                        metricsPort: ports[i], source: source), stateless)
            try yaml.write(toFile: "\(dir)/\(name)/vigil.yaml", atomically: true, encoding: .utf8)
            processes.append(try Self.spawn(config: "\(dir)/\(name)/vigil.yaml", log: "\(dir)/\(name)/log"))
        }
        defer { for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        let all: Set<String> = ["activity[0]", "activity[1]", "activity[2]", "activity[3]"]
        // Both in the group, the partitions split between them, before anything is produced.
        let split = RunFixture.waitUntil(40) {
            guard let a = Self.ownedPartitions(port: ports[0]), let b = Self.ownedPartitions(port: ports[1]) else { return false }
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b) == all
        }
        let log = { (n: String) in (try? String(contentsOfFile: "\(dir)/\(n)/log", encoding: .utf8))?.suffix(1500) ?? "" }
        #expect(split, "partitions split: a \(Self.ownedPartitions(port: ports[0]) ?? []) b \(Self.ownedPartitions(port: ports[1]) ?? []); log a: \(log("a"))")
        let ownedByA = Self.ownedPartitions(port: ports[0]) ?? []

        let bodies = try Self.sampleBodies()
        let half = bodies.count / 2
        for (n, body) in bodies[..<half].enumerated() { try producer.produce(partition: Int32(n % 4), key: nil, value: body) }
        try producer.flush()
        // Kill a once it has read and committed part of its share: mid-stream.
        let aRead = RunFixture.waitUntil(20) { (Self.metric("vigil_source_events_in_total", port: ports[0], source: "hub") ?? 0) > 0 }
        #expect(aRead)
        kill(processes[0].processIdentifier, SIGKILL)
        #expect(Self.wait(processes[0], seconds: 10))
        for (n, body) in bodies[half...].enumerated() { try producer.produce(partition: Int32((half + n) % 4), key: nil, value: body) }
        for p in Int32(0)..<4 { try producer.produce(partition: p, key: nil, value: try Self.tickBody()) }
        try producer.flush()

        // The survivor owns every partition after the session timeout, and delivers the rest.
        let tookOver = RunFixture.waitUntil(40) { Self.ownedPartitions(port: ports[1]) == all }
        #expect(tookOver, "b owns \(Self.ownedPartitions(port: ports[1]) ?? []); log b: \(log("b"))")
        let union = { RunFixture.alertIds("\(dir)/a/out.jsonl").union(RunFixture.alertIds("\(dir)/b/out.jsonl")) }
        let complete = RunFixture.waitUntil(60) { union().isSuperset(of: reference) }
        #expect(complete, "missing \(reference.subtracting(union()).count) of \(reference.count); log b: \(log("b"))")
        #expect(union() == reference, "no alert a single process would not raise")
        usleep(300_000)
        processes[1].terminate()
        #expect(Self.wait(processes[1], seconds: 30))
        #expect(processes[1].terminationStatus == 0)
        let a = RunFixture.alertIds("\(dir)/a/out.jsonl"), b = RunFixture.alertIds("\(dir)/b/out.jsonl")
        print("two processes: a owned \(ownedByA.sorted()) and delivered \(a.count) alerts before kill -9; b delivered \(b.count); \(a.intersection(b).count) in both; reference \(reference.count)")
    }

    /// One process with `stateful_topic`: records in on four partitions (a caller's records
    /// spread over all of them) → stateless rules + keyed re-publish → the keyed topic consumed →
    /// correlation alerts. Every alert of a plain single-process run arrives, correlations included.
    @Test(.timeLimit(.minutes(2)))
    func statefulTopicCarriesCorrelationsThroughTheKeyedTopic() throws {
        let reference = try Self.referenceAlerts(extra: Self.massDeletion, lateness: "24h")
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("activity", partitions: 4)
        try cluster.createTopic("vigil-stateful", partitions: 4)
        let producer = try KeyedRepublisher(connection: cluster.connection, topic: "activity")
        // One deletion per body, the bodies round-robin: the caller's six records land on four partitions.
        let bodies = try Self.sampleBodies() + Self.massDeletion.map { Array("{\"records\":[\($0)]}".utf8) }
        for (n, body) in bodies.enumerated() { try producer.produce(partition: Int32(n % 4), key: nil, value: body) }
        try producer.flush()
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let jsonl = "\(dir)/out.jsonl"
        let source = RunFixture.kafkaSource(cluster.bootstrapServers, group: "stateful-test",
                                            extra: "session_timeout: 6s, commit_interval: 100ms, stateful_topic: vigil-stateful")
        // Lateness one day here and in the reference, more than the whole stream spans: stage 1
        // reads the four partitions in whatever order librdkafka fetches them (under load one can
        // be read well ahead of another), so the keyed topic holds one caller's records out of time
        // order by up to that span, and nothing may be late for the result to be the reference's.
        // (It was 1 h against a lateness-0 reference: under load, 3 alerts of rules on assembled
        // operations came out beyond the reference, since which records are late, so which
        // operations are assembled whole, depends on the lateness and the fetch order; the samples
        // even write some Success records before their Start.)
        let yaml = RunFixture.config(state: "\(dir)/state.db", jsonl: jsonl, metrics: false, source: source)
            .replacingOccurrences(of: "lateness: 0", with: "lateness: 24h")
        let (service, database, _) = try makeService(yaml)
        let run = BackgroundRun(service)
        let lines = try RunFixture.sampleFiles().flatMap(\.lines) + Self.massDeletion
        let records = lines.count
        // The ticks (year 2030) close every window once stage 2 has every message stage 1
        // publishes: one per key of each record (a record that feeds a group family is published
        // once more for it).
        let messages = try Self.statefulMessages(lines)
        #expect(RunFixture.waitUntil(60) { service.metrics.eventsIn("hub.stateful") >= messages })
        for p in Int32(0)..<4 { try producer.produce(partition: p, key: nil, value: try Self.tickBody()) }
        try producer.flush()
        let complete = RunFixture.waitUntil(60) { RunFixture.alertIds(jsonl).isSuperset(of: reference) }
        #expect(run.finish())
        #expect(run.error == nil)
        #expect(complete, "missing: \(reference.subtracting(RunFixture.alertIds(jsonl)).count) of \(reference.count)")
        #expect(RunFixture.alertIds(jsonl) == reference)
        // Every record went through the keyed topic (at least once), and the correlations fired there.
        #expect(service.metrics.eventsIn("hub.stateful") >= records)
        let correlationIds = Set(try RuleSetup.load(ruleDirectories: RunFixture.rulePaths, fieldMapPath: RunFixture.detections.path + "/fieldmap.yml",
                                                    database: nil).compiled.correlations.correlations.map(\.id))
        let rules = try database.connection.query("SELECT rule_id FROM alerts") { $0.string(0) }
        try database.close()
        #expect(rules.contains(where: correlationIds.contains), "a correlation alert came out of stage 2")
        print("stateful topic: \(reference.count) alerts, \(rules.filter(correlationIds.contains).count) from correlations, \(service.metrics.eventsIn("hub.stateful")) keyed messages")
    }
}

/// `stateful_topic:` and the rule split, without a broker.
@Suite struct StatefulTopicConfigTests {
    func problems(_ source: String) -> [String] {
        do {
            _ = try VigilConfig.parse(yaml: "sources:\n  - " + source + "\n", environment: [:])
            return []
        } catch {
            return error.problems.map { "\($0.path): \($0.message)" }
        }
    }

    @Test func statefulTopicIsReadAndChecked() throws {
        let ok = try VigilConfig.parse(yaml: """
            sources:
              - {type: eventhubs, name: hub, bootstrap_servers: "127.0.0.1:9092", hubs: [activity], consumer_group: g, stateful_topic: vigil-stateful}
            """, environment: [:])
        guard case .eventHubs(let e)? = ok.sources.first else { Issue.record("no eventhubs source"); return }
        #expect(e.stateful?.topic == "vigil-stateful")
        #expect(e.stateful?.groupID == nil)
        let base = "{type: eventhubs, bootstrap_servers: \"127.0.0.1:9092\", hubs: [activity]"
        #expect(problems(base + ", stateful_topic: activity}") == ["sources[0].stateful_topic: must name a topic (event hub) other than the source hubs"])
        #expect(problems(base + ", stateful_group: x}") == ["sources[0].stateful_group: stateful_group is used only with stateful_topic"])
    }

    /// The sample rules: the caller correlations go to the identity family, the other one to a
    /// family of its own; stage 1 raises no correlation and no suppressed base rule.
    @Test func thePackSplitsByCaller() throws {
        let rules = try RuleSetup.load(ruleDirectories: [RunFixture.detections.path], database: nil)
        let plan = StatefulPlan(rules)
        let all = rules.compiled.correlations.correlations
        #expect(!all.isEmpty)
        #expect(plan.groups.count + plan.identity.compiled.correlations.correlations.count == all.count)
        #expect(plan.stateless.compiled.correlations.isEmpty && plan.stateless.anomalyRules.isEmpty)
        #expect(plan.identity.anomalyRules.count == rules.anomalyRules.count)
        for c in plan.identity.compiled.correlations.correlations { #expect(StatefulPlan.keyedByCaller(c)) }
        for g in plan.groups { #expect(!StatefulPlan.keyedByCaller(g.correlation)) }
        #expect(plan.statelessDrops.contains("5b0f1c9e-7d2a-4c61-9e3b-2f8a6d4c1e70"), "the generate:false base rule of mass deletion")
        #expect(plan.family(ofKey: Array("i\u{1F}alice".utf8)) == .some(nil))
        #expect(plan.family(ofKey: nil) == .some(nil))
        #expect(plan.family(ofKey: Array("c\u{1F}no-such-correlation\u{1F}x".utf8)) == .none)
        if let g = plan.groups.first {
            #expect(plan.family(ofKey: Array("c\u{1F}\(g.correlation.id)\u{1F}sub\u{1F}rg".utf8)) == .some(0))
        }
    }
    /// A chain (a correlation on another correlation's alerts) runs as one stage-2 family, keyed
    /// by its last correlation's group-by: the events of the base rule under the chain are keyed
    /// for that family, so the whole chain sees them in one place.
    @Test func aChainRunsInOneFamilyKeyedByItsLastCorrelation() throws {
        let dir = try RunFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        title: delete
        name: del
        id: chain-del
        logsource: {product: azure, service: activitylogs}
        detection:
          selection:
            operationName: MICROSOFT.RESOURCES/DEPLOYMENTS/DELETE
          condition: selection
        ---
        title: deletes per resource group and caller
        id: chain-burst
        name: burst
        correlation:
          type: event_count
          rules: [del]
          group-by: [vigil.resource.group, vigil.caller]
          timespan: 10m
          condition: {gte: 2}
        ---
        title: bursts by several callers in one resource group
        id: chain-spread
        correlation:
          type: value_count
          rules: [burst]
          group-by: [vigil.resource.group]
          timespan: 1h
          condition: {gte: 2, field: vigil.caller}
        level: high
        """.write(toFile: dir + "/chain.yml", atomically: false, encoding: .utf8)
        let rules = try RuleSetup.load(ruleDirectories: [dir], fieldMapPath: RunFixture.detections.path + "/fieldmap.yml", database: nil)
        #expect(!rules.hasErrors)
        let plan = StatefulPlan(rules)
        try #require(plan.groups.count == 1)
        #expect(plan.groups[0].correlation.id == "chain-spread")
        #expect(plan.groups[0].rules.compiled.correlations.correlations.map(\.id) == ["chain-burst", "chain-spread"])
        #expect(plan.identity.compiled.correlations.isEmpty)
        let line = #"{"time":"2026-05-01T10:00:00Z","operationName":"MICROSOFT.RESOURCES/DEPLOYMENTS/DELETE","caller":"alice@contoso.example","resourceId":"/subscriptions/s1/resourceGroups/RG-ML/providers/Microsoft.Resources/deployments/d1","category":"Administrative","resultType":"Success"}"#
        let event = try DetectionStageTests.events([line])[0]
        #expect(plan.keys(for: event) == ["i\u{1F}alice@contoso.example", "c\u{1F}chain-spread\u{1F}\(event.resource?.resourceGroup ?? "?")"])
    }
    /// Stage 2 keeps the id stage 1 derived from the bytes as they arrived, though it reads the
    /// record re-serialised (a body with spaces after colons hashes differently once compacted).
    @Test func theStatefulTopicCarriesStageOnesEventId() throws {
        let spaced = #"{"records": [{"time": "2026-05-01T10:00:00Z", "operationName": "MICROSOFT.RESOURCES/DEPLOYMENTS/DELETE", "caller": "alice@contoso.example", "category": "Administrative", "resultType": "Success"}]}"#
        let stage1 = try DetectionStageTests.events([spaced])[0]
        let payload = StatefulWire.encode(stage1)
        #expect(StatefulWire.carriedId(payload) == stage1.id)
        var plain = JSONRecords.Collector()
        try JSONRecords.decode(payload, at: SourcePosition(source: "kafka:vigil-stateful"), normalizer: .init(), into: &plain)
        #expect(plain.events.count == 1 && plain.events[0].id != stage1.id, "the compacted bytes alone give another id")
        var stage2 = JSONRecords.Collector()
        try StatefulWire.decode(payload, at: SourcePosition(source: "kafka:vigil-stateful"), normalizer: .init(), into: &stage2)
        try #require(stage2.events.count == 1)
        #expect(stage2.events[0].id == stage1.id)
        #expect(stage2.events[0].operationName == stage1.operationName && stage2.events[0].caller == stage1.caller)
        #expect(StatefulWire.carriedId(Array(spaced.utf8)) == nil)
    }
}
