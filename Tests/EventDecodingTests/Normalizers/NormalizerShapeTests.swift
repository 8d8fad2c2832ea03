import EventDecoding
import EventModel
import FastJSON
import Testing

// One test per shape, with hand-written records built from ../shared/reference (ids are fake:
// subscription 11111111-2222-3333-4444-555555555555, tenant aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee).

private let sub = "11111111-2222-3333-4444-555555555555"
private let tenant = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
private func event(_ json: String) throws -> Event { try NormalizerTestSupport.event(json) }

@Suite struct NormalizerShapeTests {
    @Test func activityExportRoleAssignment() throws {
        let e = try event("""
        {"time":"2025-03-04T09:15:02.1234567Z",
         "resourceId":"/SUBSCRIPTIONS/\(sub)/RESOURCEGROUPS/RG-ML/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/5F0C2B8E",
         "operationName":"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE","category":"Administrative",
         "resultType":"Start","resultSignature":"Started.","durationMs":0,
         "callerIpAddress":"203.0.113.45","correlationId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
         "identity":{"authorization":{"action":"Microsoft.Authorization/roleAssignments/write"},
          "claims":{"appid":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","name":"Mallory Admin",
           "http://schemas.microsoft.com/identity/claims/objectidentifier":"c0ffee00-1234-4567-8901-abcdefabcdef",
           "http://schemas.microsoft.com/identity/claims/tenantid":"\(tenant)",
           "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"mallory@contoso.example"}},
         "level":"Information","location":"global",
         "properties":{"eventCategory":"Administrative","requestbody":"{\\"Properties\\":{\\"RoleDefinitionId\\":\\"/x/8e3af657\\"}}"}}
        """)
        #expect(e.kind == .activity && e.shape == .resourceLogExport)
        #expect(e.time?.iso8601 == "2025-03-04T09:15:02.1234567Z")
        #expect(e.operationName == "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE")
        #expect(e.operation == "microsoft.authorization/roleassignments/write")
        #expect(e.category == "Administrative" && e.result == "Start" && e.resultSignature == "Started.")
        #expect(e.level == "Informational")
        #expect(e.caller == "mallory@contoso.example")
        #expect(e.callerObjectId == "c0ffee00-1234-4567-8901-abcdefabcdef")
        #expect(e.callerAppId == "c44b4083-3bb0-49c1-b47d-974e53cbdf3c")
        #expect(e.callerIP == "203.0.113.45" && e.tenantId == tenant)
        #expect(e.resource?.subscription == sub && e.resource?.resourceGroup == "RG-ML")
        #expect(e.resource?.type == "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS")
        #expect(e.correlationId == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        // The body stays reachable by path, JSON-in-string included.
        #expect(e.text(at: "properties.requestbody.properties.roleDefinitionId") == "/x/8e3af657")
    }

    @Test func activityExportServicePrincipalAndLegacyCategory() throws {
        let e = try event("""
        {"time":"2019-01-21T22:14:26.9792776Z","resourceId":"/subscriptions/\(sub)/resourceGroups/rg/providers/microsoft.support/supporttickets/1",
         "operationName":"microsoft.support/supporttickets/write","category":"Write","resultType":"Success",
         "identity":{"claims":{"appid":"5a5a5a5a-6b6b-4c4c-8d8d-9e9e9e9e9e9e","idtyp":"app",
           "http://schemas.microsoft.com/identity/claims/objectidentifier":"7d7d7d7d-0000-4000-8000-000000000001"}},
         "properties":{"statusCode":"Created"}}
        """)
        #expect(e.kind == .activity)
        #expect(e.category == "Administrative")   // legacy Write/Delete/Action
        #expect(e.caller == "5a5a5a5a-6b6b-4c4c-8d8d-9e9e9e9e9e9e")
        #expect(e.callerObjectId == "7d7d7d7d-0000-4000-8000-000000000001")
    }

