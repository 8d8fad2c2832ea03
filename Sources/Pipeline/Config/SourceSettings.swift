import Ingest
import Outputs

/// One configured source (`sources:` in vigil.yaml): a tailed file tree or Event Hubs.
public enum SourceSettings: Sendable {
    case file(FileSourceSettings)
    case eventHubs(EventHubsSourceSettings)

    public var name: String {
        switch self {
        case .file(let f): return f.name
        case .eventHubs(let e): return e.name
        }
    }

    public static let types = ["file", "eventhubs"]

    /// `sources:` as a list (entries with `type:` and optional `name:`) or a map (name → entry).
    static func readAll(_ value: ConfigValue, environment: [String: String], problems: ConfigProblems) -> [SourceSettings] {
        var entries: [(name: String?, path: String, value: ConfigValue)] = []
        switch value {
        case .map(let m): for key in m.keys.sorted() { entries.append((key, "sources.\(key)", m[key]!)) }
        case .list(let l): for (i, v) in l.enumerated() { entries.append((nil, "sources[\(i)]", v)) }
        default:
            problems.add("sources", "expected a list of sources (or a mapping of name to source)")
            return []
        }
        var out: [SourceSettings] = []
        var names = Set<String>()
        for (index, entry) in entries.enumerated() {
            guard var s = ConfigSection(entry.value, path: entry.path, environment: environment, problems: problems) else { continue }
            let type = s.requiredString("type")
            let name = s.string("name") ?? entry.name ?? "\(type ?? "source")\(index)"
            if !names.insert(name).inserted { problems.add(entry.path, "a second source named '\(name)'") }
            switch type {
            case "file"?: if let f = FileSourceSettings(name: name, reading: &s) { out.append(.file(f)) }
            case "eventhubs"?: if let e = EventHubsSourceSettings(name: name, reading: &s) { out.append(.eventHubs(e)) }
            case let t?:
                problems.add(s.sub("type"), "unknown source type '\(t)' (known: \(types.joined(separator: ", ")))")
                continue
            case nil: continue
            }
            s.finish()
        }
        return out
    }
}

/// `type: file`: follows files and export directory trees.
public struct FileSourceSettings: Sendable {
    public var name: String
    public var paths: [String]
    public var tail = TailConfiguration()

    public init(name: String, paths: [String], tail: TailConfiguration = TailConfiguration()) {
        self.name = name
        self.paths = paths
        self.tail = tail
    }

    init?(name: String, reading s: inout ConfigSection) {
        self.name = name
        paths = []
        if !s.has("paths") { s.problems.add(s.sub("paths"), "required key is missing") }
        paths = s.stringList("paths") ?? []
        if s.has("paths") && paths.isEmpty { s.problems.add(s.sub("paths"), "give at least one file or directory") }
        if let b = s.bool("from_beginning") { tail.startPosition = b ? .beginning : .end }
        if let p = s.choice("start_position", TailConfiguration.StartPosition.allCases.map(\.rawValue)) {
            if s.has("from_beginning") { s.problems.add(s.sub("start_position"), "give start_position or from_beginning, not both") }
            tail.startPosition = TailConfiguration.StartPosition(rawValue: p) ?? .beginning
        }
        if let v = s.seconds("poll_interval") { tail.pollInterval = .milliseconds(Int64(max(0.01, v) * 1000)) }
        if let v = s.seconds("rescan_interval") { tail.rescanInterval = .milliseconds(Int64(max(0.05, v) * 1000)) }
        if let v = s.seconds("close_idle_after") { tail.closeIdleAfter = .milliseconds(Int64(v * 1000)) }
        if let v = s.bool("inotify") { tail.useInotify = v }
        if let v = s.positiveInt("max_line_bytes") { tail.maxLineBytes = v }
        if let v = s.seconds("document_timeout") { tail.documentTimeout = .milliseconds(Int64(v * 1000)) }
        if let v = s.positiveInt("max_document_bytes") { tail.maxDocumentBytes = v }
    }
}

/// `type: eventhubs`: Event Hubs through its Kafka endpoint (or any Kafka broker).
public struct EventHubsSourceSettings: Sendable {
    public var name: String
    public var consumer: EventHubsConsumerConfiguration
    /// Most messages per poll.
    public var maxMessages = 1000
    /// `stateful_topic` (+ `stateful_group`): scale-out of stateful rules through a keyed topic
    /// (docs/ingest.md); nil: every rule runs on what this process reads.
    public var stateful: StatefulTopicSettings?

    public init(name: String, consumer: EventHubsConsumerConfiguration) {
        self.name = name
        self.consumer = consumer
    }

