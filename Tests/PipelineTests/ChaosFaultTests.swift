import EventModel
import Foundation
import Ingest
import Logging
import Outputs
import StateStore
import TestSupport
import Testing

/// Every HTTP sink behind Tests/TestServers/azure_local.py with faults injected (server down, 429 +
/// Retry-After, 500, 503, 401, 403, 413, 422, timeouts, connection resets, a failing token
/// endpoint), fed by a real `vigil replay` state database: the same incidents are delivered as
/// through a clean JSON-lines sink, and exactly the items meant to be dead-lettered are, with the
/// reason. Recognisable fake secrets are then searched for in every log line, error text, dead
/// letter, sink file and the state DB bytes.
@Suite(.serialized, .enabled(if: Chaos.hasVigil, Chaos.noVigil), .enabled(if: Chaos.python != nil, Chaos.noPython))
struct ChaosFaultTests {
    static let clientSecret = "FAKE-CLIENT-SECRET-q7Zx3Wv9"
    static let hmacKey = "FAKE-HMAC-KEY-m4Rt8Yp2"
    static let sasSignature = "FAKE-SAS-SIG-k2Jd6Hs1"
    static let eventHubsKey = "FAKE-EH-KEY-c9Vb5Nn0="
    static var secrets: [String] { [clientSecret, hmacKey, sasSignature, eventHubsKey] }
    static let tenant = "00000000-0000-0000-0000-00000000000a"
    static let clientId = "00000000-0000-0000-0000-00000000000b"

    /// azure_local.py on loopback; `port` 0 picks a free one.
    final class Server {
        let process = Process()
        let port: Int
        let control: HTTPClient