    @Test func activityRESTShape() throws {
        let e = try event("""
        {"authorization":{"action":"Microsoft.Network/networkSecurityGroups/write"},"caller":"rob@contoso.example",
         "claims":{"appid":"00001111-aaaa-2222-bbbb-3333cccc4444","ipaddr":"198.51.100.9",
           "http://schemas.microsoft.com/identity/claims/objectidentifier":"f409edeb-0000-4000-8000-000000000001"},
         "correlationId":"aaaa0000-bb11-2222-33cc-444444dddddd","category":{"value":"Administrative","localizedValue":"Administrative"},
         "eventTimestamp":"2018-01-29T20:42:31.3810679Z","level":"Informational",
         "operationName":{"value":"Microsoft.Network/networkSecurityGroups/write","localizedValue":"x"},
         "resourceId":"/subscriptions/\(sub)/resourcegroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1",
         "status":{"value":"Succeeded","localizedValue":"Succeeded"},"subStatus":{"value":"Created"},
         "httpRequest":{"clientIpAddress":"203.0.113.7","method":"PUT"},"properties":{"statusCode":"Created"}}
        """)
        #expect(e.kind == .activity && e.shape == .activityREST)
        #expect(e.time?.iso8601 == "2018-01-29T20:42:31.3810679Z")
        #expect(e.operation == "microsoft.network/networksecuritygroups/write")
        #expect(e.category == "Administrative" && e.result == "Succeeded" && e.resultSignature == "Created")
        #expect(e.caller == "rob@contoso.example" && e.callerIP == "203.0.113.7")
        #expect(e.callerAppId == "00001111-aaaa-2222-bbbb-3333cccc4444")
        #expect(e.resource?.name == "nsg1")
    }

    @Test func azureActivityLogAnalyticsRow() throws {
        let e = try event("""
        {"TenantId":"99999999-0000-0000-0000-000000000000","SourceSystem":"Azure","TimeGenerated":"2025-03-04T10:02:44.555Z",
         "OperationName":"Create or Update Security Rule","OperationNameValue":"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE",
         "CategoryValue":"Administrative","ActivityStatusValue":"Success","ActivitySubstatusValue":"Created","Level":"Informational",
         "Caller":"dev1@contoso.example","CallerIpAddress":"198.51.100.7","CorrelationId":"11aa22bb-33cc-44dd-55ee-66ff77889900",
         "Properties_d":{"requestbody":"{\\"properties\\":{\\"sourceAddressPrefix\\":\\"*\\"}}"},
         "_ResourceId":"/subscriptions/\(sub)/resourcegroups/rg-ml/providers/microsoft.network/networksecuritygroups/nsg/securityrules/allow-ssh",
         "Type":"AzureActivity"}
        """)
        #expect(e.kind == .activity && e.shape == .logAnalytics)
        #expect(e.operationName == "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE")
        #expect(e.result == "Success" && e.resultSignature == "Created" && e.category == "Administrative")
        #expect(e.caller == "dev1@contoso.example" && e.callerIP == "198.51.100.7")
        #expect(e.tenantId == nil)   // LA TenantId is the workspace, not the Entra tenant
        #expect(e.resource?.name == "allow-ssh")
        #expect(e.text(at: "Properties_d.requestbody.properties.sourceAddressPrefix") == "*")
    }

    @Test func keyVaultAuditEvent() throws {
        let e = try event("""
        {"time":"2016-01-05T01:32:01.2691226Z","resourceId":"/SUBSCRIPTIONS/\(sub)/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV1",
         "operationName":"SecretGet","operationVersion":"7.4","category":"AuditEvent","resultType":"Success","resultSignature":"OK",
         "durationMs":"78","callerIpAddress":"104.40.82.76","correlationId":"",
         "identity":{"claim":{"http://schemas.microsoft.com/identity/claims/objectidentifier":"d9da5048-0000-4000-8000-000000000001",
           "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"live.com#user@outlook.example","appid":"00001111-aaaa-2222-bbbb-3333cccc4444"}},
         "properties":{"clientInfo":"azure-resource-manager/2.0","httpStatusCode":200}}
        """)
        #expect(e.kind == .resourceLog && e.category == "AuditEvent")
        #expect(e.operation == "secretget" && e.result == "Success")
        #expect(e.caller == "live.com#user@outlook.example" && e.callerObjectId == "d9da5048-0000-4000-8000-000000000001")
        #expect(e.correlationId == nil)   // empty string is no correlation id
        #expect(e.resource?.type == "MICROSOFT.KEYVAULT/VAULTS")
    }

