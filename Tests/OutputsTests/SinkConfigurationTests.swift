import Testing
@testable import Outputs

@Suite struct SinkConfigurationTests {
    let env = ["DCE": "https://my-dce.eastus-1.ingest.monitor.azure.com", "DCR": "dcr-0123456789abcdef0123456789abcdef",
               "SUB": "00000000-0000-0000-0000-000000000001", "HOOK_SECRET": "s"]

    @Test func expandsEnvironmentVariables() throws {
        #expect(try ProcessEnvironment.expand("${DCE}/x", environment: env, path: "p") == "https://my-dce.eastus-1.ingest.monitor.azure.com/x")
        #expect(try ProcessEnvironment.expand("${NOPE:-fallback}", environment: env, path: "p") == "fallback")
        #expect(try ProcessEnvironment.expand("$$HOME", environment: env, path: "p") == "$HOME")
        let e = try #require(throws: ConfigError.self) { try ProcessEnvironment.expand("${NOPE}", environment: env, path: "sinks.x.url") }
        #expect(e.path == "sinks.x.url")
        #expect(e.message.contains("NOPE"))
    }

    @Test func parsesEverySinkType() throws {
        let logs = ConfigValue.map(["type": .string("logs_ingestion"), "endpoint": .string("${DCE}"), "dcr_immutable_id": .string("${DCR}"),
                                    "incidents_stream_name": .string(""), "timeout": .number(30), "ca_bundle": .string("/etc/ca.pem"),
                                    "credential": .map(["type": .string("managed_identity"), "client_id": .string("abc")])])
        guard case .logsIngestion(let l) = try SinkConfiguration.parse(logs, path: "sinks.logs", environment: env) else { Issue.record("wrong kind"); return }
        #expect(l.endpoint == env["DCE"])
        #expect(l.alertsStreamName == "Custom-VigilAlerts_CL")
        #expect(l.incidentsStreamName == nil)
        #expect(l.http.timeout == 30 && l.http.caBundle == "/etc/ca.pem" && l.http.verifyTLS)
        #expect(l.credential.kind == .managedIdentity && l.credential.clientId == "abc")

        let sentinel = ConfigValue.map(["type": .string("sentinel_incidents"), "subscription_id": .string("${SUB}"),
                                        "resource_group_name": .string("rg"), "workspace_name": .string("law")])
        guard case .sentinelIncidents(let s) = try SinkConfiguration.parse(sentinel, path: "sinks.sentinel", environment: env) else { Issue.record("wrong kind"); return }
        #expect(s.baseURL == "https://management.azure.com/subscriptions/\(env["SUB"]!)/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law/providers/Microsoft.SecurityInsights")
        #expect(s.apiVersion == "2025-12-01")

        let cef = ConfigValue.map(["type": .string("cef_syslog"), "host": .string("fwd"), "port": .string("28330"), "transport": .string("udp"), "facility": .string("local4")])
        guard case .cefSyslog(let c) = try SinkConfiguration.parse(cef, path: "sinks.cef", environment: env) else { Issue.record("wrong kind"); return }
        #expect(c.port == 28330 && c.transport == .udp && c.facility == 20 && c.maxMessageBytes == 8192)

        let hook = ConfigValue.map(["type": .string("webhook"), "url": .string("https://h/x"), "secret": .string("${HOOK_SECRET}")])
        guard case .webhook(let w) = try SinkConfiguration.parse(hook, path: "sinks.hook", environment: env) else { Issue.record("wrong kind"); return }
        #expect(w.secret?.value == "s")
        #expect("\(w.secret!)" == "<redacted>")

        guard case .other(let type, _) = try SinkConfiguration.parse(.map(["type": .string("jsonl"), "path": .string("-")]), path: "sinks.out", environment: env) else {
            Issue.record("jsonl is built by the caller"); return
        }
        #expect(type == "jsonl")
    }

    @Test func errorsNameTheirKey() throws {
        let typo = ConfigValue.map(["type": .string("sentinel_incidents"), "subscription_id": .string("s"), "resource_group_name": .string("rg"),
                                    "workspace_name": .string("w"), "workspce": .string("oops")])
        let e1 = try #require(throws: ConfigError.self) { try SinkConfiguration.parse(typo, path: "sinks.sentinel", environment: [:]) }
        #expect(e1.description == "sinks.sentinel.workspce: unknown key")
        let armId = ConfigValue.map(["type": .string("logs_ingestion"), "endpoint": .string("https://x"), "dcr_immutable_id": .string("/subscriptions/x/dcr")])
        let e2 = try #require(throws: ConfigError.self) { try SinkConfiguration.parse(armId, path: "sinks.logs", environment: [:]) }
        #expect(e2.path == "sinks.logs.dcr_immutable_id")
        let missing = ConfigValue.map(["type": .string("webhook")])
        let e3 = try #require(throws: ConfigError.self) { try SinkConfiguration.parse(missing, path: "sinks.hook", environment: [:]) }
        #expect(e3.path == "sinks.hook.url")
        let cred = ConfigValue.map(["type": .string("logs_ingestion"), "endpoint": .string("https://x"), "dcr_immutable_id": .string("dcr-1"),
                                    "credential": .map(["type": .string("password")])])
        let e4 = try #require(throws: ConfigError.self) { try SinkConfiguration.parse(cred, path: "sinks.logs", environment: [:]) }
        #expect(e4.path == "sinks.logs.credential.type")
    }

    @Test func factoryBuildsSinks() throws {
        let hook = try makeSink(name: "hook", config: .map(["type": .string("webhook"), "url": .string("http://127.0.0.1:9/x")]), environment: env)
        #expect(hook.name == "hook" && hook is WebhookSink)
        let logs = try makeSink(name: "logs", config: .map(["type": .string("logs_ingestion"), "endpoint": .string("${DCE}"), "dcr_immutable_id": .string("${DCR}"),
                                                             "credential": .map(["type": .string("client_secret"), "tenant_id": .string("t"),
                                                                                 "client_id": .string("c"), "client_secret": .string("x")])]), environment: env)
        #expect(logs.maxBatch == 500)
        #expect(throws: ConfigError.self) { _ = try makeSink(name: "out", config: .map(["type": .string("jsonl")]), environment: env) }
    }
}
