import TestSupport
import EventModel

let t0 = EventTime(parsing: "2025-03-04T09:00:00Z")!
let ws1 = "/subscriptions/0000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws1"

func makeAlert(_ id: String, rule: String = "r1", title: String? = nil, severity: Severity = .medium,
               at seconds: Int64 = 0, entities: [Entity] = [], tactics: [String] = [], techniques: [String] = [],
               groupBy: [Entity.Kind] = [], all: Bool = false) -> Alert {
    Alert(id: id, ruleId: rule, ruleTitle: title ?? "Rule \(rule)", severity: severity, tactics: tactics,
          techniques: techniques, entities: entities, time: t0.adding(seconds: seconds),
          position: SourcePosition(source: "test.jsonl", line: 1), description: "alert \(id)",
          eventIds: ["ev-\(id)"], evidence: ["{\"id\":\"ev-\(id)\"}"], groupBy: groupBy, groupByAll: all)
}

let alice = Entity(kind: .account, value: "alice@contoso.com")
let bob = Entity(kind: .account, value: "bob@contoso.com")
let ip1 = Entity(kind: .ip, value: "203.0.113.7")
let ip2 = Entity(kind: .ip, value: "198.51.100.9")
let workspace = Entity(kind: .azureResource, value: ws1)
