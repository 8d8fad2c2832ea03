// The three ways Vigil signs in to Entra ID, and how configuration picks one.
//
// - Client secret: POST {authority}/{tenant}/oauth2/v2.0/token, grant_type=client_credentials.
// - Workload identity federation: the same endpoint with client_assertion = the contents of
//   AZURE_FEDERATED_TOKEN_FILE (re-read on every fetch: the kubelet rotates it).
// - Managed identity: GET {imds}?api-version=2018-02-01&resource=… with `Metadata: true`.
import Glibc
import Logging

/// Client-credentials flow against the Entra v2 token endpoint (secret or federated assertion).
struct EntraClientCredentialFetcher: TokenFetcher {
    enum Proof: Sendable {
        case secret(Secret)
        case assertionFile(String)
    }
    var authorityHost: String
    var tenantId: String
    var clientId: String
    var proof: Proof

    var endpoint: String {
        var host = authorityHost
        while host.hasSuffix("/") { host.removeLast() }
        return "\(host)/\(tenantId)/oauth2/v2.0/token"
    }

    func fetch(scope: String, client: HTTPClient) throws(AuthError) -> AccessToken {
        var form: [(String, String)] = [("grant_type", "client_credentials"), ("client_id", clientId), ("scope", scope)]
        var sent: [String] = []
        switch proof {
        case .secret(let secret):
            form.append(("client_secret", secret.value))
            sent.append(secret.value)
        case .assertionFile(let path):
            guard let assertion = readTextFile(path)?.trimmedASCII, !assertion.isEmpty else {
                throw AuthError(isRetriable: true, reason: "federated token file \(path) is missing or empty")
            }
            form.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            form.append(("client_assertion", assertion))
            sent.append(assertion)
        }
        let request = HTTPRequest(method: "POST", url: endpoint, headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
        ], body: FormEncoding.form(form))
        let now = wallClockSeconds()
        let response: HTTPResponse
        do { response = try client.send(request) } catch { throw TokenResponse.transport(error, endpoint: endpoint).redacting(sent) }
        do { return try TokenResponse.parse(response, endpoint: endpoint, now: now) } catch { throw error.redacting(sent) }
    }
}

/// Azure Instance Metadata Service (VMs, VM scale sets, AKS node identity, Arc).
struct ManagedIdentityFetcher: TokenFetcher {
    var endpoint: String
    /// For a user-assigned identity; nil selects the system-assigned one.
    var clientId: String?

    func fetch(scope: String, client: HTTPClient) throws(AuthError) -> AccessToken {
        var url = "\(endpoint)?api-version=2018-02-01&resource=\(FormEncoding.percentEncode(AzureScope.resource(forScope: scope)))"
        if let clientId { url += "&client_id=\(FormEncoding.percentEncode(clientId))" }
        let now = wallClockSeconds()
        let response: HTTPResponse
        do {
            response = try client.send(HTTPRequest(method: "GET", url: url, headers: [("Metadata", "true")]))
        } catch {
            throw TokenResponse.transport(error, endpoint: endpoint)
        }
        return try TokenResponse.parse(response, endpoint: endpoint, now: now)
    }
}

