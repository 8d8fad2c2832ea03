import EventModel

/// The title and description people read: what happened, where, and who did it.
///   "Privileged role granted, NSG opened to the internet and 3 more on workspace ws1 by alice@contoso.com"
public enum IncidentNarrative {
    /// Sentinel caps titles and descriptions; stay under its limits.
    public static let maxTitle = 250
    public static let maxDescription = 5_000

    /// `rules` are (title, alert count) in the order they first joined; `entities` in first-seen order.
    public static func title(rules: [(title: String, count: Int)], entities: [Entity]) -> String {
        let names = rules.map(\.title)
        var whereWho = ""
        let resources = entities.filter { $0.kind == .azureResource }
        if resources.count == 1 {
            whereWho += " on \(resourcePhrase(resources[0].value))"
        } else if resources.count > 1 {
            whereWho += " on \(scopePhrase(resources.map { ResourceID(raw: $0.value) }))"
        } else if let host = entities.first(where: { $0.kind == .host }) {
            whereWho += " on host \(host.value)"
        }
        if let account = entities.first(where: { $0.kind == .account }) {
            whereWho += " by \(account.value)"
        } else if let ip = entities.first(where: { $0.kind == .ip }) {
            whereWho += " from \(ip.value)"
        } else if let app = entities.first(where: { $0.kind == .cloudApplication }) {
            whereWho += " by application \(app.value)"
        }
        var what: String
        switch names.count {
        case 0: what = "Alert"
        case 1: what = names[0]
        case 2: what = "\(names[0]) and \(names[1])"
        default: what = "\(names[0]), \(names[1]) and \(names.count - 2) more"
        }
        // Long rule titles must not push the where and who out of Sentinel's title limit.
        if names.count > 1, what.count + whereWho.count > maxTitle {
            what = "\(names[0]) and \(names.count - 1) more"
        }
        what += whereWho
        return clip(what, maxTitle)
    }

    /// Counts, time span, entities, then one line per rule.
    public static func description(rules: [(title: String, count: Int)], alertCount: Int, severity: Severity,
                                   first: EventTime, last: EventTime, entities: [Entity]) -> String {
        var lines: [String] = []
        let alertsWord = alertCount == 1 ? "alert" : "alerts"
        let rulesWord = rules.count == 1 ? "rule" : "rules"
        lines.append("\(alertCount) \(alertsWord) from \(rules.count) \(rulesWord), highest severity \(severity.sentinel), "
                     + (first == last ? "at \(first.iso8601)." : "between \(first.iso8601) and \(last.iso8601)."))
        if !entities.isEmpty {
            lines.append("Entities: " + entities.map(\.description).joined(separator: ", ") + ".")
        }
        lines.append("Alerts:")
        for r in rules { lines.append("- \(r.title)" + (r.count > 1 ? " (×\(r.count))" : "")) }
        return clip(lines.joined(separator: "\n"), maxDescription)
    }

    /// `workspace ws1` from `/subscriptions/…/Microsoft.MachineLearningServices/workspaces/ws1`.
    static func resourcePhrase(_ raw: String) -> String {
        let id = ResourceID(raw: raw)
        guard let name = id.name, let type = id.type, let last = type.split(separator: "/").last else { return raw }
        return "\(singularWords(String(last))) \(name)"
    }

    /// Several resources: the scope they share, which is what an analyst opens first.
    ///   `9 resources in resource group rg-ml-prod`, `11 resources in subscription 4f8d…`, `3 resources`.
    static func scopePhrase(_ ids: [ResourceID]) -> String {
        let n = ids.count
        let groups = Set(ids.map { $0.resourceGroup?.lowercased() })
        if groups.count == 1, let g = ids.first?.resourceGroup { return "\(n) resources in resource group \(g)" }
        let subscriptions = Set(ids.map { $0.subscription?.lowercased() })
        if subscriptions.count == 1, let sub = ids.first?.subscription { return "\(n) resources in subscription \(sub)" }
        return "\(n) resources"
    }

    /// `resourceGroups` → `resource group`, `registries` → `registry`, `workspaces` → `workspace`.
    static func singularWords(_ type: String) -> String {
        // Exports often upper-case the whole id, which hides the camelCase word breaks.
        if let known = knownTypeWords[type.lowercased()] { return known }
        if type == type.uppercased() { return singularWords(type.lowercased()) }
        var words = ""
        for c in type {
            if c.isUppercase, !words.isEmpty { words.append(" ") }
            words.append(Character(c.lowercased()))
        }
        if words.hasSuffix("ies") { return String(words.dropLast(3)) + "y" }
        if words.hasSuffix("s"), !words.hasSuffix("ss") { return String(words.dropLast()) }
        return words
    }

    static let knownTypeWords: [String: String] = [
        "roleassignments": "role assignment", "roledefinitions": "role definition",
        "networksecuritygroups": "network security group", "securityrules": "security rule",
        "storageaccounts": "storage account", "diagnosticsettings": "diagnostic setting",
        "privateendpoints": "private endpoint", "privateendpointconnections": "private endpoint connection",
        "policyassignments": "policy assignment", "policyexemptions": "policy exemption",
        "onlineendpoints": "online endpoint", "batchendpoints": "batch endpoint", "datastores": "datastore",
        "resourcegroups": "resource group", "subscriptions": "subscription", "pricings": "Defender plan",
        "alertssuppressionrules": "alert suppression rule", "accesspolicies": "access policy",
    ]

    static func clip(_ s: String, _ limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
    }
}
