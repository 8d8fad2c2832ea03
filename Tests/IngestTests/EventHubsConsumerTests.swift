import Glibc
import Ingest
import Synchronization
import TestSupport
import Testing

/// librdkafka mock cluster tests. A group join on the mock takes about 3 s, so these are few, and
/// serialized. Assertions are at-least-once: every (partition, offset) seen, committed offsets cover
/// everything, partitions disjoint; never exact per-consumer counts.
@Suite(.serialized) struct EventHubsConsumerTests {
    static func configuration(_ cluster: KafkaMockCluster, group: String, topics: [String]) -> EventHubsConsumerConfiguration {
        var c = EventHubsConsumerConfiguration(connection: cluster.connection, groupID: group, topics: topics)
        c.commitInterval = .zero
        c.sessionTimeout = .seconds(6)
        c.connectTimeout = .seconds(20)
        return c
    }

    static func committedTotal(_ cluster: KafkaMockCluster, group: String, topics: [(String, Int32)]) throws -> Int64 {
        let partitions = topics.flatMap { t in (0..<t.1).map { TopicPartition(topic: t.0, partition: $0) } }
        return try EventHubsConsumer.committedOffsets(connection: cluster.connection, groupID: group, partitions: partitions)
            .values.reduce(0, +)
    }

    @Test(.timeLimit(.minutes(1))) func oneConsumerReadsSeveralHubsAndUnwrapsRecords() throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("insights-activity-logs", partitions: 2)
        try cluster.createTopic("insights-logs-amlcomputeclusterevent", partitions: 1)
        let a = try KeyedRepublisher(connection: cluster.connection, topic: "insights-activity-logs")
        let b = try KeyedRepublisher(connection: cluster.connection, topic: "insights-logs-amlcomputeclusterevent")
        for n in 0..<40 { try a.produce(partition: Int32(n % 2), key: nil, value: ActivityLogBodies.body(n)) }
        for n in 0..<10 { try b.publish(key: nil, value: ActivityLogBodies.body(100 + n)) }
        try a.flush(); try b.flush()

