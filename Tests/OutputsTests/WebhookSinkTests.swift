import Foundation
import Testing
@testable import Outputs

@Suite(.serialized, .enabled(if: LocalAzureServer.available, "python3 is not installed"))
struct WebhookSinkTests {
    @Test func signedPostsVerifyAtTheReceiver() throws {
        let server = try LocalAzureServer(["--webhook-secret", "hook-secret"])
        let sink = WebhookSink(name: "hook", configuration: WebhookConfiguration(url: server.baseURL + "/webhook/vigil", secret: Secret("hook-secret"),
                                                                                 headers: ["X-Api-Key": "k"], http: server.http))
        let item = Payloads.incident("i1", alerts: ["a1"])
        try sink.deliver([Payloads.alert("a1", row: 1), item])
        let got = try server.list("webhook")
        #expect(got.count == 2)
        #expect(got.allSatisfy { $0["signature_valid"] as? Bool == true })
        let headers = try #require(got.last?["headers"] as? [String: String])
        #expect(headers["x-vigil-id"] == "i1")
        #expect(headers["x-vigil-kind"] == "incident")
        #expect(headers["x-api-key"] == "k")
        #expect(Int64(headers["x-vigil-timestamp"] ?? "") ?? 0 > 1_700_000_000)
        #expect(got.last?["body"] as? String == item.payload)
        #expect(WebhookSink.signature(secret: "Jefe", body: Array("what do ya want for nothing?".utf8))
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func rejectionsAndOutages() throws {
        let server = try LocalAzureServer(["--webhook-secret", "right"])
        let wrong = WebhookSink(name: "hook", configuration: WebhookConfiguration(url: server.baseURL + "/webhook", secret: Secret("wrong"), http: server.http))
        let e = try #require(throws: DeliveryError.self) { try wrong.deliver([Payloads.alert("a1")]) }
        #expect(e.disposition == .retry(retryAfter: nil))   // 401: credentials, not the item
        #expect(!e.reason.contains("wrong"))
        let sink = WebhookSink(name: "hook", configuration: WebhookConfiguration(url: server.baseURL + "/webhook", secret: Secret("right"), http: server.http))
        try server.fault(["match": "/webhook", "status": 503, "headers": ["Retry-After": "4"], "count": 1])
        let e2 = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("a1", row: 1), Payloads.alert("a2", row: 2)]) }
        #expect(e2.disposition == .retry(retryAfter: 4))
        try server.fault(["match": "/webhook", "status": 422, "count": 1])
        let e3 = try #require(throws: DeliveryError.self) { try sink.deliver([Payloads.alert("a1", row: 1), Payloads.alert("a2", row: 2)]) }
        #expect(e3.disposition == .permanent)
        #expect(e3.delivered.isEmpty)
        try server.fault(["match": "/webhook", "status": 500, "count": 1, "method": "POST"])
        try? sink.deliver([Payloads.alert("x", row: 5)])
        try sink.deliver([Payloads.alert("a1", row: 1), Payloads.alert("a2", row: 2)])
        #expect(try server.list("webhook").filter { $0["signature_valid"] as? Bool == true }.count >= 2)
    }
}
