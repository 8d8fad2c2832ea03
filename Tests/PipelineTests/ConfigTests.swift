import Foundation
import Ingest
import Outputs
@testable import Pipeline
import TestSupport
import Testing

@Suite struct ConfigTests {
    static let env = ["HOME": "/home/vigil", "HUB_CS": "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0;EntityPath=activity"]

    func problems(_ yaml: String, env: [String: String] = ConfigTests.env) -> [VigilConfigError.Problem] {
        do {
            _ = try VigilConfig.parse(yaml: yaml, file: "t.yaml", environment: env)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func emptyFileGivesDefaults() throws {
        let c = try VigilConfig.parse(yaml: "", environment: [:])
        #expect(c.sources.isEmpty && c.sinks.isEmpty)
        #expect(c.metrics.host == "127.0.0.1" && c.metrics.port == 9464)
        #expect(c.detection.latenessSeconds == 900)
        #expect(c.incidentWindowSeconds == 18_000)
    }

    @Test func everySectionIsRead() throws {
        let c = try VigilConfig.parse(yaml: """
        state: {path: "${HOME}/state.db"}
        rules: {paths: [r1, r2], add: r3, fieldmap: fm.yml, placeholders: {admins: [a, b]}}
        detection: {lateness: 2m, batch_events: 100, operation_timeout: 30m}
        incidents: {window: 1h}
        sources:
          tail:
            type: file
            paths: /var/log/x
            from_beginning: false
            poll_interval: 100ms
          hub:
            type: eventhubs
            connection_string: ${HUB_CS}
            consumer_group: g1
            start_position: latest
        sinks:
          out: {type: jsonl, path: a.jsonl}
        outbox: {max_attempts: 3, max_age: 1h, shutdown_drain: 2s, keep_delivered: 2d}
        metrics: {listen: "0.0.0.0:9999"}
        log: {level: debug, format: json}
        """, environment: Self.env)
        #expect(c.statePath == "/home/vigil/state.db")
        #expect(c.rules.paths == ["r1", "r2"] && c.rules.add == ["r3"] && c.rules.fieldmap == "fm.yml")
        #expect(c.rules.placeholders["admins"] == ["a", "b"])
        #expect(c.detection.latenessSeconds == 120 && c.detection.batchEvents == 100 && c.detection.operationTimeoutSeconds == 1800)
        #expect(c.incidentWindowSeconds == 3600)
        #expect(c.sources.count == 2)
        guard case .eventHubs(let hub) = c.sources[0], case .file(let tail) = c.sources[1] else {
            Issue.record("sources in name order: hub, tail")
            return
        }
        #expect(hub.consumer.topics == ["activity"])   // from EntityPath
        #expect(hub.consumer.groupID == "g1" && hub.consumer.startPosition == .latest)
        #expect(hub.consumer.connection.bootstrapServers == "ns1.servicebus.windows.net:9093")
        #expect(tail.paths == ["/var/log/x"] && tail.tail.startPosition == .end && tail.tail.pollInterval == .milliseconds(100))
        #expect(c.outbox.maxAttempts == 3 && c.outbox.maxAgeSeconds == 3600 && c.shutdownDrainSeconds == 2)
        #expect(c.outbox.keepDeliveredSeconds == 2 * 86_400)
        #expect(c.metrics.host == "0.0.0.0" && c.metrics.port == 9999)
        #expect(c.log.level == .debug && c.log.format == .json)
    }

    @Test func unknownKeysAtEveryLevelAreAllReported() {
        let p = problems("""
        stat: {path: x}
        detection: {latness: 5}
        sources:
          - type: file
            paths: [a]
            pol_interval: 1s
        sinks:
          sentinel:
            type: sentinel_incidents
            subscription_id: s
            resource_group_name: r
            workspace_name: w
            workspce: typo
            credential: {type: client_secret, tenant: t}
          out: {type: jsonl, pth: x}
        """)
        let paths = Set(p.map(\.path))
        for expected in ["stat", "detection.latness", "sources[0].pol_interval", "sinks.sentinel.workspce", "sinks.out.pth"] {
            #expect(paths.contains(expected), "missing \(expected) in \(paths)")
        }
        #expect(p.allSatisfy { $0.message.contains("unknown key") || $0.path.contains("credential") })
        #expect(p.first { $0.path == "stat" }?.line == 1)
        #expect(p.first { $0.path == "sinks.sentinel.workspce" }?.line == 13)
    }

    @Test func badTypesAndMissingRequiredKeys() {
        let p = problems("""
        detection: {lateness: soon, batch_events: -1}
        incidents: {window: [1]}
        metrics: {listen: nowhere}
        log: {level: loud}
        sources:
          - type: file
          - type: eventhubs
          - type: pigeon
        sinks:
          s: {type: sentinel_incidents}
          x: {path: y}
        """)
        let paths = p.map(\.path)
        for expected in ["detection.lateness", "detection.batch_events", "incidents.window", "metrics.listen", "log.level",
                         "sources[0].paths", "sources[1]", "sources[2].type", "sinks.s.subscription_id",
                         "sinks.s.workspace_name", "sinks.x.type"] {
            #expect(paths.contains(expected), "missing \(expected) in \(paths)")
        }
        let text = VigilConfigError(file: "t.yaml", problems: p).description
        #expect(text.contains("t.yaml:1:"))
        #expect(text.contains("problems"))
    }

    @Test func environmentExpansion() throws {
        let c = try VigilConfig.parse(yaml: """
        state: {path: "${STATE_DIR:-/tmp}/s.db"}
        sinks:
          out: {type: jsonl, path: "${OUT}"}
        """, environment: ["OUT": "/x/alerts.jsonl"])
        #expect(c.statePath == "/tmp/s.db")
        #expect(c.sinks.first?.jsonlPath == "/x/alerts.jsonl")
        let p = problems("sinks:\n  out: {type: jsonl, path: \"${NOPE}\"}\n", env: [:])
        #expect(p.map(\.path) == ["sinks.out.path"])
        #expect(p.first?.message.contains("NOPE") == true)
    }

    @Test func badConnectionStringNeverEchoesTheKey() {
        let p = problems("sources:\n  - type: eventhubs\n    connection_string: \"Endpoint=sb://x/;SharedAccessKey=TOPSECRET\"\n")
        #expect(p.contains { $0.path == "sources[0].connection_string" })
        #expect(!VigilConfigError(file: nil, problems: p).description.contains("TOPSECRET"))
    }

    @Test func eventHubsWithEntraCredential() throws {
        let c = try VigilConfig.parse(yaml: """
        sources:
          - type: eventhubs
            namespace: ns2
            hubs: [a, b]
            credential: {type: client_secret, tenant_id: t, client_id: c, client_secret: s}
        """, environment: [:])
        guard case .eventHubs(let e) = c.sources.first else { Issue.record("not an eventhubs source"); return }
        #expect(e.consumer.connection.bootstrapServers == "ns2.servicebus.windows.net:9093")
        #expect(e.consumer.topics == ["a", "b"])
        let p = problems("""
        sources:
          - type: eventhubs
            namespace: ns2
            connection_string: x
            credential: {type: client_secret, tenant_id: t, colour: blue}
        """, env: [:])
        #expect(p.contains { $0.path == "sources[0]" && $0.message.contains("only one") })
        #expect(p.contains { $0.path == "sources[0].credential.colour" })
    }

    @Test func notYAML() {
        let p = problems("sinks: [unclosed\n")
        #expect(p.count == 1)
        #expect(p.first?.message.contains("YAML") == true)
    }

    static let exampleEnvironment = [
        "AZURE_SUBSCRIPTION_ID": "sub", "VIGIL_RESOURCE_GROUP": "rg", "VIGIL_WORKSPACE": "law",
        "VIGIL_DCE_ENDPOINT": "https://dce.example", "VIGIL_DCR_IMMUTABLE_ID": "dcr-0123456789abcdef0123456789abcdef",
        "EVENTHUBS_CONNECTION_STRING": "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0;EntityPath=activity",
        "VIGIL_WEBHOOK_URL": "https://hooks.example/x", "VIGIL_WEBHOOK_SECRET": "s",
        "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "x",
    ]

    @Test(arguments: ["examples/local.yaml", "examples/sentinel.yaml"])
    func examplesLoad(_ relative: String) throws {
        let path = PackageRoot.url.appendingPathComponent(relative).path
        let c = try VigilConfig.load(path: path, environment: Self.exampleEnvironment)
        #expect(!c.sinks.isEmpty)
        #expect(!c.sources.isEmpty)
    }

    @Test func initTemplateLoadsAndCoversEverySourceAndSink() throws {
        var env: [String: String] = [:]
        for k in ConfigTemplate.requiredEnvironment { env[k] = Self.exampleEnvironment[k] ?? "x" }
        let c = try VigilConfig.parse(yaml: ConfigTemplate.text, file: "vigil.yaml", environment: env)
        #expect(Set(c.sinks.map(\.type)) == Set(["jsonl"] + SinkConfiguration.types))
        #expect(Set(c.sources.map { s -> String in if case .file = s { return "file" } else { return "eventhubs" } }) == Set(SourceSettings.types))
        // Without the variables, each is named.
        let p: [VigilConfigError.Problem]
        do { _ = try VigilConfig.parse(yaml: ConfigTemplate.text, environment: [:]); p = [] } catch { p = error.problems }
        for k in ConfigTemplate.requiredEnvironment { #expect(p.contains { $0.message.contains(k) }, "\(k) not named") }
    }

    @Test func durations() {
        #expect(ConfigSection.parseDuration("250ms") == 0.25)
        #expect(ConfigSection.parseDuration("5m") == 300)
        #expect(ConfigSection.parseDuration("1.5h") == 5400)
        #expect(ConfigSection.parseDuration("12") == 12)
        #expect(ConfigSection.parseDuration("soon") == nil)
    }
}
