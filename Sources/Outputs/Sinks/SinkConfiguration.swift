// Sink configuration: a YAML-free value tree (`ConfigValue`), `${ENV}` expansion, one
// configuration struct per sink, and the factory that turns a config entry into a `Sink`.
//
// The config-file loader (YAML, in Pipeline) converts its nodes into `ConfigValue` and calls
// `SinkConfiguration.parse` / `makeSink`. Unknown keys are errors that name their path
// (`sinks.sentinel.workspce_name: unknown key`), never silently ignored.
import Glibc
import Logging

/// A configuration value, as YAML or JSON would give it.
public indirect enum ConfigValue: Sendable, Equatable {
    case null
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([ConfigValue])
    case map([String: ConfigValue])
}

/// A configuration problem, located by its key path.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

public enum ProcessEnvironment {
    /// The process environment as a dictionary.
    public static var current: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    /// Expands `${NAME}` and `${NAME:-default}`; `$$` is a literal `$`. An unset variable without a
    /// default is an error (a silently empty endpoint or secret is worse than a clear message).
    public static func expand(_ text: String, environment: [String: String], path: String) throws(ConfigError) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            let next = text.index(after: i)
            if c == "$", next < text.endIndex, text[next] == "$" { out.append("$"); i = text.index(after: next); continue }
            if c == "$", next < text.endIndex, text[next] == "{" {
                guard let close = text[next...].firstIndex(of: "}") else {
                    throw ConfigError(path: path, message: "unterminated ${…} in value")
                }
                let inner = String(text[text.index(after: next)..<close])
                var name = inner
                var fallback: String?
                let scalars = Array(inner.unicodeScalars)
                if let k = scalars.indices.first(where: { $0 + 1 < scalars.count && scalars[$0] == ":" && scalars[$0 + 1] == "-" }) {
                    name = String(String.UnicodeScalarView(scalars[..<k]))
                    fallback = String(String.UnicodeScalarView(scalars[(k + 2)...]))
                }
                if let v = environment[name], !v.isEmpty { out += v } else if let fallback { out += fallback } else {
                    throw ConfigError(path: path, message: "environment variable \(name) is not set")
                }
                i = text.index(after: close)
                continue
            }
            out.append(c)
            i = next
        }
        return out
    }
}

/// Reads one map of a config tree, expanding `${ENV}` in strings and remembering which keys were
/// read so that `finish()` can reject the rest.
public struct ConfigReader {
    public let path: String
    let map: [String: ConfigValue]
    let environment: [String: String]
    private var used: Set<String> = []

    public init(_ value: ConfigValue, path: String, environment: [String: String]) throws(ConfigError) {
        guard case .map(let m) = value else { throw ConfigError(path: path, message: "expected a mapping") }
        self.path = path
        self.map = m
        self.environment = environment
    }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public mutating func has(_ key: String) -> Bool { map[key] != nil && map[key] != .null }

    public mutating func string(_ key: String) throws(ConfigError) -> String? {
        used.insert(key)
        switch map[key] {
        case nil, .null?: return nil
        case .string(let s)?: return try ProcessEnvironment.expand(s, environment: environment, path: sub(key))
        case .number(let d)?: return d.rounded() == d ? String(Int64(d)) : String(d)
        case .bool(let b)?: return String(b)
        default: throw ConfigError(path: sub(key), message: "expected a string")
        }
    }

