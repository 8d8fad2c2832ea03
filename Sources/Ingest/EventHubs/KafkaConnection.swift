/// Where a Kafka client connects and how it authenticates.
public struct KafkaConnection: Sendable {
    public enum Authentication: Sendable {
        /// SASL PLAIN with `$ConnectionString` and the whole string (Event Hubs).
        case connectionString(EventHubsConnectionString)
        /// SASL OAUTHBEARER; the provider is called whenever librdkafka wants a (fresh) token.
        case oauthBearer(@Sendable () throws -> OAuthBearerToken)
        /// No TLS, no SASL: the librdkafka mock cluster and local brokers.
        case none
    }

    public var bootstrapServers: String
    public var authentication: Authentication
    /// Extra librdkafka properties (advanced; applied last, so they override ours).
    public var properties: [String: String]

    public init(bootstrapServers: String, authentication: Authentication, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.authentication = authentication
        self.properties = properties
    }

    /// An Event Hubs namespace through its connection string.
    public static func eventHubs(_ connectionString: EventHubsConnectionString) -> KafkaConnection {
        KafkaConnection(bootstrapServers: connectionString.bootstrapServers, authentication: .connectionString(connectionString))
    }

    /// An Event Hubs namespace (`NS.servicebus.windows.net`) with Entra tokens
    /// (scope `https://NS.servicebus.windows.net/.default`).
    public static func eventHubs(namespace host: String, tokenProvider: @escaping @Sendable () throws -> OAuthBearerToken) -> KafkaConnection {
        KafkaConnection(bootstrapServers: "\(host):9093", authentication: .oauthBearer(tokenProvider))
    }

    public static func plaintext(_ bootstrapServers: String) -> KafkaConnection {
        KafkaConnection(bootstrapServers: bootstrapServers, authentication: .none)
    }

    /// The settings this connection needs, secrets marked so they are never printed.
    var settings: [(key: String, value: String, secret: Bool)] {
        var s: [(String, String, Bool)] = [("bootstrap.servers", bootstrapServers, false)]
        switch authentication {
        case .connectionString(let cs):
            s += [("security.protocol", cs.usesDevelopmentEmulator ? "SASL_PLAINTEXT" : "SASL_SSL", false),
                  ("sasl.mechanism", "PLAIN", false),
                  ("sasl.username", "$ConnectionString", false),
                  ("sasl.password", cs.secret, true)]
            s += Self.eventHubsLimits
        case .oauthBearer:
            s += [("security.protocol", "SASL_SSL", false), ("sasl.mechanism", "OAUTHBEARER", false)]
            s += Self.eventHubsLimits
        case .none:
            break
        }
        s += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value, $0.key.contains("password") || $0.key.contains("secret")) }
        return s
    }

    /// What the Event Hubs Kafka endpoint requires of clients (see reference/event-hubs.md §5).
    static let eventHubsLimits: [(String, String, Bool)] = [
        ("socket.timeout.ms", "60000", false),   // librdkafka's side of the service's request.timeout.ms >= 60 s
        ("metadata.max.age.ms", "180000", false),
        ("connections.max.idle.ms", "180000", false),
        ("socket.keepalive.enable", "true", false),
        ("message.max.bytes", "1000000", false),
    ]

    /// The password, so logs can be scrubbed of it even if librdkafka ever printed it.
    var secret: String? {
        if case .connectionString(let cs) = authentication { return cs.secret }
        return nil
    }
}

/// An OAuth bearer token for SASL OAUTHBEARER.
public struct OAuthBearerToken: Sendable {
    public var value: String
    /// Expiry, milliseconds since the Unix epoch.
    public var expiresAtMilliseconds: Int64
    /// The principal name librdkafka reports (the app or user id; informational).
    public var principal: String

    public init(value: String, expiresAtMilliseconds: Int64, principal: String) {
        self.value = value
        self.expiresAtMilliseconds = expiresAtMilliseconds
        self.principal = principal
    }
}
