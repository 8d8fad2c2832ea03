import EventModel
import Incidents
import Testing

@Suite struct IncidentNarrativeTests {
    let sub = "/subscriptions/4f8d2c1a-6b3e-4a9f-8c7d-2e1b0a9f8d6c"
    let dana = Entity(kind: .account, value: "dana@contoso.example")

    @Test func oneResourceIsNamedWithItsType() {
        let title = IncidentNarrative.title(
            rules: [("Workspace keys listed", 1)],
            entities: [dana, Entity(kind: .azureResource, value: "\(sub)/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod")])
        #expect(title == "Workspace keys listed on workspace mlw-prod by dana@contoso.example")
    }

    @Test func severalResourcesAreNamedByTheScopeTheyShare() {
        let inGroup = ["networkSecurityGroups/nsg1", "workspaces/mlw-prod"].map {
            Entity(kind: .azureResource, value: "\(sub)/resourceGroups/rg-ml/providers/Microsoft.X/\($0)")
        }
        #expect(IncidentNarrative.title(rules: [("A", 1), ("B", 1)], entities: [dana] + inGroup)
                == "A and B on 2 resources in resource group rg-ml by dana@contoso.example")
        let mixed = inGroup + [Entity(kind: .azureResource, value: "\(sub)/providers/Microsoft.Authorization/roleAssignments/r1")]
        #expect(IncidentNarrative.title(rules: [("A", 1)], entities: mixed)
                == "A on 3 resources in subscription 4f8d2c1a-6b3e-4a9f-8c7d-2e1b0a9f8d6c")
    }

    @Test func longRuleTitlesNeverPushOutWhoDidIt() {
        let long = String(repeating: "Very long rule title ", count: 8)
        let title = IncidentNarrative.title(rules: [(long + "1", 1), (long + "2", 1), (long + "3", 1)],
                                            entities: [dana])
        #expect(title.hasSuffix("and 2 more by dana@contoso.example"))
        #expect(title.count <= IncidentNarrative.maxTitle)
    }
}