    public mutating func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw ConfigError(path: sub(key), message: "required key is missing") }
        return s
    }

    public mutating func double(_ key: String) throws(ConfigError) -> Double? {
        used.insert(key)
        switch map[key] {
        case nil, .null?: return nil
        case .number(let d)?: return d
        case .string?:
            guard let s = try string(key), let d = Double(s) else { throw ConfigError(path: sub(key), message: "expected a number") }
            return d
        default: throw ConfigError(path: sub(key), message: "expected a number")
        }
    }

    public mutating func int(_ key: String) throws(ConfigError) -> Int? {
        guard let d = try double(key) else { return nil }
        guard d.rounded() == d, abs(d) < 1e15 else { throw ConfigError(path: sub(key), message: "expected an integer") }
        return Int(d)
    }

    public mutating func bool(_ key: String) throws(ConfigError) -> Bool? {
        used.insert(key)
        switch map[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case .string?:
            switch try string(key)?.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw ConfigError(path: sub(key), message: "expected true or false")
            }
        default: throw ConfigError(path: sub(key), message: "expected true or false")
        }
    }

    public mutating func child(_ key: String) throws(ConfigError) -> ConfigReader? {
        used.insert(key)
        guard let v = map[key], v != .null else { return nil }
        return try ConfigReader(v, path: sub(key), environment: environment)
    }

    /// Fails on keys nobody read: a typo must not silently fall back to a default.
    public func finish() throws(ConfigError) {
        if let unknown = map.keys.filter({ !used.contains($0) }).sorted().first {
            throw ConfigError(path: sub(unknown), message: "unknown key")
        }
    }

    /// `connect_timeout`, `timeout`, `ca_bundle`, `proxy`, `no_proxy`, `tls_verify`.
    mutating func httpConfiguration() throws(ConfigError) -> HTTPClientConfiguration {
        var c = HTTPClientConfiguration()
        if let v = try double("connect_timeout") { c.connectTimeout = v }
        if let v = try double("timeout") { c.timeout = v }
        c.caBundle = try string("ca_bundle")
        c.proxy = try string("proxy")
        c.noProxy = try string("no_proxy")
        if let v = try bool("tls_verify") { c.verifyTLS = v }
        return c
    }

    /// The `credential:` block (optional; defaults to the Azure SDK environment chain).
    mutating func credentialConfiguration() throws(ConfigError) -> AzureCredentialConfiguration {
        guard var r = try child("credential") else { return AzureCredentialConfiguration() }
        var c = AzureCredentialConfiguration()
        if let k = try r.string("type") {
            guard let kind = AzureCredentialConfiguration.Kind(rawValue: k) else {
                throw ConfigError(path: r.sub("type"), message: "unknown credential type '\(k)' (environment, client_secret, workload_identity, managed_identity)")
            }
            c.kind = kind
        }
        c.tenantId = try r.string("tenant_id")
        c.clientId = try r.string("client_id")
        c.clientSecret = try r.string("client_secret").map(Secret.init)
        c.authorityHost = try r.string("authority_host")
        c.federatedTokenFile = try r.string("federated_token_file")
        c.imdsEndpoint = try r.string("imds_endpoint")
        if let m = try r.double("refresh_margin") { c.refreshMargin = m }
        try r.finish()
        return c
    }
}

/// One configured sink, parsed and validated.
public enum SinkConfiguration: Sendable {
    case sentinelIncidents(SentinelIncidentsConfiguration)
    case logsIngestion(LogsIngestionConfiguration)
    case cefSyslog(CEFSyslogConfiguration)
    case webhook(WebhookConfiguration)
    /// A type this module does not build here (`jsonl`, …): the caller constructs it.
    case other(type: String, config: ConfigValue)

    public static let types = ["sentinel_incidents", "logs_ingestion", "cef_syslog", "webhook"]

    /// Parses one sink entry (a map with `type:` and that sink's keys). `path` locates errors
    /// (`sinks.sentinel`).
    public static func parse(_ value: ConfigValue, path: String,
                             environment: [String: String] = ProcessEnvironment.current) throws(ConfigError) -> SinkConfiguration {
        var r = try ConfigReader(value, path: path, environment: environment)
        let type = try r.requiredString("type")
        let config: SinkConfiguration
        switch type {
        case "sentinel_incidents": config = .sentinelIncidents(try SentinelIncidentsConfiguration(reading: &r))
        case "logs_ingestion": config = .logsIngestion(try LogsIngestionConfiguration(reading: &r))
        case "cef_syslog": config = .cefSyslog(try CEFSyslogConfiguration(reading: &r))
        case "webhook": config = .webhook(try WebhookConfiguration(reading: &r))
        default: return .other(type: type, config: value)
        }
        _ = try r.string("name")   // allowed: list-style configs name their entries inline
        try r.finish()
        return config
    }
}

/// Builds the sink `name` from its config entry. Throws `ConfigError` for bad configuration, and
/// for types this module does not build (`jsonl` and other `.other` types are the caller's).
public func makeSink(name: String, config: ConfigValue, environment: [String: String] = ProcessEnvironment.current,
                     logger: Logger = Logger(label: "vigil.sink")) throws -> any Sink {
    let path = "sinks.\(name)"
    switch try SinkConfiguration.parse(config, path: path, environment: environment) {
    case .sentinelIncidents(let c):
        return try SentinelIncidentsSink(name: name, configuration: c,
                                         credential: c.credential.makeCredential(environment: environment, http: c.http, logger: logger), logger: logger)
    case .logsIngestion(let c):
        return try LogsIngestionSink(name: name, configuration: c,
                                     credential: c.credential.makeCredential(environment: environment, http: c.http, logger: logger), logger: logger)
    case .cefSyslog(let c):
        return CEFSyslogSink(name: name, configuration: c, logger: logger)
    case .webhook(let c):
        return WebhookSink(name: name, configuration: c, logger: logger)
    case .other(let type, _):
        throw ConfigError(path: "\(path).type", message: "sink type '\(type)' is not built by Outputs.makeSink (known: \(SinkConfiguration.types.joined(separator: ", ")))")
    }
}