        init(port: Int = 0) throws {
            let script = PackageRoot.url.appendingPathComponent("Tests/TestServers/azure_local.py").path
            process.executableURL = URL(fileURLWithPath: Chaos.python!)
            process.arguments = [script, "--http-port", "\(port)", "--client-secret", ChaosFaultTests.clientSecret,
                                 "--webhook-secret", ChaosFaultTests.hmacKey]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var buffer = Data()
            while !buffer.contains(0x0A) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
            }
            let line = String(decoding: buffer.prefix(while: { $0 != 0x0A }), as: UTF8.self)
            let info = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any], "server said: \(line)")
            self.port = info["http"] as! Int
            control = try HTTPClient(configuration: HTTPClientConfiguration(timeout: 10))
        }

        deinit { stop() }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }

        @discardableResult
        func post(_ path: String, _ body: [String: Any] = [:]) throws -> Any {
            let r = try control.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)" + path, headers: [("Content-Type", "application/json")],
                                                 body: Array(try JSONSerialization.data(withJSONObject: body))))
            return try JSONSerialization.jsonObject(with: Data(r.body), options: [.fragmentsAllowed])
        }

        func fault(_ rule: [String: Any]) throws { try post("/_control/fault", rule) }
        func state() throws -> [String: Any] { try #require(try post("/_control/state") as? [String: Any]) }
    }

    func sinks(port: Int, logger: Logger) throws -> [any Sink] {
        let base = "http://127.0.0.1:\(port)"
        let credential = ConfigValue.map(["type": .string("client_secret"), "tenant_id": .string(Self.tenant), "client_id": .string(Self.clientId),
                                          "client_secret": .string("${VIGIL_TEST_CLIENT_SECRET}"), "authority_host": .string(base)])
        let env = ["VIGIL_TEST_CLIENT_SECRET": Self.clientSecret, "VIGIL_TEST_HOOK": Self.hmacKey]
        let http: [String: ConfigValue] = ["timeout": .number(1.5), "connect_timeout": .number(1)]
        let configs: [(String, [String: ConfigValue])] = [
            ("hook", ["type": .string("webhook"), "secret": .string("${VIGIL_TEST_HOOK}"), "max_batch": .number(1),
                      "url": .string(base + "/webhook/vigil?sv=2024-01-01&sig=" + Self.sasSignature)]),
            ("logs", ["type": .string("logs_ingestion"), "endpoint": .string(base), "dcr_immutable_id": .string("dcr-0123456789abcdef0123456789abcdef"),
                      "max_batch": .number(16), "credential": credential]),
            ("sentinel", ["type": .string("sentinel_incidents"), "subscription_id": .string("sub-1"), "resource_group_name": .string("rg-sec"),
                          "workspace_name": .string("law-sec"), "endpoint": .string(base), "credential": credential]),
        ]
        return try configs.map { name, c in try makeSink(name: name, config: .map(c.merging(http) { a, _ in a }), environment: env, logger: logger) }
    }

    @Test(.timeLimit(.minutes(3)))
    func faultsChangeNothingButTheDeadLetters() throws {
        let dir = try Chaos.temporaryDirectory("faults")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("input")
        let expected = try Chaos.workload(into: input, groups: 12, noise: 500, files: 1)
        let dbPath = dir.appendingPathComponent("state.db").path, jsonl = dir.appendingPathComponent("reference.jsonl").path
        let replay = try Chaos.vigil(Chaos.replayArguments(input: input.path, state: dbPath, sink: jsonl), in: dir)
        #expect(replay.status == 0, "\(replay.stderr)")
        let reference = try Chaos.SinkContents(path: jsonl)
        #expect(reference.incidents.count == expected.incidents && reference.alerts.count == expected.alerts)

        let box = LogCapture()   // everything the sinks and the dispatcher log
        let logger = box.logger
        var errors: [String] = []

        // 1. The server is down: every sink fails, retriably, and nothing is lost.
        let first = try Server()
        let port = first.port
        first.stop()
        let db = try StateDatabase(path: dbPath)
        let config = OutboxConfiguration(maxAttempts: 10, baseDelaySeconds: 0.05, maxDelaySeconds: 0.2)
        let dispatcher = try OutboxDispatcher(database: db, sinks: try sinks(port: port, logger: logger), configuration: config, logger: logger)
        let down = try dispatcher.dispatchOnce()
        // (The Sentinel sink accepts alerts of incidents it has not seen yet without a request: it
        // holds them to comment once the incident arrives, so only it "delivers" while the server is down.)
        #expect(down.deadLettered == 0 && down.failed > 0, "\(down)")
        let total = reference.alerts.count + reference.incidents.count
        #expect(try db.pendingCount(sink: "hook") == total && db.pendingCount(sink: "logs") == total)
        errors += try db.outboxStatus().compactMap(\.lastError)

        // 2. It comes back, flaky.
        let server = try Server(port: port)
        let token = "/\(Self.tenant)/oauth2/v2.0/token"
        let victim = try #require(reference.incidents.keys.sorted().first)
        var faults: [[String: Any]] = [
            ["match": token, "status": 500, "count": 1],
            ["match": "/webhook", "status": 429, "headers": ["Retry-After": "1"], "count": 1],
            ["match": "/webhook", "status": 500, "count": 2],
            ["match": "/webhook", "action": "reset", "count": 1],
            ["match": "/webhook", "action": "slow", "delay": 2.5, "count": 1],
            ["match": "/webhook", "status": 401, "count": 1],
            ["match": "/webhook", "status": 422, "count": 1],                  // → dead letter: the row it hits
            ["match": "/dataCollectionRules", "status": 503, "headers": ["Retry-After": "1"], "count": 1],
            ["match": "/dataCollectionRules", "action": "reset", "count": 1],
            ["match": "/dataCollectionRules", "action": "slow", "delay": 2.5, "count": 1],
            ["match": "/dataCollectionRules", "status": 413, "count": 5],      // split down to one row → dead letter
            ["match": "/incidents/", "status": 500, "count": 2],
            ["match": "/incidents/", "status": 429, "headers": ["Retry-After": "1"], "count": 1],
            ["match": "/incidents/" + victim, "status": 403, "count": 100],   // → dead letters: that incident
        ]
        // The 403 rule must win over the generic ones for its incident: put it first.
        faults.insert(faults.removeLast(), at: 0)
        for f in faults { try server.fault(f) }
        let report = try dispatcher.drain(until: SystemOutboxClock().now() + 90)
        #expect(report.isComplete, "\(report)")
        let faultsInjected = try #require(try server.post("/_control/faults") as? [[String: Any]])
            .reduce(0) { $0 + (($1["hits"] as? Int) ?? 0) }

        let dead = try db.deadLetters()
        for d in dead { print("dead letter: \(d.sink) \(d.kind) \(d.objectId) after \(d.attempts): \(d.reason)") }
        let state = try server.state()
        // Webhook: exactly one dead letter, from the 422; every other item arrived, signed.
        let hookDead = dead.filter { $0.sink == "hook" }
        #expect(hookDead.count == 1 && hookDead.allSatisfy { $0.reason.contains("422") }, "\(hookDead.map(\.reason))")
        let hooks = (state["webhook"] as? [[String: Any]]) ?? []
        #expect(hooks.allSatisfy { $0["signature_valid"] as? Bool == true })
        let hookIds = Set(hooks.compactMap { ($0["headers"] as? [String: String])?["x-vigil-id"] })
        let allIds = Set(reference.alerts.keys).union(reference.incidents.keys)
        // The dead-lettered item may have reached the server once anyway (a timed-out attempt that
        // the server completed); everything else must have.
        #expect(hookIds.isSubset(of: allIds) && allIds.subtracting(hookDead.map(\.objectId)).isSubset(of: hookIds))
        // Logs Ingestion: the 413s split a batch down to one row, which is dead-lettered; the rest arrived.
        let logsDead = dead.filter { $0.sink == "logs" }
        #expect(logsDead.count == 1 && logsDead.allSatisfy { $0.reason.contains("413") }, "\(logsDead.map(\.reason))")
        let rows = (state["rows"] as? [String: [[String: Any]]]) ?? [:]
        let rowIds = Set(rows.values.joined().compactMap { ($0["AlertId"] as? String).map { "a:" + $0 } ?? ($0["IncidentId"] as? String).map { "i:" + $0 } })
        let wantRows = Set(reference.alerts.keys.map { "a:" + $0 })
        #expect(wantRows.subtracting(rowIds).subtracting(logsDead.map { "a:" + $0.objectId }).isEmpty)
        // Sentinel: the 403 incident (and the comments of its alerts) dead-lettered with the status; every other incident exists.
        let sentinelDead = dead.filter { $0.sink == "sentinel" }
        #expect(sentinelDead.map(\.objectId) == [victim], "only the rejected incident: \(sentinelDead.map(\.objectId))")
        #expect(sentinelDead.allSatisfy { $0.reason.contains("403") }, "\(sentinelDead.map(\.reason))")
        let incidents = (state["incidents"] as? [String: Any]) ?? [:]
        #expect(Set(incidents.keys) == Set(reference.incidents.keys).subtracting([victim]))
        print("chaos faults: \(faultsInjected) faults injected, \(report.attemptsFailed) failed attempts, \(dead.count) dead letters, \(report.delivered) deliveries")
        #expect(faultsInjected >= 20)

        // 3. Secrets appear nowhere: logs, errors, dead letters, status, the JSONL sink, the state DB bytes.
        errors += try db.outboxStatus().compactMap(\.lastError) + dead.map(\.reason)
        // A bad Event Hubs connection string, and a good one printed.
        let cs = "Endpoint=sb://chaos.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=\(Self.eventHubsKey);EntityPath=hub"
        errors.append("\(try EventHubsConnectionString(parsing: cs))")
        for bad in [cs.replacingOccurrences(of: "Endpoint=sb://", with: "Endpoint=http://"), "SharedAccessKey=\(Self.eventHubsKey)",
                    cs + ";SharedAccessKey=\(Self.eventHubsKey)x"] {
            do { _ = try EventHubsConnectionString(parsing: bad) } catch { errors.append("\(error)") }
        }
        try dispatcher.closeSinks()
        try db.close()
        #expect(box.count > 0, "nothing was logged: the capture is broken")
        var haystacks: [(String, String)] = [("logs", box.text), ("errors", errors.joined(separator: "\n")),
                                            ("replay stderr", replay.stderr + replay.stdout)]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where !name.hasPrefix("input") {
            if let data = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) {
                haystacks.append((name, String(decoding: data, as: UTF8.self)))
            }
        }
        for (name, text) in haystacks {
            for secret in Self.secrets { #expect(!text.contains(secret), "\(secret) found in \(name)") }
        }
        #expect(haystacks.contains { $0.0 == "state.db" })
    }
}
