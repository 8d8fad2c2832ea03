/// An Event Hubs connection string, parsed for the Kafka endpoint.
///
/// `Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=HUB`
/// becomes bootstrap `NS.servicebus.windows.net:9093`, SASL_SSL, PLAIN, username `$ConnectionString`
/// and the whole string as the password. Pairs are split on `;`, each on its first `=` only (keys
/// end in `=`), keys are case-insensitive. Neither `description` nor any error shows the key.
public struct EventHubsConnectionString: Sendable, CustomStringConvertible {
    /// `NS.servicebus.windows.net` (or `localhost` for the emulator).
    public let host: String
    public let port: Int
    public let sharedAccessKeyName: String
    /// The hub, when the policy is hub-level.
    public let entityPath: String?
    /// The local emulator speaks SASL_PLAINTEXT on 9092.
    public let usesDevelopmentEmulator: Bool
    /// The password on the wire: the whole string. Never printed.
    let secret: String

    public var bootstrapServers: String { "\(host):\(port)" }

    public var description: String {
        var s = "Endpoint=sb://\(host)/;SharedAccessKeyName=\(sharedAccessKeyName);SharedAccessKey=<redacted>"
        if let entityPath { s += ";EntityPath=\(entityPath)" }
        return s
    }

    public init(parsing text: String) throws(EventHubsConnectionStringError) {
        let trimmed = text.trimmingWhitespace
        guard !trimmed.isEmpty else { throw .init("the connection string is empty") }
        var values: [String: String] = [:]
        for (index, segment) in trimmed.split(separator: ";", omittingEmptySubsequences: true).enumerated() {
            let pair = segment.trimmingWhitespace
            if pair.isEmpty { continue }
            guard let eq = pair.firstIndex(of: "=") else {
                // The segment itself may be (part of) the key: name its position, never its text.
                throw .init("segment \(index + 1) is not key=value")
            }
            let key = pair[..<eq].trimmingWhitespace.lowercased()
            let value = String(pair[pair.index(after: eq)...]).trimmingWhitespace
            guard Self.knownKeys.contains(key) else {
                throw .init("unknown key '\(pair[..<eq].trimmingWhitespace)' (known: Endpoint, SharedAccessKeyName, SharedAccessKey, EntityPath, UseDevelopmentEmulator)")
            }
            guard values[key] == nil else { throw .init("key '\(pair[..<eq].trimmingWhitespace)' appears twice") }
            values[key] = value
        }
        if values["sharedaccesssignature"] != nil {
            throw .init("SharedAccessSignature connection strings are not accepted by the Event Hubs Kafka endpoint; use a SharedAccessKey connection string or OAuth (Entra)")
        }
        guard let endpoint = values["endpoint"], !endpoint.isEmpty else { throw .init("Endpoint is missing") }
        guard endpoint.lowercased().hasPrefix("sb://") else {
            throw .init("Endpoint must start with sb:// (got scheme '\(endpoint.prefix(while: { $0 != ":" }))')")
        }
        var authority = endpoint.dropFirst(5)
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        var host = String(authority)
        var explicitPort: Int?
        if let colon = authority.lastIndex(of: ":") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw .init("Endpoint has an invalid port")
            }
            host = String(authority[..<colon])
            explicitPort = p
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
            throw .init("Endpoint has no valid host name")
        }
        guard let keyName = values["sharedaccesskeyname"], !keyName.isEmpty else { throw .init("SharedAccessKeyName is missing") }
        guard let key = values["sharedaccesskey"], !key.isEmpty else { throw .init("SharedAccessKey is missing or empty") }
        let emulator = values["usedevelopmentemulator"]?.lowercased() == "true"
        let entity = values["entitypath"].flatMap { $0.isEmpty ? nil : $0 }
        self.host = host
        self.port = explicitPort ?? (emulator ? 9092 : 9093)
        self.sharedAccessKeyName = keyName
        self.entityPath = entity
        self.usesDevelopmentEmulator = emulator
        self.secret = trimmed
    }

    static let knownKeys: Set<String> = ["endpoint", "sharedaccesskeyname", "sharedaccesskey", "entitypath",
                                         "sharedaccesssignature", "usedevelopmentemulator"]
}

/// Why a connection string was refused. The message never contains the key.
public struct EventHubsConnectionStringError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "invalid Event Hubs connection string: \(message)" }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        var scalars = Array(unicodeScalars)
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        let first = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[first...])
        return String(view)
    }
}
