// Synthetic workload for `vigil rules bench`: Activity-Log-like events and generated rules in the
// shapes real packs use (operation equality, a contains on a body field, a caller allow-list).
import EventModel
import FastJSON

public enum EngineBench {
    static let providers = ["Microsoft.Network/networkSecurityGroups", "Microsoft.Storage/storageAccounts",
                            "Microsoft.KeyVault/vaults", "Microsoft.MachineLearningServices/workspaces",
                            "Microsoft.Authorization/roleAssignments", "Microsoft.Compute/virtualMachines"]
    static let verbs = ["write", "delete", "action", "read"]

    public static func events(count: Int) -> [Event] {
        var out: [Event] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let op = "\(providers[i % providers.count])/\(verbs[(i / 7) % verbs.count])".uppercased()
            var b = JSONBuilder()
            b.beginObject()
            b.string("2024-01-01T00:00:00Z", key: "time")
            b.string(op, key: "operationName")
            b.string("Administrative", key: "category")
            b.string("user\(i % 97)@contoso.com", key: "caller")
            b.beginObject(key: "properties")
            b.string("{\"properties\":{\"access\":\"\(i % 5 == 0 ? "Allow" : "Deny")\",\"sourceAddressPrefix\":\"\(i % 3 == 0 ? "*" : "10.0.0.0/8")\",\"destinationPortRange\":\"\(i % 11 == 0 ? "22" : "443")\"}}", key: "requestbody")
            b.end()
            b.end()
            var e = Event(kind: .activity, shape: .resourceLogExport, record: b.build(), position: SourcePosition(source: "bench", line: i + 1), id: UInt64(i))
            e.operationName = op
            e.operation = op.lowercased()
            e.caller = "user\(i % 97)@contoso.com"
            e.callerIP = "10.1.\(i % 250).\(i % 200)"
            e.category = "Administrative"
            out.append(e)
        }
        return out
    }

    public static func ruleSet(count: Int) -> CompiledRuleSet {
        var yaml = ""
        for r in 0..<count {
            let op = "\(providers[r % providers.count])/\(verbs[(r / providers.count) % verbs.count])"
            yaml += """
            title: generated \(r)
            id: gen-\(r)
            level: medium
            logsource: {product: azure, service: activitylogs}
            detection:
              selection:
                operationName: '\(op)'
                properties.requestbody.properties.access: Allow
                properties.requestbody.properties.destinationPortRange|contains: '\(r % 50)'
              filter:
                Caller|endswith: '@admin\(r).example'
              condition: selection and not filter
            ---

            """
        }
        let (rules, _) = RuleLoader.parse(text: yaml, file: "generated.yml")
        let map = FieldMap.parse("""
        logsources:
          - name: activitylogs
            product: azure
            service: activitylogs
            kinds: [activity]
            fields: {operationName: vigil.operationName, Caller: vigil.caller}
        """, file: "bench-fieldmap.yml").0
        return Compiler.compile(RuleSet(rules: rules), fieldMap: map).0
    }
}
