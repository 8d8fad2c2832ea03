/// A Sentinel entity an alert is about. Incidents group alerts by shared entities.
public struct Entity: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case account = "Account"
        case ip = "IP"
        case azureResource = "AzureResource"
        case cloudApplication = "CloudApplication"
        case host = "Host"
        case url = "URL"
        case file = "File"
        case process = "Process"
        case mailbox = "Mailbox"
        case securityGroup = "SecurityGroup"

        public init?(lenient text: String) {
            guard let k = Kind.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else { return nil }
            self = k
        }
    }

    public var kind: Kind
    /// The identifying value (UPN or object id, address, ARM id, app id, host name, …).
    public var value: String

    public init(kind: Kind, value: String) {
        self.kind = kind
        self.value = value
    }

    /// Case-insensitive key for grouping: Azure ids and UPNs vary in case.
    public var key: String { "\(kind.rawValue):\(value.lowercased())" }

    public var description: String { "\(kind.rawValue)=\(value)" }
}