    @Test func storageBlobLog() throws {
        let e = try event("""
        {"time":"2025-03-04T12:10:00.0000000Z","resourceId":"/subscriptions/\(sub)/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1/blobServices/default",
         "category":"StorageRead","operationName":"GetBlob","operationVersion":"2021-08-06","schemaVersion":"1.0","statusCode":200,
         "statusText":"Success","durationMs":12,"callerIpAddress":"192.0.2.99:51234","correlationId":"c0c0c0c0-0000-4000-8000-000000000001",
         "identity":{"type":"OAuth","tokenHash":"abc","requester":{"appId":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","objectId":"7d7d7d7d-0000-4000-8000-000000000002",
           "tenantId":"\(tenant)","upn":"dev1@contoso.example"}},
         "properties":{"accountName":"st1","objectKey":"/st1/datastore/train.csv"}}
        """)
        #expect(e.kind == .resourceLog && e.category == "StorageRead")
        #expect(e.result == "Success" && e.resultSignature == "200")
        #expect(e.callerIP == "192.0.2.99")   // port dropped; raw callerIpAddress keeps it
        #expect(e.text(at: "callerIpAddress") == "192.0.2.99:51234")
        #expect(e.caller == "dev1@contoso.example" && e.callerAppId == "04b07795-8ddb-461a-bbee-02f9e1bf7b46")
        #expect(e.tenantId == tenant && e.resource?.name == "default")
    }

    @Test(arguments: ["DataStoreReadEvent", "ModelsReadEvent", "ComputeInstanceEvent", "AmlComputeJobEvent"])
    func azureMLResourceLog(category: String) throws {
        // Synthetic: Microsoft does not document the raw AML export (resource-logs.md §3).
        let e = try event("""
        {"time":"2025-03-04T12:00:05Z","resourceId":"/SUBSCRIPTIONS/\(sub)/RESOURCEGROUPS/RG-ML/PROVIDERS/MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MLW-PROD",
         "category":"\(category)","operationName":"Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action","resultType":"Succeeded",
         "level":"Informational","correlationId":"abababab-cdcd-efef-0101-232323232323",
         "identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"ds@contoso.example"}},
         "properties":{"AmlDatastoreName":"workspaceblobstore"}}
        """)
        #expect(e.kind == .resourceLog && e.category == category)
        #expect(e.caller == "ds@contoso.example")
        #expect(e.resource?.type == "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES" && e.resource?.name == "MLW-PROD")
    }

    @Test func kubeAuditWithoutTime() throws {
        let e = try event("""
        {"category":"kube-audit","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
         "properties":{"log":"{\\"verb\\":\\"create\\",\\"user\\":{\\"username\\":\\"admin@example.com\\"}}"}}
        """)
        #expect(e.kind == .resourceLog && e.time == nil)
        #expect(Normalizer.missingTimeNote(for: e)?.code == "input.no-time")
        #expect(e.text(at: "properties.log.user.username") == "admin@example.com")
    }

    @Test func entraSignInExport() throws {
        let e = try event("""
        {"time":"2019-03-12T16:02:15.5522137Z","resourceId":"/tenants/\(tenant)/providers/Microsoft.aadiam","operationName":"Sign-in activity",
         "category":"SignInLogs","tenantId":"\(tenant)","resultType":"50140","resultSignature":"None","callerIpAddress":"203.0.113.5",
         "correlationId":"aaaa0000-bb11-2222-33cc-444444dddddd","identity":"Timothy Perkins","Level":4,"location":"US",
         "properties":{"createdDateTime":"2019-03-12T16:02:15.5522137+00:00","userPrincipalName":"tim@contoso.example",
           "userId":"b0b0b0b0-0000-4000-8000-000000000001","appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","ipAddress":"203.0.113.5",
           "status":{"errorCode":50140}}}
        """)
        #expect(e.kind == .signIn && e.shape == .resourceLogExport)
        #expect(e.result == "50140" && e.level == "Informational")
        #expect(e.caller == "tim@contoso.example" && e.callerObjectId == "b0b0b0b0-0000-4000-8000-000000000001")
        #expect(e.callerAppId == "c44b4083-3bb0-49c1-b47d-974e53cbdf3c" && e.tenantId == tenant)
        #expect(e.resource?.subscription == nil && e.resource?.provider == "Microsoft.aadiam")
    }

