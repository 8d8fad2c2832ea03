// One HTTP client plus a bearer credential: what the Azure sinks share.
//
// Not thread-safe (it owns an `HTTPClient`): a sink keeps it inside its `Mutex`.
// Mapping to `DeliveryError` follows one rule: only the target rejecting *the item* is
// permanent. Transport failures, token failures, 401s, 408, 429 and 5xx are retriable, so a
// misconfiguration or an outage never dead-letters good data before the outbox's caps.
import Logging

final class AzureHTTPSession {
    let client: HTTPClient
    let credential: any TokenCredential
    let scope: String
    let logger: Logger

    init(http: HTTPClientConfiguration, credential: any TokenCredential, scope: String, logger: Logger) throws(ConfigError) {
        do { client = try HTTPClient(configuration: http, logger: logger) } catch {
            throw ConfigError(path: "http", message: "cannot create HTTP client: \(error)")
        }
        self.credential = credential
        self.scope = scope
        self.logger = logger
    }

    /// Sends with `Authorization: Bearer …`; on 401 fetches a new token and tries once more.
    func send(_ request: HTTPRequest) throws(DeliveryError) -> HTTPResponse {
        var response = try sendOnce(request)
        if response.status == 401 {
            logger.info("401 from target: refreshing token", metadata: ["url": "\(HTTPClient.redactedURL(request.url))"])
            credential.invalidate(scope: scope)
            response = try sendOnce(request)
        }
        return response
    }

    private func sendOnce(_ request: HTTPRequest) throws(DeliveryError) -> HTTPResponse {
        let token: AccessToken
        do { token = try credential.token(for: scope) } catch {
            throw DeliveryError(.retry(retryAfter: nil), "cannot get a token for \(scope): \(error.reason)")
        }
        // Same request headers as Azure's SDKs (checked by Tests/TestServers/sdk_crosscheck.py).
        var r = request
        r.headers.append(("Accept", "application/json"))
        r.headers.append(("x-ms-client-request-id", RandomID.uuid()))
        r.headers.append(("Authorization", "Bearer \(token.token.value)"))
        return try HTTPDelivery.send(client, r)
    }
}

enum HTTPDelivery {
    /// Sends; a transport failure becomes a retriable `DeliveryError`.
    static func send(_ client: HTTPClient, _ request: HTTPRequest) throws(DeliveryError) -> HTTPResponse {
        do { return try client.send(request) } catch {
            throw DeliveryError(.retry(retryAfter: nil), "\(request.method) \(HTTPClient.redactedURL(request.url)): \(error)")
        }
    }

    /// The error for a non-success response: retry for 401/408/429/5xx (honouring Retry-After),
    /// permanent for other statuses, with (a bounded piece of) the response body as the reason.
    static func failure(_ response: HTTPResponse, _ what: String, delivered: [Int64] = []) -> DeliveryError {
        var body = response.bodyText
        if body.utf8.count > 2048 { body = String(decoding: Array(body.utf8.prefix(2048)), as: UTF8.self) + "…" }
        let reason = "\(what): HTTP \(response.status) \(body)".trimmedASCII
        if isRetriable(response.status) {
            return DeliveryError(.retry(retryAfter: response.retryAfter()), reason, delivered: delivered)
        }
        return DeliveryError(.permanent, reason, delivered: delivered)
    }

    static func isRetriable(_ status: Int) -> Bool {
        status == 401 || status == 408 || status == 429 || status >= 500 || status < 200
    }
}
