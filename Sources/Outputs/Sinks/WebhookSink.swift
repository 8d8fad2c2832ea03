// Webhook: one JSON POST per outbox item, body = the item's payload exactly.
//
// Headers: Content-Type: application/json, X-Vigil-Timestamp (Unix seconds), X-Vigil-Id (the
// alert/incident id: the receiver's idempotency key), X-Vigil-Revision, and — when a secret is
// configured — X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, body)>. 2xx = accepted;
// 408/429/5xx/transport errors retry (Retry-After honoured); other statuses are permanent.
import Logging
import Synchronization

public struct WebhookConfiguration: Sendable, Equatable {
    public var url: String
    /// HMAC key for X-Vigil-Signature; nil sends no signature.
    public var secret: Secret?
    /// Extra headers (e.g. an API key for the receiver). Values are never logged.
    public var headers: [String: String]
    public var maxBatch: Int
    public var http: HTTPClientConfiguration

    public init(url: String, secret: Secret? = nil, headers: [String: String] = [:], maxBatch: Int = 50,
                http: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.url = url
        self.secret = secret
        self.headers = headers
        self.maxBatch = maxBatch
        self.http = http
    }

    /// Keys: url, secret, headers (map), max_batch, + HTTP keys.
    init(reading r: inout ConfigReader) throws(ConfigError) {
        self.init(url: try r.requiredString("url"))
        secret = try r.string("secret").flatMap { $0.isEmpty ? nil : Secret($0) }
        if var h = try r.child("headers") {
            for key in h.map.keys.sorted() { headers[key] = try h.string(key) ?? "" }
            try h.finish()
        }
        if let v = try r.int("max_batch") { maxBatch = v }
        http = try r.httpConfiguration()
    }
}

public final class WebhookSink: Sink, @unchecked Sendable {
    public let name: String
    public let configuration: WebhookConfiguration
    public var maxBatch: Int { configuration.maxBatch }
    private let client: Mutex<HTTPClient?>
    private let logger: Logger
    private let clock: @Sendable () -> Double

    public init(name: String, configuration: WebhookConfiguration, logger: Logger = Logger(label: "vigil.sink.webhook"),
                clock: @escaping @Sendable () -> Double = wallClockSeconds) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.client = Mutex(nil)
    }

    /// `sha256=<hex>` for `body` under `secret`.
    public static func signature(secret: String, body: [UInt8]) -> String {
        "sha256=" + HMACSHA256.hex(HMACSHA256.mac(key: Array(secret.utf8), message: body))
    }

    public func deliver(_ batch: [OutboxItem]) throws(DeliveryError) {
        var delivered: [Int64] = []
        try client.withLock { (c: inout HTTPClient?) throws(DeliveryError) in
            if c == nil {
                do { c = try HTTPClient(configuration: configuration.http, logger: logger) } catch {
                    throw DeliveryError(.retry(retryAfter: nil), "webhook: cannot create HTTP client: \(error)")
                }
            }
            for item in batch {
                let body = Array(item.payload.utf8)
                var headers: [(name: String, value: String)] = [
                    ("Content-Type", "application/json"),
                    ("X-Vigil-Timestamp", String(Int64(clock()))),
                    ("X-Vigil-Id", item.objectId),
                    ("X-Vigil-Kind", item.kind.rawValue),
                    ("X-Vigil-Revision", String(item.revision)),
                ]
                if let secret = configuration.secret { headers.append(("X-Vigil-Signature", Self.signature(secret: secret.value, body: body))) }
                for (k, v) in configuration.headers.sorted(by: { $0.key < $1.key }) { headers.append((k, v)) }
                let response: HTTPResponse
                do throws(DeliveryError) {
                    response = try HTTPDelivery.send(c!, HTTPRequest(method: "POST", url: configuration.url, headers: headers, body: body))
                } catch {
                    throw DeliveryError(error.disposition, error.reason, delivered: delivered)
                }
                guard response.isSuccess else { throw HTTPDelivery.failure(response, "webhook", delivered: delivered) }
                delivered.append(item.rowId)
            }
        }
    }
}
