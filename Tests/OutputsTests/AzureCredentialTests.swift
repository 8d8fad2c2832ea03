import Foundation
import Testing
@testable import Outputs

@Suite(.serialized, .enabled(if: LocalAzureServer.available, "python3 is not installed"))
struct AzureCredentialTests {
    @Test func clientSecretTokenIsCachedPerScope() throws {
        let server = try LocalAzureServer()
        let credential = try server.credential()
        let a = try credential.token(for: AzureScope.monitor)
        let b = try credential.token(for: AzureScope.monitor)
        let m = try credential.token(for: AzureScope.management)
        #expect(a.token == b.token)
        #expect(a.token != m.token)
        #expect(a.expiresOn > wallClockSeconds() + 3000)
        let requests = try server.list("token_requests")
        #expect(requests.count == 2)
        #expect(requests.first?["grant_type"] as? String == "client_credentials")
        #expect(requests.first?["scope"] as? String == AzureScope.monitor)
        #expect((requests.first?["form_keys"] as? [String]) == ["client_id", "client_secret", "grant_type", "scope"])
        #expect("\(a)".contains("redacted"))
        #expect(!"\(a)".contains(a.token.value))
    }

    @Test func tokenIsRefreshedBeforeExpiry() throws {
        let server = try LocalAzureServer(["--token-lifetime", "200"])
        let credential = try server.credential(refreshMargin: 300)   // 200 s tokens are always "about to expire"
        _ = try credential.token(for: AzureScope.monitor)
        _ = try credential.token(for: AzureScope.monitor)
        #expect(try server.list("token_requests").count == 2)
        let lasting = try server.credential(refreshMargin: 60)
        _ = try lasting.token(for: AzureScope.monitor)
        _ = try lasting.token(for: AzureScope.monitor)
        #expect(try server.list("token_requests").count == 3)
    }

    /// The error of a token request with a wrong `secret`.
    static func rejection(of secret: String, by server: LocalAzureServer) throws -> AuthError? {
        let credential = try AzureCredentialConfiguration(kind: .clientSecret, tenantId: LocalAzureServer.tenant, clientId: LocalAzureServer.clientId,
                                                          clientSecret: Secret(secret), authorityHost: server.baseURL)
            .makeCredential(environment: [:], http: server.http)
        do {
            _ = try credential.token(for: AzureScope.monitor)
            return nil
        } catch {
            return error
        }
    }

    @Test func wrongSecretFailsWithoutLeakingIt() throws {
        let secret = "s3cr3t-that-must-not-leak"
        let error = try #require(try Self.rejection(of: secret, by: LocalAzureServer()), "expected invalid_client")
        #expect(!error.isRetriable)
        #expect(error.reason.contains("invalid_client"))
        #expect(error.reason.contains("AADSTS7000215"))
        #expect(!error.reason.contains(secret))
    }

    /// A token endpoint (or a proxy before it) that echoes the rejected secret in its error body:
    /// the error Vigil logs and stores says "[redacted]" in its place.
    @Test func anEchoedSecretIsRedactedFromTheError() throws {
        let secret = "CLIENTSECRET~q+9/zyx"
        let error = try #require(try Self.rejection(of: secret, by: LocalAzureServer(["--echo-secrets"])), "expected invalid_client")
        #expect(error.reason.contains("Received: client_secret=[redacted]"), "\(error.reason)")
        #expect(!error.reason.contains(secret) && !error.reason.contains(FormEncoding.percentEncode(secret)))
    }

    @Test func workloadIdentityReadsTheFederatedTokenFile() throws {
        let assertion = "eyJhbGciOiJSUzI1NiJ9.federated.assertion"
        let server = try LocalAzureServer(["--assertion", assertion])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-fed-\(UUID().uuidString)").path
        try (assertion + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let env = ["AZURE_TENANT_ID": LocalAzureServer.tenant, "AZURE_CLIENT_ID": LocalAzureServer.clientId,
                   "AZURE_FEDERATED_TOKEN_FILE": file, "AZURE_AUTHORITY_HOST": server.baseURL]
        let credential = try AzureCredentialConfiguration().makeCredential(environment: env, http: server.http)
        _ = try credential.token(for: AzureScope.management)
        let req = try #require(try server.list("token_requests").first)
        #expect(req["client_assertion_type"] as? String == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        #expect((req["form_keys"] as? [String])?.contains("client_secret") == false)
    }

    @Test func managedIdentityUsesIMDS() throws {
        let server = try LocalAzureServer()
        let credential = try AzureCredentialConfiguration(kind: .managedIdentity, imdsEndpoint: server.baseURL + "/metadata/identity/oauth2/token")
            .makeCredential(environment: [:], http: server.http)
        let token = try credential.token(for: AzureScope.monitor)
        #expect(token.expiresOn > wallClockSeconds() + 3000)
        let req = try #require(try server.list("token_requests").first)
        #expect(req["metadata"] as? String == "true")
        let query = try #require(req["query"] as? [String: String])
        #expect(query["api-version"] == "2018-02-01")
        #expect(query["resource"] == "https://monitor.azure.com/")
    }

    @Test func environmentChainPicksTheCredential() throws {
        // Nothing set → managed identity; a missing tenant for a secret is a located config error.
        #expect(throws: ConfigError.self) {
            _ = try AzureCredentialConfiguration(kind: .clientSecret, clientSecret: Secret("x")).makeCredential(environment: [:])
        }
        #expect(AzureScope.resource(forScope: "https://management.azure.com/.default") == "https://management.azure.com/")
        #expect(AzureScope.resource(forScope: "https://monitor.azure.com//.default") == "https://monitor.azure.com/")
    }
}