    @Test func entraAuditExportWithoutTime() throws {
        let e = try event("""
        {"category":"AuditLogs","correlationId":"1234155","identity":"Ju Cho","Level":"4","operationName":"Add member to role",
         "properties":{"activityDateTime":"2024-12-16 16:32:16.087554000","activityDisplayName":"Add member to role","category":"RoleManagement",
          "initiatedBy":{"user":{"displayName":"Ju Cho","id":"12345","userPrincipalName":"ju@contoso.example","ipAddress":"198.51.100.1"}},
          "result":"success"}}
        """)
        #expect(e.kind == .audit)
        #expect(e.time?.iso8601 == "2024-12-16T16:32:16.087554Z")   // properties.activityDateTime
        #expect(e.caller == "ju@contoso.example" && e.callerObjectId == "12345" && e.callerIP == "198.51.100.1")
        #expect(e.result == "success" && e.category == "AuditLogs")
    }

    @Test func signInLogAnalyticsRow() throws {
        let e = try event("""
        {"TenantId":"7c759f10-0000-4000-8000-000000000000","SourceSystem":"Azure AD","ResourceId":"/tenants/\(tenant)/providers/Microsoft.aadiam",
         "OperationName":"Sign-in activity","Category":"SignInLogs","ResultType":"0","Identity":"Adele Vance","Level":"4",
         "AppId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","CreatedDateTime [UTC]":"4/28/2021, 2:08:45.221 PM","IPAddress":"175.45.176.99",
         "Status_dynamic":"{\\"errorCode\\":0}","UserId":"9b117c67-0000-4000-8000-000000000001","UserPrincipalName":"adelev@contoso.example",
         "AADTenantId":"\(tenant)","Type":"SigninLogs"}
        """)
        #expect(e.kind == .signIn && e.shape == .logAnalytics)
        #expect(e.time?.iso8601 == "2021-04-28T14:08:45.221Z")
        #expect(e.caller == "adelev@contoso.example" && e.callerIP == "175.45.176.99" && e.result == "0")
        #expect(e.tenantId == tenant && e.category == "SignInLogs")
    }

    @Test func auditLogAnalyticsRowWithJSONCell() throws {
        let e = try event("""
        {"OperationName":"Update application – Certificates and secrets management ","CorrelationId":"9cee9603-0000-4000-8000-000000000001",
         "SourceSystem":"Azure AD","Category":"ApplicationManagement","Result":"success","ResultType":"",
         "InitiatedBy":"{\\"user\\":{\\"userPrincipalName\\":\\"victim@contoso.example\\",\\"ipAddress\\":\\"45.153.160.2\\",\\"id\\":\\"34070915-0000-4000-8000-000000000001\\"}}",
         "Type":"AuditLogs"}
        """)
        #expect(e.kind == .audit && e.shape == .logAnalytics)
        #expect(e.time == nil && e.operationName?.hasPrefix("Update application") == true)
        #expect(e.caller == "victim@contoso.example" && e.callerIP == "45.153.160.2")
        #expect(e.result == "success" && e.category == "ApplicationManagement")
    }

