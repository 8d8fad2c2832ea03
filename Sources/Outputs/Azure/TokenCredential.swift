// Entra ID access tokens for the Azure APIs the sinks call.
//
// Invariants:
// - A credential caches one token per scope and refreshes it `refreshMargin` seconds (default
//   300) before it expires, so callers can ask for a token before every request.
// - Secrets (client secret, federated assertion, tokens) never appear in errors, logs or
//   `description`s: `Secret` prints as `<redacted>`, and token-endpoint failures report only
//   Entra's `error`/`error_description`.
// - Credentials are thread-safe: the HTTP client and the cache live behind one `Mutex`.
import FastJSON
import Logging
import Synchronization

/// A string that never prints its value.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

public struct AccessToken: Sendable, CustomStringConvertible {
    public var token: Secret
    /// Seconds since the epoch.
    public var expiresOn: Double
    public init(token: String, expiresOn: Double) {
        self.token = Secret(token)
        self.expiresOn = expiresOn
    }
    public var description: String { "AccessToken(<redacted>, expires_on: \(Int(expiresOn)))" }
}

public struct AuthError: Error, Sendable, CustomStringConvertible {
    /// Whether asking again later may work (network trouble, 5xx, throttling).
    public var isRetriable: Bool
    public var reason: String
    public init(isRetriable: Bool, reason: String) {
        self.isRetriable = isRetriable
        self.reason = reason
    }
    public var description: String { reason }

    /// This error with every occurrence of `secrets` (as sent: plain and form-encoded) replaced: a
    /// token endpoint, or a proxy in front of it, may echo the request in its error body.
    func redacting(_ secrets: [String]) -> AuthError {
        var text = reason
        for secret in secrets where secret.count >= 4 {
            for spelling in [secret, FormEncoding.percentEncode(secret)] {
                text = text.replacingOccurrences(of: spelling, with: "[redacted]")
            }
        }
        return AuthError(isRetriable: isRetriable, reason: text)
    }
}

/// Gives bearer tokens for a scope such as `https://monitor.azure.com/.default`.
public protocol TokenCredential: Sendable {
    func token(for scope: String) throws(AuthError) -> AccessToken
    /// Drops the cached token for `scope` (after a 401), so the next call fetches a new one.
    func invalidate(scope: String)
}

public enum AzureScope {
    public static let management = "https://management.azure.com/.default"
    public static let monitor = "https://monitor.azure.com/.default"

    /// The v1 `resource` for a v2 scope (IMDS takes a resource): strips `/.default`, keeps a trailing slash.
    public static func resource(forScope scope: String) -> String {
        var s = scope
        if s.hasSuffix(".default") { s.removeLast(".default".count) }
        while s.hasSuffix("/") { s.removeLast() }
        return s + "/"
    }
}

/// How a credential obtains a token when its cache is empty or stale.
protocol TokenFetcher: Sendable {
    func fetch(scope: String, client: HTTPClient) throws(AuthError) -> AccessToken
}

/// The caching wrapper every credential kind shares.
final class CachingCredential: TokenCredential {
    private struct State {
        var client: HTTPClient?
        var cache: [String: AccessToken] = [:]
    }
    private let state = Mutex(State())
    private let fetcher: any TokenFetcher
    private let http: HTTPClientConfiguration
    private let refreshMargin: Double
    private let clock: @Sendable () -> Double
    private let logger: Logger

    init(fetcher: any TokenFetcher, http: HTTPClientConfiguration, refreshMargin: Double = 300,
         clock: @escaping @Sendable () -> Double = wallClockSeconds, logger: Logger) {
        self.fetcher = fetcher
        self.http = http
        self.refreshMargin = refreshMargin
        self.clock = clock
        self.logger = logger
    }

    func token(for scope: String) throws(AuthError) -> AccessToken {
        let now = clock()
        return try state.withLock { (s: inout State) throws(AuthError) -> AccessToken in
            if let cached = s.cache[scope], cached.expiresOn - refreshMargin > now { return cached }
            if s.client == nil {
                do { s.client = try HTTPClient(configuration: http, logger: logger) } catch {
                    throw AuthError(isRetriable: false, reason: "cannot create HTTP client: \(error)")
                }
            }
            let fresh = try fetcher.fetch(scope: scope, client: s.client!)
            logger.debug("token acquired", metadata: ["scope": "\(scope)", "expires_in": "\(Int(fresh.expiresOn - now))"])
            s.cache[scope] = fresh
            return fresh
        }
    }

    func invalidate(scope: String) {
        state.withLock { _ = $0.cache.removeValue(forKey: scope) }
    }
}

/// Shared parsing of token-endpoint responses (Entra v2 and IMDS).
enum TokenResponse {
    static func parse(_ response: HTTPResponse, endpoint: String, now: Double) throws(AuthError) -> AccessToken {
        let doc = try? JSONDocument.parse(response.body)
        guard response.isSuccess else {
            // Entra: {"error":"invalid_client","error_description":"AADSTS7000215: …"}; never echo the request.
            let code = doc?.root["error"]?.string ?? ""
            var message = doc?.root["error_description"]?.string ?? ""
            if let cut = message.firstIndex(of: "\r") ?? message.firstIndex(of: "\n") { message = String(message[..<cut]) }
            let retriable = response.status == 429 || response.status >= 500 || response.status == 408
            throw AuthError(isRetriable: retriable, reason: "token request to \(endpoint) failed: HTTP \(response.status) \(code) \(message)".trimmedASCII)
        }
        guard let root = doc?.root, let token = root["access_token"]?.string, !token.isEmpty else {
            throw AuthError(isRetriable: true, reason: "token response from \(endpoint) has no access_token")
        }
        // Entra sends expires_in as a number; IMDS sends strings and also expires_on (epoch seconds).
        func number(_ key: String) -> Double? {
            guard let v = root[key] else { return nil }
            return v.double ?? v.string.flatMap { Double($0) }
        }
        let expiresOn = number("expires_on") ?? number("expires_in").map { now + $0 } ?? now + 300
        return AccessToken(token: token, expiresOn: expiresOn)
    }

    static func transport(_ error: HTTPError, endpoint: String) -> AuthError {
        AuthError(isRetriable: true, reason: "token request to \(endpoint) failed: \(error)")
    }
}
