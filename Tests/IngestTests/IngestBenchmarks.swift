import Foundation
import Ingest
import Synchronization
import Testing

/// Run once, in release: `VIGIL_BENCH=1 swift test -c release --scratch-path .build-release --filter IngestBenchmarks`.
/// Skipped otherwise (they take tens of seconds and want a quiet machine).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["VIGIL_BENCH"] == "1", "set VIGIL_BENCH=1 to run benchmarks"))
struct IngestBenchmarks {
    /// Messages consumed per second, decoding every `{"records":[…]}` body into events and committing
    /// after each batch. Consumers are joined and paused before anything is produced, so the clock
    /// measures consumption only (not the group join, not production).
    static func consumeThroughput(consumers count: Int, messages: Int, decode: Bool = true) throws -> Double {
        let cluster = try KafkaMockCluster(brokers: 1)
        let topic = "bench-\(count)"
        try cluster.createTopic(topic, partitions: 8)   // see `messages`: the mock drops old segments past ~5 MB per partition
        var config = EventHubsConsumerConfiguration(connection: cluster.connection, groupID: "bench-\(count)", topics: [topic])
        config.commitInterval = .milliseconds(250)
        if let wait = ProcessInfo.processInfo.environment["VIGIL_BENCH_FETCH_WAIT_MS"] { config.connection.properties["fetch.wait.max.ms"] = wait }
        let consumers = try (0..<count).map { _ in try EventHubsConsumer(configuration: config) }
        let clock = ContinuousClock()
        let joinDeadline = clock.now + .seconds(30)
        // The group must have settled: every partition owned, every member busy, and no change for 4 s
        // (the mock coordinator can run a second rebalance round after the first assignment).
        var stableSince = clock.now
        var last: [[TopicPartition]] = []
        while true {
            precondition(clock.now < joinDeadline + .seconds(30), "group did not settle")
            for c in consumers { _ = try c.poll(maxMessages: 1, timeout: .milliseconds(20)) }
            let now = consumers.map(\.assignment)
            if now != last { last = now; stableSince = clock.now }
            if now.map(\.count).reduce(0, +) == 8 && !now.contains(where: \.isEmpty) && clock.now - stableSince >= .seconds(4) { break }
        }
        for c in consumers { try c.pause() }
        FileHandle.standardError.write("bench: joined \(consumers.map(\.assignment))\n".data(using: .utf8)!)
        let producer = try KeyedRepublisher(connection: cluster.connection, topic: topic)
        let body = ActivityLogBodies.body(7, records: 3)
        for i in 0..<messages { try producer.produce(partition: Int32(i % 8), key: nil, value: body) }
        try producer.flush()
        FileHandle.standardError.write("bench: produced\n".data(using: .utf8)!)

        let seen = Mutex(Set<TopicPartition.Offset>())
        let start = clock.now
        let threads = consumers.map { consumer in
            Thread {
                let decoder = EventHubsRecords()
                try? consumer.resume()
                while seen.withLock({ $0.count }) < messages {
                    let batch: [KafkaMessage]
                    do { batch = try consumer.poll(maxMessages: 500, timeout: .milliseconds(100)) } catch {
                        FileHandle.standardError.write("bench: consumer stopped: \(error)\n".data(using: .utf8)!)
                        break
                    }
                    if decode {
                        let events = decoder.decode(batch).events
                        precondition(events.count == batch.count * 3)
                    }
                    try? consumer.commit(upTo: batch)
                    seen.withLock { s in for m in batch { s.insert(.init(tp: m.topicPartition, offset: m.offset)) } }
                }
            }
        }
        for t in threads { t.start() }
        var reported = clock.now
        while seen.withLock({ $0.count }) < messages {
            Thread.sleep(forTimeInterval: 0.005)
            if clock.now - reported > .seconds(5) {
                reported = clock.now
                FileHandle.standardError.write("bench: \(seen.withLock { $0.count }) of \(messages) after \(clock.now - start)\n".data(using: .utf8)!)
            }
        }
        let elapsed = clock.now - start
        Thread.sleep(forTimeInterval: 0.3)   // let the threads notice and leave
        for c in consumers { try c.close() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(messages) / seconds
    }

    @Test func eventHubsConsumeThroughputOneVsTwo() throws {
        let messages = Int(ProcessInfo.processInfo.environment["VIGIL_BENCH_MESSAGES"] ?? "") ?? 8_000   // the mock retains ~5 MB per partition: 8 × 1000 bodies of 3 KB fit
        let decode = ProcessInfo.processInfo.environment["VIGIL_BENCH_NODECODE"] == nil
        let one = try Self.consumeThroughput(consumers: 1, messages: messages, decode: decode)
        let two = try Self.consumeThroughput(consumers: 2, messages: messages, decode: decode)
        print("BENCH kafka-mock consume (\(messages) msgs × 3 records, decode=\(decode), commit every 250 ms): one consumer \(Int(one)) msg/s, two consumers \(Int(two)) msg/s, ratio \(String(format: "%.2f", two / one))")
        #expect(one > 0 && two > 0)
    }

    /// Append → line delivered, at ~10k lines/s: a writer thread appends 10 lines every millisecond,
    /// each carrying its append time; the tailer records delivery time minus append time.
    @Test func tailLatencyAt10kLinesPerSecond() throws {
        let f = TailFixture()
        let path = f.path("live/PT1H.json")
        f.write("live/PT1H.json", "{\"start\":true}\n")
        let source = TailSource(paths: [f.dir], configuration: TailConfiguration(startPosition: .beginning), checkpoints: f.store)
        _ = try source.poll()
        let base = DispatchTime.now().uptimeNanoseconds
        let total = 50_000
        let writer = Thread {
            let fd = open(path, O_WRONLY | O_APPEND)
            defer { close(fd) }
            var written = 0
            var next = DispatchTime.now().uptimeNanoseconds
            while written < total {
                var chunk = ""
                for _ in 0..<10 {
                    let t = DispatchTime.now().uptimeNanoseconds - base
                    chunk += "{\"time\":\"2024-05-01T10:00:00Z\",\"operationName\":\"MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/READ\",\"t\":\(t),\"n\":\(written)}\n"
                    written += 1
                }
                _ = chunk.withCString { write(fd, $0, strlen($0)) }
                next += 1_000_000
                let now = DispatchTime.now().uptimeNanoseconds
                if next > now { usleep(UInt32((next - now) / 1000)) }
            }
        }
        writer.start()
        var latencies: [UInt64] = []
        latencies.reserveCapacity(total)
        let clock = ContinuousClock(), deadline = clock.now + .seconds(30)
        let start = clock.now
        while latencies.count < total && clock.now < deadline {
            let lines = try source.poll(maxLines: 4096)
            let now = DispatchTime.now().uptimeNanoseconds - base
            for line in lines {
                guard let r = line.text.range(of: "\"t\":"), let end = line.text[r.upperBound...].firstIndex(of: ",") else { continue }
                latencies.append(now - UInt64(line.text[r.upperBound..<end])!)
            }
            if lines.isEmpty { source.wait(timeout: .milliseconds(100)) }
        }
        let elapsed = clock.now - start
        latencies.sort()
        #expect(latencies.count == total)
        let p = { (q: Double) in Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]) / 1e6 }
        print("BENCH tail latency (\(latencies.count) lines in \(elapsed), inotify=\(source.usesInotify)): p50 \(String(format: "%.3f", p(0.5))) ms, p99 \(String(format: "%.3f", p(0.99))) ms, max \(String(format: "%.3f", p(1.0))) ms")
    }
}
