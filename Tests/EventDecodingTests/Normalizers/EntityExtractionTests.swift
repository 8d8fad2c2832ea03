import EventDecoding
import EventModel
import FastJSON
import Testing

@Suite struct EntityExtractionTests {
    @Test func defaultEntitiesOfAnActivityEvent() throws {
        let e = try NormalizerTestSupport.event("""
        {"time":"2025-03-04T12:00:05Z","resourceId":"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw",
         "operationName":"Microsoft.MachineLearningServices/workspaces/listKeys/action","category":"Administrative","callerIpAddress":"192.0.2.99",
         "identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"Dev1@Contoso.example","appid":"app-1",
           "http://schemas.microsoft.com/identity/claims/objectidentifier":"oid-1"}}}
        """)
        let entities = EntityExtraction.defaultEntities(for: e)
        #expect(entities == [
            Entity(kind: .account, value: "Dev1@Contoso.example"), Entity(kind: .account, value: "oid-1"),
            Entity(kind: .ip, value: "192.0.2.99"),
            Entity(kind: .azureResource, value: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw"),
            Entity(kind: .cloudApplication, value: "app-1"),
        ])
    }

    @Test func tenantLevelResourceAndPlaceholdersAreSkipped() throws {
        let e = try NormalizerTestSupport.event("""
        {"time":"2019-03-12T16:02:15Z","resourceId":"/tenants/t1/providers/Microsoft.aadiam","operationName":"Sign-in activity",
         "category":"SignInLogs","callerIpAddress":"<CALLER IP ADDRESS>","properties":{"userPrincipalName":"u@contoso.example"}}
        """)
        #expect(EntityExtraction.defaultEntities(for: e) == [Entity(kind: .account, value: "u@contoso.example")])
    }

    /// Entra audit exports write `"callerIpAddress": "<null>"`; the initiator's address fills in.
    @Test func nullWordAddressIsNoAddress() throws {
        for placeholder in ["<null>", "NULL", ""] {
            let e = try NormalizerTestSupport.event("""
            {"time":"2025-03-04T12:00:05Z","resourceId":"/tenants/t1/providers/Microsoft.aadiam","operationName":"Add member to role",
             "category":"AuditLogs","callerIpAddress":"\(placeholder)","properties":{"activityDisplayName":"Add member to role",
             "initiatedBy":{"user":{"userPrincipalName":"admin@contoso.example","ipAddress":"203.0.113.45"}}}}
            """)
            #expect(e.kind == .audit && e.callerIP == "203.0.113.45", "\(placeholder): \(e.callerIP ?? "nil")")
        }
    }

    /// `identity` or a sign-in's `properties` written as JSON text in an export is read as the
    /// object it holds; a plain display name in `identity` stays a name.
    @Test func identityAndPropertiesAsJSONText() throws {
        let aml = try NormalizerTestSupport.event(#"""
        {"time":"2025-03-04T10:00:04Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MLW",
         "category":"DataSetChangeEvent","operationName":"Microsoft.MachineLearningServices/workspaces/datasets/registered/write",
         "resultType":"Succeeded","identity":"{\"claims\":{\"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn\":\"carol@contoso.example\",\"http://schemas.microsoft.com/identity/claims/objectidentifier\":\"oid-2\"}}","properties":{"AmlDatasetName":"ds1"}}
        """#)
        #expect(aml.caller == "carol@contoso.example" && aml.callerObjectId == "oid-2")
        // An identity that names nobody does not hide the REST shape's / a row's own claims.
        let both = try NormalizerTestSupport.event(#"""
        {"TimeGenerated":"2025-03-04T10:00:04Z","Type":"AzureActivity","OperationNameValue":"MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION",
         "CategoryValue":"Administrative","ActivityStatusValue":"Success","Identity":"{\"type\":\"SystemAssigned\"}",
         "Claims":"{\"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn\":\"dave@contoso.example\",\"ipaddr\":\"198.51.100.8\"}"}
        """#)
        #expect(both.caller == "dave@contoso.example")
        let signIn = try NormalizerTestSupport.event(#"""
        {"time":"2025-03-04T10:27:00Z","resourceId":"/tenants/t1/providers/Microsoft.aadiam","operationName":"Sign-in activity",
         "category":"SignInLogs","resultType":"0","callerIpAddress":"203.0.113.9","identity":"Bob",
         "properties":"{\"userPrincipalName\":\"bob@contoso.example\",\"userId\":\"u-9\",\"appId\":\"app-9\"}"}
        """#)
        #expect(signIn.kind == .signIn && signIn.caller == "bob@contoso.example" && signIn.callerObjectId == "u-9" && signIn.callerAppId == "app-9")
        let named = try NormalizerTestSupport.event(#"""
        {"time":"2025-03-04T10:27:00Z","resourceId":"/tenants/t1/providers/Microsoft.aadiam","operationName":"Sign-in activity",
         "category":"SignInLogs","resultType":"0","identity":"Bob","properties":{}}
        """#)
        #expect(named.caller == "Bob")
    }

    /// The older Entra audit export (category `Audit`, no resource id) is an audit record; a
    /// resource's own `Audit` category stays a resource log.
    @Test func olderEntraAuditExportIsAnAudit() throws {
        let old = try NormalizerTestSupport.event(#"""
        {"time":"2024-03-18T19:47:43.0368859Z","operationName":"Update service principal.","category":"Audit","tenantId":"t1",
         "resultType":"Success","callerIpAddress":"<null>","correlationId":"c-1","identity":"NA","Level":"Informational",
         "properties":{"operationType":"Update","targetResourceType":"Other__ObjectID","auditEventCategory":"ApplicationManagement"}}
        """#)
        #expect(old.kind == .audit && old.callerIP == nil)
        let resource = try NormalizerTestSupport.event(#"""
        {"time":"2024-03-18T19:47:43Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.PURVIEW/ACCOUNTS/P1",
         "operationName":"Read","category":"Audit","properties":{}}
        """#)
        #expect(resource.kind == .resourceLog)
    }

    /// An AzureActivity `Security` row read from a CSV export: `Properties` as JSON text, or an
    /// empty `Properties` cell beside `Properties_d`, still gives the alert's severity and title.
    @Test func securityRowsReadTheirPropertiesInEveryCell() throws {
        let props = #"{\"severity\":\"High\",\"alertDisplayName\":\"Suspicious key listing\"}"#
        for cells in [#""Properties":"\#(props)""#, #""Properties":"","Properties_d":\#(props.replacingOccurrences(of: "\\\"", with: "\""))"#] {
            let e = try NormalizerTestSupport.event(#"""
            {"TimeGenerated":"2025-03-04T10:00:04Z","Type":"AzureActivity","CategoryValue":"Security","OperationNameValue":"MICROSOFT.SECURITY/LOCATIONS/ALERTS/ACTIVATE/ACTION",
             "ActivityStatusValue":"Succeeded",\#(cells)}
            """#)
            #expect(e.kind == .defenderAlert && e.severity == .high && e.title == "Suspicious key listing", "\(cells)")
        }
    }

    @Test func servicePrincipalCallerIsAnApplicationNotAnAccount() throws {
        let e = try NormalizerTestSupport.event(#"{"time":"2025-01-01T00:00:00Z","operationName":"Microsoft.Storage/storageAccounts/listKeys/action","identity":{"claims":{"appid":"app-9"}}}"#)
        #expect(EntityExtraction.defaultEntities(for: e) == [Entity(kind: .cloudApplication, value: "app-9")])
    }

    @Test func defenderEntitiesResolveIdAndRef() throws {
        let list = try JSONDocument.parse("""
        [{"$id":"4","HostName":"WIN1","NetBiosName":"WIN1","Type":"host"},
         {"$id":"5","Name":"adm1n","NTDomain":"CONTOSO","Host":{"$ref":"4"},"Type":"account"},
         {"$id":"6","Name":"ADMINISTRATOR","Type":"account"},
         {"$ref":"7"},
         {"$id":"8","Address":"203.0.113.45","Type":"ip","Location":{"$id":"7","Address":"198.51.100.1","Type":"ip"}},
         {"$id":"9","Name":"mallory","UPNSuffix":"contoso.example","AadUserId":"oid-7","Type":"account"},
         {"$id":"10","ResourceId":"/subscriptions/s1/resourceGroups/rg","Type":"azure-resource"},
         {"$id":"11","Directory":"c:\\\\windows","Name":"net.exe","Type":"file"}]
        """)
        let entities = EntityExtraction.entities(fromAlertEntities: list.root)
        #expect(entities == [
            Entity(kind: .host, value: "WIN1"), Entity(kind: .account, value: "CONTOSO\\adm1n"),
            Entity(kind: .ip, value: "198.51.100.1"), Entity(kind: .ip, value: "203.0.113.45"),
            Entity(kind: .account, value: "mallory@contoso.example"), Entity(kind: .account, value: "oid-7"),
            Entity(kind: .azureResource, value: "/subscriptions/s1/resourceGroups/rg"),
            Entity(kind: .file, value: "c:\\windows\\net.exe"),
        ])
    }

    @Test func alertEntitiesOfARESTAlertIncludeCompromisedHost() throws {
        let e = try NormalizerTestSupport.event("""
        {"id":"/subscriptions/s1/providers/Microsoft.Security/locations/we/alerts/a1","name":"a1","type":"Microsoft.Security/Locations/alerts",
         "properties":{"alertType":"VM_EICAR","systemAlertId":"a1","severity":"High","alertDisplayName":"t","startTimeUtc":"2020-02-22T00:00:00Z",
          "resourceIdentifiers":[{"type":"AzureResource","azureResourceId":"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"}],
          "entities":[{"address":"192.0.2.1","type":"ip"}],"compromisedEntity":"vm1"}}
        """)
        #expect(EntityExtraction.alertEntities(for: e) == [
            Entity(kind: .ip, value: "192.0.2.1"),
            Entity(kind: .azureResource, value: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"),
            Entity(kind: .host, value: "vm1"),
        ])
    }
}