    init?(name: String, reading s: inout ConfigSection) {
        self.name = name
        let connectionString = s.string("connection_string")
        let namespace = s.string("namespace")
        let bootstrap = s.string("bootstrap_servers")
        let credentialSection = s.child("credential")
        // Read (and check) the block whenever it is there, so its typos are reported in every case.
        let configured = credentialSection.map { AzureCredentialSettings.read($0, environment: s.environment, problems: s.problems) }
        var properties: [String: String] = [:]
        if var p = s.child("properties") {
            for key in p.map.keys.sorted() { properties[key] = p.string(key) }
            p.finish()
        }
        var entity: String?
        var connection: KafkaConnection?
        switch (connectionString, namespace, bootstrap) {
        case (let cs?, nil, nil):
            do {
                let parsed = try EventHubsConnectionString(parsing: cs)
                entity = parsed.entityPath
                connection = .eventHubs(parsed)
            } catch {
                // The message never repeats the string: it holds the key.
                s.problems.add(s.sub("connection_string"), error.message)
            }
        case (nil, let ns?, nil):
            let host = ns.contains(".") ? ns : ns + ".servicebus.windows.net"
            let credential = configured ?? AzureCredentialSettings.read(nil, environment: s.environment, problems: s.problems)
            if let credential {
                let scope = "https://\(host)/.default"
                connection = .eventHubs(namespace: host) {
                    let t = try credential.token(for: scope)
                    return OAuthBearerToken(value: t.token.value, expiresAtMilliseconds: Int64(t.expiresOn * 1000), principal: "vigil")
                }
            }
        case (nil, nil, let b?):
            connection = .plaintext(b)
        case (nil, nil, nil):
            s.problems.add(s.path, "give connection_string, or namespace (with credential), or bootstrap_servers")
        default:
            s.problems.add(s.path, "give only one of connection_string, namespace, bootstrap_servers")
        }
        if credentialSection != nil && namespace == nil { s.problems.add(s.sub("credential"), "credential is used only with namespace") }
        var topics = s.stringList("hubs") ?? []
        topics += s.stringList("topics") ?? []
        if topics.isEmpty, let entity { topics = [entity] }
        if topics.isEmpty && connection != nil { s.problems.add(s.sub("hubs"), "required key is missing (no EntityPath in the connection string either)") }
        let group = s.string("consumer_group") ?? "vigil"
        let start = s.choice("start_position", ["earliest", "latest"])
        let connectTimeout = s.seconds("connect_timeout")
        let commitInterval = s.seconds("commit_interval")
        let sessionTimeout = s.seconds("session_timeout")
        if let v = s.positiveInt("max_messages") { maxMessages = v }
        if let topic = s.string("stateful_topic") {
            if topic.isEmpty || topics.contains(topic) {
                s.problems.add(s.sub("stateful_topic"), "must name a topic (event hub) other than the source hubs")
            }
            stateful = StatefulTopicSettings(topic: topic, groupID: s.string("stateful_group"))
        } else if s.string("stateful_group") != nil {
            s.problems.add(s.sub("stateful_group"), "stateful_group is used only with stateful_topic")
        }
        guard var connection else { return nil }
        connection.properties.merge(properties) { $1 }
        var c = EventHubsConsumerConfiguration(connection: connection, groupID: group, topics: topics)
        if let start { c.startPosition = .init(rawValue: start) ?? .earliest }
        if let v = connectTimeout { c.connectTimeout = .milliseconds(Int64(v * 1000)) }
        if let v = commitInterval { c.commitInterval = .milliseconds(Int64(v * 1000)) }
        if let v = sessionTimeout { c.sessionTimeout = .milliseconds(Int64(v * 1000)) }
        consumer = c
    }
}

/// The `credential:` block of an Event Hubs source (the same keys as the sinks' credential).
enum AzureCredentialSettings {
    static func read(_ section: ConfigSection?, environment: [String: String], problems: ConfigProblems) -> (any TokenCredential)? {
        var c = AzureCredentialConfiguration()
        if var s = section {
            if let k = s.choice("type", ["environment", "client_secret", "workload_identity", "managed_identity"]) {
                c.kind = AzureCredentialConfiguration.Kind(rawValue: k) ?? .environment
            }
            c.tenantId = s.string("tenant_id")
            c.clientId = s.string("client_id")
            c.clientSecret = s.string("client_secret").map(Secret.init)
            c.authorityHost = s.string("authority_host")
            c.federatedTokenFile = s.string("federated_token_file")
            c.imdsEndpoint = s.string("imds_endpoint")
            if let m = s.seconds("refresh_margin") { c.refreshMargin = m }
            s.finish()
        }
        do {
            return try c.makeCredential(environment: environment)
        } catch {
            let base = section?.path ?? "credential"
            problems.add(error.path.hasPrefix("credential.") ? base + error.path.dropFirst("credential".count) : base, error.message)
            return nil
        }
    }
}
