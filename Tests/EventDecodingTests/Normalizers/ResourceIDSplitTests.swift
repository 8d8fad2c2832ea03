import EventModel
import Testing

/// `ResourceID.init(raw:)` was rewritten to split bytes (it ran for every event and dominated
/// normalisation time). This keeps the original string-based split as the reference and checks
/// the two agree on the id forms Azure writes.
@Suite struct ResourceIDSplitTests {
    static func reference(_ raw: String) -> [String?] {
        var subscription: String?, resourceGroup: String?, provider: String?, type: String?, name: String?
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
                    typeParts.append(parts[i]); name = String(parts[i + 1]); i += 2
                }
                if i < parts.count, parts[i].lowercased() != "providers" { typeParts.append(parts[i]); i += 1 }
            } else {
                i += 1
            }
        }
        if !typeParts.isEmpty { type = typeParts.joined(separator: "/") }
        if provider == nil, let rg = resourceGroup, name == nil { name = rg; type = "resourceGroups" }
        if provider == nil, resourceGroup == nil, let sub = subscription { name = sub; type = "subscriptions" }
        return [subscription, resourceGroup, provider, type, name]
    }

    @Test(arguments: [
        "/SUBSCRIPTIONS/1111/RESOURCEGROUPS/rg-ml/PROVIDERS/Microsoft.MachineLearningServices/workspaces/ws1/computes/gpu1",
        "/subscriptions/s1", "/subscriptions/s1/resourceGroups/g1", "/subscriptions/s1/resourcegroups//g1/",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/providers/Microsoft.Insights/diagnosticSettings/d",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/blobServices/default",
        "/providers/Microsoft.Authorization", "/tenants/t1/providers/Microsoft.aadiam", "/providers/Microsoft.Management/managementGroups/mg1",
        "/subscriptions/s/providers/Microsoft.Security/locations/westeurope/alerts/2517_abcd", "", "/", "relative/path",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app/slots", "/SUBSCRIPTIONS/ünï/RESOURCEGROUPS/grüp",
    ])
    func bytesSplitMatchesReference(raw: String) {
        let r = ResourceID(raw: raw)
        #expect([r.subscription, r.resourceGroup, r.provider, r.type, r.name] == Self.reference(raw))
        #expect(r.raw == raw)
    }
}
