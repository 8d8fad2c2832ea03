/// Alert and incident severity. Sigma `level` maps onto it directly; Sentinel knows
/// Informational, Low, Medium and High, so `critical` is sent to Sentinel as High.
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case informational, low, medium, high, critical

    public init?(lenient text: String) {
        switch text.lowercased() {
        case "informational", "information", "info", "0": self = .informational
        case "low", "1": self = .low
        case "medium", "2": self = .medium
        case "high", "3": self = .high
        case "critical", "4": self = .critical
        default: return nil
        }
    }

    var rank: Int { Severity.allCases.firstIndex(of: self)! }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }

    /// The value Sentinel's incidents API accepts.
    public var sentinel: String {
        switch self {
        case .informational: return "Informational"
        case .low: return "Low"
        case .medium: return "Medium"
        case .high, .critical: return "High"
        }
    }
}