/// Which credential to use, from the config file and/or the Azure SDK environment variables.
public struct AzureCredentialConfiguration: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// Pick like the Azure SDK's EnvironmentCredential → WorkloadIdentity → ManagedIdentity chain.
        case environment
        case clientSecret = "client_secret"
        case workloadIdentity = "workload_identity"
        case managedIdentity = "managed_identity"
    }
    public static let defaultAuthorityHost = "https://login.microsoftonline.com"
    public static let defaultIMDSEndpoint = "http://169.254.169.254/metadata/identity/oauth2/token"

    public var kind: Kind
    public var tenantId: String?
    public var clientId: String?
    public var clientSecret: Secret?
    public var authorityHost: String?
    public var federatedTokenFile: String?
    public var imdsEndpoint: String?
    /// Seconds before expiry at which a cached token is replaced.
    public var refreshMargin: Double

    public init(kind: Kind = .environment, tenantId: String? = nil, clientId: String? = nil, clientSecret: Secret? = nil,
                authorityHost: String? = nil, federatedTokenFile: String? = nil, imdsEndpoint: String? = nil,
                refreshMargin: Double = 300) {
        self.kind = kind
        self.tenantId = tenantId
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.authorityHost = authorityHost
        self.federatedTokenFile = federatedTokenFile
        self.imdsEndpoint = imdsEndpoint
        self.refreshMargin = refreshMargin
    }

    /// Builds the credential. Config values win over AZURE_TENANT_ID, AZURE_CLIENT_ID,
    /// AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST, AZURE_FEDERATED_TOKEN_FILE.
    public func makeCredential(environment: [String: String], http: HTTPClientConfiguration = HTTPClientConfiguration(),
                               logger: Logger = Logger(label: "vigil.azure")) throws(ConfigError) -> any TokenCredential {
        func env(_ k: String) -> String? { environment[k].flatMap { $0.isEmpty ? nil : $0 } }
        let tenant = tenantId ?? env("AZURE_TENANT_ID")
        let client = clientId ?? env("AZURE_CLIENT_ID")
        let secret = clientSecret ?? env("AZURE_CLIENT_SECRET").map(Secret.init)
        let authority = authorityHost ?? env("AZURE_AUTHORITY_HOST") ?? Self.defaultAuthorityHost
        let tokenFile = federatedTokenFile ?? env("AZURE_FEDERATED_TOKEN_FILE")
        var resolved = kind
        if kind == .environment {
            if secret != nil { resolved = .clientSecret } else if tokenFile != nil { resolved = .workloadIdentity } else { resolved = .managedIdentity }
        }
        func need(_ v: String?, _ key: String, _ envName: String) throws(ConfigError) -> String {
            guard let v else { throw ConfigError(path: "credential.\(key)", message: "\(resolved.rawValue) credential needs \(key) (or \(envName))") }
            return v
        }
        let fetcher: any TokenFetcher
        switch resolved {
        case .clientSecret:
            guard let secret else { throw ConfigError(path: "credential.client_secret", message: "client_secret credential needs client_secret (or AZURE_CLIENT_SECRET)") }
            fetcher = EntraClientCredentialFetcher(authorityHost: authority, tenantId: try need(tenant, "tenant_id", "AZURE_TENANT_ID"),
                                                   clientId: try need(client, "client_id", "AZURE_CLIENT_ID"), proof: .secret(secret))
        case .workloadIdentity:
            fetcher = EntraClientCredentialFetcher(authorityHost: authority, tenantId: try need(tenant, "tenant_id", "AZURE_TENANT_ID"),
                                                   clientId: try need(client, "client_id", "AZURE_CLIENT_ID"),
                                                   proof: .assertionFile(try need(tokenFile, "federated_token_file", "AZURE_FEDERATED_TOKEN_FILE")))
        case .managedIdentity, .environment:
            var endpoint = imdsEndpoint ?? Self.defaultIMDSEndpoint
            if imdsEndpoint == nil, let host = env("AZURE_POD_IDENTITY_AUTHORITY_HOST") {
                endpoint = (host.hasSuffix("/") ? String(host.dropLast()) : host) + "/metadata/identity/oauth2/token"
            }
            fetcher = ManagedIdentityFetcher(endpoint: endpoint, clientId: client)
        }
        // IMDS is link-local: a proxy must never see it.
        var httpConfig = http
        if resolved == .managedIdentity { httpConfig.proxy = nil; httpConfig.noProxy = "*" }
        return CachingCredential(fetcher: fetcher, http: httpConfig, refreshMargin: refreshMargin, logger: logger)
    }
}

/// Reads a whole small text file (federated tokens, CA checks), nil when unreadable.
func readTextFile(_ path: String) -> String? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