    @Test func graphSignInAndDirectoryAudit() throws {
        let s = try event("""
        {"id":"66ea54eb-0000-4000-8000-000000000001","createdDateTime":"2024-05-01T10:00:00Z","userPrincipalName":"a@contoso.example",
         "userId":"a0a0a0a0-0000-4000-8000-000000000001","appId":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","ipAddress":"203.0.113.50",
         "status":{"errorCode":50126,"failureReason":"Invalid username or password"},"correlationId":"c1c1c1c1-0000-4000-8000-000000000001"}
        """)
        #expect(s.kind == .signIn && s.shape == .graph)
        #expect(s.result == "50126" && s.caller == "a@contoso.example" && s.callerIP == "203.0.113.50")
        let a = try event("""
        {"id":"Directory_1","category":"RoleManagement","correlationId":"c2c2c2c2-0000-4000-8000-000000000001","result":"success",
         "activityDisplayName":"Add member to role","activityDateTime":"2024-05-01T10:05:00Z","loggedByService":"Core Directory",
         "initiatedBy":{"app":{"appId":"1950a258-227b-4e31-a9cf-717495945fc2","displayName":"Azure PowerShell","servicePrincipalId":"sp-1"}}}
        """)
        #expect(a.kind == .audit && a.shape == .graph)
        #expect(a.operationName == "Add member to role" && a.operation == "add member to role")
        #expect(a.caller == "Azure PowerShell" && a.callerAppId == "1950a258-227b-4e31-a9cf-717495945fc2" && a.callerObjectId == "sp-1")
    }

    @Test func defenderRESTAlert() throws {
        let e = try event("""
        {"id":"/subscriptions/\(sub)/resourceGroups/rg-ml/providers/Microsoft.Security/locations/westeurope/alerts/2517184898549829577_cdcf",
         "name":"2517184898549829577_cdcf","type":"Microsoft.Security/Locations/alerts",
         "properties":{"alertType":"ARM_AnomalousRBACRoleAssignment","systemAlertId":"2517184898549829577_cdcf",
          "alertDisplayName":"Suspicious Azure role assignment detected","severity":"Medium","status":"Active",
          "startTimeUtc":"2025-03-04T09:15:02.1234567Z","timeGeneratedUtc":"2025-03-04T09:31:40Z",
          "resourceIdentifiers":[{"type":"AzureResource","azureResourceId":"/subscriptions/\(sub)/resourceGroups/rg-ml"}],
          "entities":[{"type":"account","name":"mallory","upnSuffix":"contoso.example","aadUserId":"c0ffee00-0000-4000-8000-000000000001"},
                      {"type":"ip","address":"203.0.113.45"}],
          "compromisedEntity":"rg-ml"}}
        """)
        #expect(e.kind == .defenderAlert && e.shape == .defenderREST)
        #expect(e.time?.iso8601 == "2025-03-04T09:15:02.1234567Z")
        #expect(e.operationName == "ARM_AnomalousRBACRoleAssignment" && e.title == "Suspicious Azure role assignment detected")
        #expect(e.severity == .medium && e.result == "Active" && e.alertId == "2517184898549829577_cdcf")
        #expect(e.resource?.raw == "/subscriptions/\(sub)/resourceGroups/rg-ml")
    }

    @Test func defenderContinuousExportAlert() throws {
        let e = try event("""
        {"AlertType":"Storage.Blob_AnonymousAccessAnomaly","SystemAlertId":"2518000000000000000_aaaa","AlertDisplayName":"Anonymous access",
         "Severity":"High","Status":"New","StartTimeUtc":"2025-03-04T11:00:00Z","TimeGenerated":"2025-03-04T11:20:00Z",
         "AzureResourceId":"/subscriptions/\(sub)/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1",
         "CompromisedEntity":"st1","Entities":[{"$id":"1","Address":"198.51.100.20","Type":"ip"},{"$id":"2","HostName":"vm1","Type":"host"}],
         "WorkspaceId":"ws-1","WorkspaceSubscriptionId":"\(sub)","WorkspaceResourceGroup":"rg-la","AgentId":"agent-1"}
        """)
        // The export flattens the alert's Log Analytics identifiers too: still the export shape.
        #expect(e.kind == .defenderAlert && e.shape == .defenderExport)
        #expect(e.severity == .high && e.result == "Active" && e.alertId == "2518000000000000000_aaaa")
        #expect(e.resource?.name == "st1" && e.time?.iso8601 == "2025-03-04T11:00:00Z")
    }

