import TestSupport
import Detection
import EventDecoding
import EventModel
import FastJSON
import Foundation
import StateStore
import Testing

/// Cost of the stateful stages on 100k synthetic events. Runs only with VIGIL_BENCH=1, meant for a
/// release build: `VIGIL_BENCH=1 swift test -c release --scratch-path .build-release --filter StatefulBenchmark`.
@Suite struct StatefulBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["VIGIL_BENCH"] == "1"

    /// 100k JSON lines: 60% AML data-plane reads, 40% Activity Log records (Start+Success pairs) over
    /// 50 identities and 5 workspaces, 30 days, slightly out of order.
    static func lines(_ n: Int) -> [String] {
        var rng = SplitMix64(seed: 99)
        var out: [String] = []
        out.reserveCapacity(n)
        let ops = ["workspaces/read", "workspaces/computes/write", "workspaces/datastores/listsecrets/action", "workspaces/listkeys/action"]
        var i = 0
        while out.count < n {
            let seconds = Int64(i) * (30 * 86_400) / Int64(n) - Int64(rng.next() % 300)
            let time = Fixture.base.adding(seconds: seconds).iso8601
            let who = "user\(rng.next() % 50)@contoso.example"
            let ws = Fixture.workspaceId.replacingOccurrences(of: "mlw-prod", with: "mlw-\(rng.next() % 5)")
            let ip = "203.0.\(rng.next() % 4).\(rng.next() % 250)"
            let claims = #""identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\#(who)"}}"#
            if rng.next() % 10 < 6 {
                out.append(#"{"time":"\#(time)","resourceId":"\#(ws)","category":"DataStoreReadEvent","operationName":"Microsoft.MachineLearningServices/workspaces/datastores/read","resultType":"Succeeded","callerIpAddress":"\#(ip)",\#(claims),"properties":{"AmlDatastoreName":"ds\#(i % 7)"}}"#)
            } else {
                let op = "Microsoft.MachineLearningServices/" + ops[Int(rng.next() % UInt64(ops.count))]
                for (k, result) in ["Start", "Success"].enumerated() {
                    let t = Fixture.base.adding(seconds: seconds + Int64(k)).iso8601
                    out.append(#"{"time":"\#(t)","resourceId":"\#(ws)","operationName":"\#(op)","category":"Administrative","resultType":"\#(result)","correlationId":"corr-\#(i)","callerIpAddress":"\#(ip)",\#(claims),"properties":{"requestbody":"{\"a\":1}"}}"#)
                }
            }
            i += 1
        }
        return Array(out.prefix(n))
    }

    static func decode(_ lines: [String]) -> [Event] {
        let normalizer = Normalizer()
        return lines.enumerated().map { i, line in
            try! normalizer.normalize(try! JSONDocument.parse(line), position: SourcePosition(source: "bench", line: i + 1), id: fastHash64(line))
        }
    }

    static func seconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let d = clock.measure(body)
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    @Test(.enabled(if: enabled)) func stagesOn100kEvents() throws {
        let n = 100_000
        let text = Self.lines(n)
        var events: [Event] = []
        let decode = Self.seconds { events = Self.decode(text) }
        let rules = try Fixture.anomalyRules()

        var buffered = 0
        let bufferOnly = Self.seconds {
            var b = EventTimeBuffer()
            for e in events { buffered += b.push(e).count }
            buffered += b.flush().count
        }
        var ops = 0
        let assembly = Self.seconds {
            var b = EventTimeBuffer()
            var a = OperationAssembler()
            for e in events { for r in b.push(e) { ops += a.process(r).count } }
            for r in b.flush() { ops += a.process(r).count }
            ops += a.finish().count
        }
        func full(_ store: BaselineStore) -> (Double, Int, AnomalyDetector.Stats) {
            let detector = AnomalyDetector(rules: rules, store: store)
            var stages = StatefulStages(anomaly: detector)
            var alerts = 0
            let t = Self.seconds {
                for e in events { alerts += stages.push(e).count }
                alerts += stages.finish().count
            }
            return (t, alerts, detector.stats)
        }
        let (memory, alertsMemory, stats) = full(InMemoryBaselineStore())
        let folder = StatefulTemporaryFolder()
        let db = try StateDatabase(path: folder.path("bench.db"))
        let (sqlite, alertsSQLite, _) = full(db)
        try db.close()
        #expect(buffered == n)
        #expect(alertsMemory == alertsSQLite)
        let line = """
        STATEFUL-BENCH n=\(n) rules=\(rules.count) decode(parse+normalize)=\(String(format: "%.3f", decode))s \
        buffer=\(String(format: "%.3f", bufferOnly))s buffer+assembly=\(String(format: "%.3f", assembly))s (ops=\(ops)) \
        all-stateful(memory)=\(String(format: "%.3f", memory))s all-stateful(sqlite)=\(String(format: "%.3f", sqlite))s \
        alerts=\(alertsMemory) profiles=\(stats.profilesInMemory) overhead-vs-decode(sqlite)=\(String(format: "%.0f", sqlite / decode * 100))%
        """
        print(line)
    }
}