        let consumer = try EventHubsConsumer(configuration: Self.configuration(cluster, group: "single",
            topics: ["insights-activity-logs", "insights-logs-amlcomputeclusterevent"]))
        var seen = Seen()
        var events = 0
        let decoder = EventHubsRecords()
        let clock = ContinuousClock(), deadline = clock.now + .seconds(30)
        while seen.offsets.count < 50 && clock.now < deadline {
            let batch = try consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
            for m in batch { seen.offsets.insert(.init(tp: m.topicPartition, offset: m.offset)) }
            let decoded = decoder.decode(batch)
            #expect(decoded.diagnostics.isEmpty)
            for e in decoded.events {
                #expect(e.position.partition != nil && e.position.kafkaOffset != nil && e.position.enqueuedTime != nil)
                #expect(e.position.recordIndex != nil)
            }
            events += decoded.events.count
            try consumer.commit(upTo: batch)
        }
        #expect(seen.offsets.count == 50)
        #expect(events >= 150, "three records per body")
        try consumer.close()
        #expect(try Self.committedTotal(cluster, group: "single", topics: [("insights-activity-logs", 2), ("insights-logs-amlcomputeclusterevent", 1)]) == 50)
    }

    @Test(.timeLimit(.minutes(1))) func twoConsumersShareKeyedPartitions() throws {
        let cluster = try KafkaMockCluster()
        let topic = "vigil-stateful"
        try cluster.createTopic(topic, partitions: 4)
        let c1 = try EventHubsConsumer(configuration: Self.configuration(cluster, group: "pair", topics: [topic]))
        let c2 = try EventHubsConsumer(configuration: Self.configuration(cluster, group: "pair", topics: [topic]))
        let clock = ContinuousClock()
        var deadline = clock.now + .seconds(20)
        var seen = [Seen(), Seen()]
        func pollBoth() throws {
            for (i, c) in [c1, c2].enumerated() {
                let batch = try c.poll(maxMessages: 200, timeout: .milliseconds(50))
                for m in batch {
                    seen[i].offsets.insert(.init(tp: m.topicPartition, offset: m.offset))
                    seen[i].partitions.insert(m.topicPartition)
                    seen[i].keys.insert(String(decoding: m.key ?? [], as: UTF8.self))
                }
                try c.commit(upTo: batch)
            }
        }
        // Both members joined: the four partitions split between them.
        while (c1.assignment.isEmpty || c2.assignment.isEmpty) && clock.now < deadline { try pollBoth() }
        #expect(Set(c1.assignment).isDisjoint(with: c2.assignment))
        #expect(c1.assignment.count + c2.assignment.count == 4)

        // Re-publish keyed by a group-by value (the caller UPN): one key, one partition, one consumer.
        let republisher = try KeyedRepublisher(connection: cluster.connection, topic: topic)
        let n = 200
        for i in 0..<n { try republisher.publish(key: "user\(i % 10)@contoso.com", value: ActivityLogBodies.body(i, records: 1)) }
        try republisher.flush()
        #expect(republisher.acknowledged == n)
        deadline = clock.now + .seconds(20)
        while seen[0].offsets.union(seen[1].offsets).count < n && clock.now < deadline { try pollBoth() }

        #expect(seen[0].offsets.union(seen[1].offsets).count == n, "every record read at least once")
        #expect(seen[0].partitions.isDisjoint(with: seen[1].partitions))
        #expect(seen[0].keys.isDisjoint(with: seen[1].keys), "each key read by one consumer only")
        #expect(seen[0].keys.union(seen[1].keys).count == 10)
        try c1.close(); try c2.close()
        #expect(try Self.committedTotal(cluster, group: "pair", topics: [(topic, 4)]) == Int64(n))
    }

    @Test(.timeLimit(.minutes(1))) func closingOneConsumerMidwayLosesNothing() throws {
        let cluster = try KafkaMockCluster()
        let topic = "insights-activity-logs"
        try cluster.createTopic(topic, partitions: 4)
        let producer = try KeyedRepublisher(connection: cluster.connection, topic: topic)
        let n = 400
        for i in 0..<n { try producer.produce(partition: Int32(i % 4), key: nil, value: ActivityLogBodies.body(i, records: 1)) }
        try producer.flush()

        let revoked = Mutex<[TopicPartition]>([])
        let survivor = try EventHubsConsumer(configuration: Self.configuration(cluster, group: "failover", topics: [topic]))
        let leaving = try EventHubsConsumer(configuration: Self.configuration(cluster, group: "failover", topics: [topic])) { partitions in
            revoked.withLock { $0 += partitions }   // a real caller flushes its batch here
        }
        var all = Set<TopicPartition.Offset>()
        var fromLeaving = 0
        let clock = ContinuousClock()
        var deadline = clock.now + .seconds(20)
        // Both read (slowly: small batches) until the leaving one has done some work.
        while (fromLeaving < 20 || survivor.assignment.isEmpty) && clock.now < deadline {
            for c in [survivor, leaving] {
                let batch = try c.poll(maxMessages: 5, timeout: .milliseconds(50))
                for m in batch { all.insert(.init(tp: m.topicPartition, offset: m.offset)) }
                if c === leaving { fromLeaving += batch.count }
                try c.commit(upTo: batch)
            }
        }
        #expect(fromLeaving >= 20)
        #expect(all.count < n, "the leaving consumer stops before everything is read")
        try leaving.close()
        #expect(!revoked.withLock { $0 }.isEmpty, "close revokes (and commits) the leaving consumer's partitions")
        deadline = clock.now + .seconds(25)
        // Until the survivor owns every partition and has read (and committed) to their ends: the
        // leaving consumer may have read its partitions before the rebalance ends, under load.
        while clock.now < deadline {
            let batch = try survivor.poll(maxMessages: 200, timeout: .milliseconds(100))
            for m in batch { all.insert(.init(tp: m.topicPartition, offset: m.offset)) }
            try survivor.commit(upTo: batch)
            if all.count == n && survivor.assignment.count == 4 && batch.isEmpty { break }
        }
        #expect(all.count == n, "nothing lost")
        #expect(survivor.assignment.count == 4, "the survivor took over every partition")
        try survivor.close()
        #expect(try Self.committedTotal(cluster, group: "failover", topics: [(topic, 4)]) == Int64(n))
    }

    @Test(.timeLimit(.minutes(1))) func unreachableBrokerFailsClearlyWithoutBusyLoop() throws {
        let key = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
        let cs = try EventHubsConnectionString(parsing: "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=listen;SharedAccessKey=\(key);EntityPath=hub")
        var config = EventHubsConsumerConfiguration(connection: .eventHubs(cs), groupID: "vigil")
        config.connectTimeout = .seconds(2)
        let logs = LogCapture()
        let consumer = try EventHubsConsumer(configuration: config, logger: logs.logger)
        let clock = ContinuousClock(), start = clock.now
        let cpu0 = cpuSeconds()
        var failure: KafkaError?
        var polls = 0
        while failure == nil && clock.now - start < .seconds(15) {
            do { _ = try consumer.poll(maxMessages: 10, timeout: .milliseconds(200)); polls += 1 }
            catch { failure = error }
        }
        let elapsed = clock.now - start
        let cpu1 = cpuSeconds()
        let error = try #require(failure)
        #expect(error.kind == .unreachable)
        #expect(error.description.contains("127.0.0.1:1"))
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(8), "\(elapsed)")
        #expect(cpu1.thread - cpu0.thread < 0.5, "the polling thread waits, it does not spin (\(cpu1.thread - cpu0.thread) s)")
        #expect(polls < 60)
        #expect(!error.description.contains(key))
        let lines = logs.lines.withLock { $0 }
        #expect(!lines.isEmpty, "librdkafka's complaints go to the logger")
        #expect(lines.allSatisfy { !$0.contains(key) }, "the key is never logged")
    }

    @Test(.timeLimit(.minutes(1))) func oauthTokensComeFromTheProvider() throws {
        let calls = Mutex(0)
        let connection = KafkaConnection(bootstrapServers: "127.0.0.1:1", authentication: .oauthBearer {
            calls.withLock { $0 += 1 }
            return OAuthBearerToken(value: "eyJ0eXAiOiJKV1QifQ.e30.sig", expiresAtMilliseconds: Int64(Date.nowMilliseconds) + 3_600_000, principal: "vigil-app")
        })
        let consumer = try EventHubsConsumer(configuration: EventHubsConsumerConfiguration(connection: connection, groupID: "g", topics: ["hub"]))
        _ = try consumer.poll(maxMessages: 1, timeout: .milliseconds(500))
        #expect(calls.withLock { $0 } >= 1, "librdkafka asked for a token through the refresh callback")
    }

    @Test func configurationErrorsAreClear() {
        #expect(throws: KafkaError.self) {
            _ = try EventHubsConsumer(configuration: EventHubsConsumerConfiguration(connection: .plaintext("127.0.0.1:1"), groupID: "g"))
        }
        var bad = EventHubsConsumerConfiguration(connection: .plaintext("127.0.0.1:1"), groupID: "g", topics: ["t"])
        bad.connection.properties = ["no.such.property": "1"]
        do { _ = try EventHubsConsumer(configuration: bad); Issue.record("accepted an unknown property") }
        catch { #expect(error.description.contains("no.such.property")) }
    }
}

enum Date {
    static var nowMilliseconds: Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }
}
