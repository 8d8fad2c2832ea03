import Foundation
import Testing
@testable import Outputs

@Suite(.serialized) struct CEFSyslogSinkTests {
    @Test func escaping() {
        #expect(CEFFormat.escapeHeader(#"a|b\c"#) == #"a\|b\\c"#)
        #expect(CEFFormat.escapeHeader("line1\nline2") == "line1 line2")
        #expect(CEFFormat.escapeExtension(#"k=v\x"#) == #"k\=v\\x"#)
        #expect(CEFFormat.escapeExtension("a\nb\rc") == #"a\nb\rc"#)
        #expect(CEFFormat.escapeExtension("pipes | stay") == "pipes | stay")
    }

    @Test func messageShape() throws {
        let payload = try SinkPayload.parse(Payloads.alert("a1", rule: "r|1", title: "Keys listed"))
        let msg = String(decoding: CEFFormat.syslogMessage(payload, facility: 16, hostname: "vigil-host", appName: "vigil", now: 1_741_079_702.5, maxBytes: 8192), as: UTF8.self)
        #expect(msg.hasPrefix("<131>1 2025-03-04T09:15:02.5Z vigil-host vigil - alert - CEF:0|Vigil|Vigil|0.1|r\\|1|Keys listed|8|"))
        #expect(msg.contains("rt=1741079702000"))
        #expect(msg.contains("suser=mallory@contoso.example"))
        #expect(msg.contains("src=203.0.113.7"))
        #expect(msg.contains("cs1Label=RuleId cs1=r|1"))
        let capped = CEFFormat.syslogMessage(try SinkPayload.parse(Payloads.alert("a2", description: String(repeating: "d", count: 10_000))),
                                             facility: 16, hostname: "h", appName: "vigil", now: 0, maxBytes: 2048)
        #expect(capped.count <= 2048)
    }

    func records(_ server: LocalAzureServer, count: Int) throws -> [[String: Any]] {
        for _ in 0..<100 {
            let r = try server.list("syslog")
            if r.count >= count { return r }
            usleep(20_000)
        }
        return try server.list("syslog")
    }

    @Test(.enabled(if: LocalAzureServer.available, "python3 is not installed"))
    func tcpOctetCountingRoundTripsThroughAParser() throws {
        let server = try LocalAzureServer()
        let sink = CEFSyslogSink(name: "cef", configuration: CEFSyslogConfiguration(host: "127.0.0.1", port: server.tcpPort, hostname: "vigil-host"))
        try sink.deliver([Payloads.alert("a1", description: "tricky | pipe = equals \\ slash\nnewline", row: 1),
                          Payloads.incident("i1", alerts: ["a1"], row: 2)])
        let got = try records(server, count: 2)
        #expect(got.count == 2)
        #expect((try server.state()["syslog_rejects"] as? Int) == 0)
        let alert = try #require(got.first)
        #expect(alert["framing"] as? String == "octet_counting")
        #expect(alert["facility"] as? Int == 16)
        #expect(alert["msgid"] as? String == "alert")
        let cef = try #require(alert["cef"] as? [String: Any])
        #expect(cef["vendor"] as? String == "Vigil")
        #expect(cef["signature"] as? String == "aml-listkeys")
        #expect(cef["severity"] as? String == "8")
        let ext = try #require(cef["ext"] as? [String: String])
        #expect(ext["msg"] == "tricky | pipe = equals \\ slash\nnewline")
        #expect(ext["cs1"] == "aml-listkeys")
        #expect(ext["externalId"] == "a1")
        #expect(ext["cs5"]?.hasSuffix("/workspaces/ws1") == true)
        let incident = try #require((got.last?["cef"] as? [String: Any])?["ext"] as? [String: String])
        #expect(incident["act"] == "New")
        #expect(incident["cs4"] == "i1")
        #expect(incident["cn1"] == "1")
        try sink.close()
    }

    @Test(.enabled(if: LocalAzureServer.available, "python3 is not installed"))
    func lfFramingUDPAndReconnect() throws {
        let server = try LocalAzureServer()
        let lf = CEFSyslogSink(name: "cef", configuration: CEFSyslogConfiguration(host: "127.0.0.1", port: server.tcpPort, framing: .lf))
        try lf.deliver([Payloads.alert("lf1")])
        let udp = CEFSyslogSink(name: "cef", configuration: CEFSyslogConfiguration(host: "127.0.0.1", port: server.udpPort, transport: .udp))
        try udp.deliver([Payloads.alert("udp1")])
        var got = try records(server, count: 2)
        #expect(Set(got.compactMap { $0["transport"] as? String }) == ["tcp", "udp"])
        #expect(got.contains { $0["framing"] as? String == "lf" })

        // The receiver drops the connection (a restart): the next batch reconnects and arrives.
        try server.post("/_control/syslog_close")
        usleep(100_000)
        try lf.deliver([Payloads.alert("lf2")])
        got = try records(server, count: 3)
        #expect(got.contains { (($0["cef"] as? [String: Any])?["ext"] as? [String: String])?["externalId"] == "lf2" })

        // Nobody listening: a retriable error.
        server.stop()
        usleep(100_000)
        let e = try #require(throws: DeliveryError.self) { try lf.deliver([Payloads.alert("lf3")]); try lf.deliver([Payloads.alert("lf4")]) }
        #expect(e.disposition == .retry(retryAfter: nil))
    }
}