    @Test func securityAlertLogAnalyticsRow() throws {
        let e = try event("""
        {"TenantId":"802d39e1-0000-4000-8000-000000000000","StartTimeUtc":"2019-01-15 09:15:03","ProviderAlertId":"526e34b6",
         "SystemAlertId":"2518547570966661760_526e34b6","ProviderName":"Detection","AlertType":"Suspicious Account Creation Detected",
         "AlertDisplayName":"Suspicious Account Creation Detected","Severity":"Medium","Entities":"[{\\"$id\\":\\"4\\",\\"HostName\\":\\"WIN1\\",\\"Type\\":\\"host\\"}]",
         "TimeGenerated":"2019-01-15 09:15:08","ResourceId":"/subscriptions/\(sub)/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/Win1",
         "CompromisedEntity":"WIN1"}
        """)
        #expect(e.kind == .defenderAlert && e.shape == .logAnalytics)
        #expect(e.time?.iso8601 == "2019-01-15T09:15:03Z" && e.severity == .medium)
        #expect(e.alertId == "2518547570966661760_526e34b6" && e.title == "Suspicious Account Creation Detected")
        #expect(e.resource?.name == "Win1")
        let newColumns = try event("""
        {"TimeGenerated":"2024-01-01T00:00:00Z","AlertName":"x","AlertSeverity":"Low","StartTime":"2023-12-31T23:59:00Z",
         "SystemAlertId":"id-1","Type":"SecurityAlert"}
        """)
        #expect(newColumns.severity == .low && newColumns.title == "x" && newColumns.time?.iso8601 == "2023-12-31T23:59:00Z")
    }

    @Test func activityLogSecurityAlert() throws {
        let e = try event("""
        {"time":"2025-03-04T09:40:00Z","resourceId":"/subscriptions/\(sub)/resourceGroups/rg-ml/providers/Microsoft.Security/locations/westeurope/alerts/2517_abcd",
         "operationName":"Microsoft.Security/locations/alerts/activate/action","category":"Security","resultType":"Active","level":"Informational",
         "correlationId":"2517_abcd","properties":{"severity":"High","compromisedEntity":"mlw-prod","intent":"[\\"Persistence\\"]"}}
        """)
        #expect(e.kind == .defenderAlert && e.shape == .resourceLogExport)
        #expect(e.severity == .high && e.alertId == "2517_abcd" && e.category == "Security")
    }

    @Test func partialRecordsNormalise() throws {
        let onlyOperation = try event(#"{"category":"Administrative","operationName":"Microsoft.Compute/virtualMachines/write","p_log_type":"x"}"#)
        #expect(onlyOperation.kind == .activity && onlyOperation.time == nil)
        let storageNoCategory = try event(#"{"time":"2024-12-19T16:37:50.733Z","operationName":"deleteblob","callerIpAddress":"5.5.5.5:3832"}"#)
        #expect(storageNoCategory.kind == .resourceLog && storageNoCategory.callerIP == "5.5.5.5")
        let operationObject = try event(#"{"time":"2024-12-24T15:45:00Z","operationName":{"value":"Microsoft.Authorization/elevateAccess/action"},"category":"Administrative"}"#)
        #expect(operationObject.operation == "microsoft.authorization/elevateaccess/action")
    }

    @Test func unknownShapeIsLocated() {
        do throws(Diagnostic) {
            let doc = try! JSONDocument.parse(#"{"foo":1,"bar":{"baz":2}}"#)
            _ = try Normalizer().normalize(doc, position: SourcePosition(source: "in.json", line: 7), id: 0)
            Issue.record("expected a diagnostic")
        } catch {
            #expect(error.code == "input.unknown-shape")
            #expect(error.location.file == "in.json" && error.location.line == 7)
            #expect(error.message.contains("no time") && error.message.contains("foo, bar"))
        }
        #expect(throws: Diagnostic.self) { try NormalizerTestSupport.event("[1,2]") }
        #expect(throws: Diagnostic.self) {
            try NormalizerTestSupport.event(#"{"type":"Microsoft.Security/assessments","id":"/x","properties":{"displayName":"d"}}"#)
        }
    }
}
