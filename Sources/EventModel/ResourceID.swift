/// An Azure Resource Manager id, split. Comparison is case-insensitive (Azure's casing varies), so
/// `normalized` is lower-cased.
///   /subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{subtype}/{subname}…]
public struct ResourceID: Sendable, Hashable, Codable {
    public var raw: String
    public var subscription: String?
    public var resourceGroup: String?
    /// Resource provider namespace, e.g. `Microsoft.MachineLearningServices`.
    public var provider: String?
    /// Full type, e.g. `Microsoft.MachineLearningServices/workspaces/computes`.
    public var type: String?
    /// Name of the last (innermost) resource, e.g. the compute's name.
    public var name: String?

    public var normalized: String { raw.lowercased() }

    public init(raw: String) {
        self.raw = raw
        let parts = raw.split(separator: "/", omittingEmptySubsequences: true)
        var i = 0
        var typeParts: [Substring] = []
        while i < parts.count {
            let p = parts[i].lowercased()
            if p == "subscriptions", i + 1 < parts.count, subscription == nil {
                subscription = String(parts[i + 1]); i += 2
            } else if p == "resourcegroups", i + 1 < parts.count, resourceGroup == nil {
                resourceGroup = String(parts[i + 1]); i += 2
            } else if p == "providers", i + 1 < parts.count {
                provider = String(parts[i + 1])
                typeParts = [parts[i + 1]]
                i += 2
                while i + 1 < parts.count, parts[i].lowercased() != "providers" {
                    typeParts.append(parts[i])
                    name = String(parts[i + 1])
                    i += 2
                }
                if i < parts.count, parts[i].lowercased() != "providers" { typeParts.append(parts[i]); i += 1 }
            } else {
                i += 1
            }
        }
        if !typeParts.isEmpty { type = typeParts.joined(separator: "/") }
        if provider == nil, let rg = resourceGroup, name == nil { name = rg; type = "resourceGroups" }
        if provider == nil, resourceGroup == nil, let sub = subscription { name = sub; type = "subscriptions" }
    }
}
