import Foundation
import Testing
@testable import Outputs

@Suite(.serialized) struct HTTPClientTests {
    @Test func retryAfterSecondsAndDates() {
        #expect(RetryAfter.parse("120", now: 0) == 120)
        #expect(RetryAfter.parse(" 2 ", now: 0) == 2)
        // RFC 9110's example date: Sun, 06 Nov 1994 08:49:37 GMT = 784111777.
        #expect(RetryAfter.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(RetryAfter.httpDate("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(RetryAfter.httpDate("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:47 GMT", now: 784_111_777) == 10)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_800) == 0)
        #expect(RetryAfter.parse("soon", now: 0) == nil)
        #expect(RetryAfter.parse("-5", now: 0) == nil)
    }

    @Test func gzipRoundTrip() throws {
        let text = Array(String(repeating: "{\"TimeGenerated\":\"2025-01-01T00:00:00Z\"},", count: 2000).utf8)
        let packed = Gzip.compress(text)
        #expect(packed.count < text.count / 10)
        #expect(packed.prefix(2) == [0x1F, 0x8B])
        #expect(Gzip.decompress(packed) == text)
        #expect(Gzip.decompress(Array(packed.dropLast(9))) == nil)
        #expect(Gzip.decompress(Gzip.compress(Array("ab".utf8)) + Gzip.compress(Array("cd".utf8))) == Array("abcd".utf8))
    }

    @Test func hmacMatchesRFC4231() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(HMACSHA256.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func formEncodingIsRFC3986() {
        #expect(FormEncoding.percentEncode("https://monitor.azure.com/.default") == "https%3A%2F%2Fmonitor.azure.com%2F.default")
        #expect(String(decoding: FormEncoding.form([("a", "b c"), ("k", "x&y=z~")]), as: UTF8.self) == "a=b%20c&k=x%26y%3Dz~")
    }

    @Test func refusedConnectionIsRetriable() throws {
        // Bind then close a port so nothing listens on it.
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        close(s)
        let port = UInt16(bigEndian: addr.sin_port)
        let client = try HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: 2, timeout: 2))
        do {
            _ = try client.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/"))
            Issue.record("expected a connection error")
        } catch {
            #expect(error.kind == .connect)
            #expect(error.isRetriable)
        }
    }

    @Test(.enabled(if: LocalAzureServer.available, "python3 is not installed"))
    func timeoutResetAndReuse() throws {
        let server = try LocalAzureServer()
        let client = try HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: 2, timeout: 0.5))
        try server.fault(["match": "/webhook/slow", "action": "slow", "delay": 2, "count": 1])
        do {
            _ = try client.send(HTTPRequest(method: "POST", url: server.baseURL + "/webhook/slow", body: Array("{}".utf8)))
            Issue.record("expected a timeout")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.isRetriable)
        }
        try server.fault(["match": "/webhook/reset", "action": "reset", "count": 1])
        do {
            _ = try client.send(HTTPRequest(method: "POST", url: server.baseURL + "/webhook/reset", body: Array("{}".utf8)))
            Issue.record("expected a reset")
        } catch {
            #expect(error.kind == .connectionLost || error.kind == .other)
            #expect(error.isRetriable)
        }
        // Status, headers and body come back; Retry-After is parsed.
        try server.fault(["match": "/webhook/busy", "status": 429, "headers": ["Retry-After": "7"], "count": 1])
        let busy = try client.send(HTTPRequest(method: "POST", url: server.baseURL + "/webhook/busy", body: Array("{}".utf8)))
        #expect(busy.status == 429)
        #expect(busy.retryAfter() == 7)
        #expect(busy.bodyText.contains("InjectedFault"))
        // Two requests on one client share one connection (same client port on the server side).
        let ok1 = try client.send(HTTPRequest(method: "POST", url: server.baseURL + "/webhook/a", body: Array("{}".utf8)))
        let ok2 = try client.send(HTTPRequest(method: "POST", url: server.baseURL + "/webhook/b", body: Array("{}".utf8)))
        #expect(ok1.status == 200 && ok2.status == 200)
    }

    @Test(.enabled(if: LocalAzureServer.available, "python3 is not installed"))
    func tlsNeedsTheCABundle() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-tls-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try LocalAzureServer(["--tls-dir", dir])
        #expect(server.scheme == "https")
        let strict = try HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: 2, timeout: 5))
        do {
            _ = try strict.send(HTTPRequest(method: "POST", url: server.baseURL + "/webhook/x", body: Array("{}".utf8)))
            Issue.record("a self-signed server must be refused without the CA")
        } catch {
            #expect(error.kind == .tls)
            #expect(!error.isRetriable)
        }
        let trusting = try HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: 2, timeout: 5, caBundle: server.caPath))
        let r = try trusting.send(HTTPRequest(method: "POST", url: server.baseURL + "/webhook/x", body: Array("{}".utf8)))
        #expect(r.status == 200)
    }
}
