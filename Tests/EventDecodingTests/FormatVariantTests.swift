import EventDecoding
import EventModel
import Testing

/// Shapes seen in the public siblings of the corpus sources (other Activity Log categories in REST
/// shape, REST list items without `resourceId`, Log Analytics resource tables with flattened or
/// table-specific caller columns, Sentinel query results). Every record here is invented for the
/// test: same structure as the published ones, contoso names, documentation addresses.
@Suite struct FormatVariantTests {
    /// Reads `text` with the default (strict) normaliser: an unknown shape is a diagnostic.
    private func events(_ text: String, name: String = "input.json") throws -> [Event] {
        var reader = RecordReader(options: ReaderOptions())
        var c = Collector()
        try reader.read(bytes: Array(text.utf8), name: name, into: &c)
        #expect(c.diagnostics.isEmpty, "\(c.diagnostics)")
        return c.events
    }

    private func one(_ text: String, name: String = "input.json") throws -> Event {
        let all = try events(text, name: name)
        #expect(all.count == 1)
        return try #require(all.first)
    }

    // MARK: Activity Log REST, every category

    private static func rest(category: String, operation: String, status: String, extra: String = "") -> String {
        """
        {"channels": "Admin, Operation", "correlationId": "c0ffee00-1111-4222-8333-444455556666",
         "eventDataId": "e0000000-1111-4222-8333-444455556666", "eventName": {"value": "", "localizedValue": ""},
         "category": {"value": "\(category)", "localizedValue": "\(category)"},
         "eventTimestamp": "2024-03-01T08:15:30.5Z", "level": "Warning",
         "operationName": {"value": "\(operation)", "localizedValue": "\(operation)"},
         "resourceId": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ml/providers/Microsoft.Compute/virtualMachines/vm-contoso",
         "status": {"value": "\(status)", "localizedValue": "\(status)"}, "subStatus": {"value": null},
         "subscriptionId": "00000000-1111-2222-3333-444444444444", "properties": {"title": "Contoso notice"}\(extra)}
        """
    }

    @Test(arguments: [
        ("ServiceHealth", "Microsoft.ServiceHealth/incident/action", "Active"),
        ("ResourceHealth", "Microsoft.Resourcehealth/healthevent/Activated/action", "Active"),
        ("Alert", "Microsoft.Insights/AlertRules/Resolved/Action", "Resolved"),
        ("Autoscale", "Microsoft.Insights/AutoscaleSettings/Scaleup/Action", "Succeeded"),
    ])
    func restCategoriesAreActivity(category: String, operation: String, status: String) throws {
        let e = try one(Self.rest(category: category, operation: operation, status: status))
        #expect(e.kind == .activity && e.shape == .activityREST)
        #expect(e.category == category)
        #expect(e.operationName == operation)
        #expect(e.result == status)
        #expect(e.level == "Warning")
        #expect(e.time?.iso8601.hasPrefix("2024-03-01T08:15:30.5") == true)
        #expect(e.resource?.name == "vm-contoso")
        #expect(e.correlationId == "c0ffee00-1111-4222-8333-444455556666")
        #expect(e.severity == nil && e.title == nil)
    }

    @Test func alertCategoryCallerComesFromTheSPNClaim() throws {
        let extra = #", "caller": "Microsoft.Insights/alertRules", "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/spn": "Microsoft.Insights/alertRules"}"#
        let e = try one(Self.rest(category: "Alert", operation: "Microsoft.Insights/AlertRules/Activated/Action", status: "Activated", extra: extra))
        #expect(e.caller == "Microsoft.Insights/alertRules")
    }

    @Test func restSecurityCategoryIsADefenderAlertTitledByItsEventName() throws {
        let text = """
        {"channels": "Operation", "correlationId": "c0ffee01-1111-4222-8333-444455556666",
         "eventName": {"value": "Suspicious process executed", "localizedValue": "Suspicious process executed"},
         "category": {"value": "Security", "localizedValue": "Security"},
         "eventTimestamp": "2024-03-02T09:00:00Z", "level": "Informational",
         "operationName": {"value": "Microsoft.Security/locations/alerts/activate/action"},
         "resourceId": "/subscriptions/00000000-1111-2222-3333-444444444444/providers/Microsoft.Security/locations/westeurope/alerts/2517000000000000000_contoso-alert-1",
         "status": {"value": "Active"}, "properties": {"processName": "c:\\\\tools\\\\x.exe", "Severity": "Medium"}}
        """
        let e = try one(text)
        #expect(e.kind == .defenderAlert)
        #expect(e.title == "Suspicious process executed")
        #expect(e.severity == .medium)
        #expect(e.alertId == "2517000000000000000_contoso-alert-1")
        #expect(e.result == "Active")
    }

    @Test func restListItemWithoutResourceIdTakesItFromTheEventId() throws {
        // `$select`-filtered REST lists keep `id` (resource + /events/<id>/ticks/<n>) but no resourceId.
        let text = """
        {"value": [{"correlationId": "c0ffee02-1111-4222-8333-444455556666",
          "id": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-contoso/events/e1/ticks/638000000000000000",
          "operationName": {"value": "Microsoft.MachineLearningServices/workspaces/write"},
          "status": {"value": "Succeeded"}, "eventTimestamp": "2024-03-03T10:00:00Z", "level": "Informational"}],
         "nextLink": "https://management.azure.com/next"}
        """
        let e = try one(text)
        #expect(e.kind == .activity)
        #expect(e.resource?.raw == "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-contoso")
        #expect(e.resource?.type == "Microsoft.MachineLearningServices/workspaces")
    }

    // MARK: Log Analytics resource tables

    @Test func keyVaultAzureDiagnosticsRowsReadTheFlattenedClaims() throws {
        let text = """
        {"TimeGenerated": "2024-05-02T10:00:00Z", "Category": "AuditEvent", "ResourceType": "VAULTS", "ResourceProvider": "MICROSOFT.KEYVAULT",
         "ResourceId": "/SUBSCRIPTIONS/00000000-1111-2222-3333-444444444444/RESOURCEGROUPS/RG-ML/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-CONTOSO",
         "OperationName": "SecretGet", "ResultType": "Success", "ResultSignature": "OK", "CallerIPAddress": "203.0.113.10",
         "CorrelationId": "c0ffee03-1111-4222-8333-444455556666",
         "identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s": "alice@contoso.com",
         "identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g": "aaaaaaaa-0000-4000-8000-000000000001",
         "identity_claim_appid_g": "bbbbbbbb-0000-4000-8000-000000000002",
         "identity_claim_http_schemas_microsoft_com_identity_claims_tenantid_g": "11111111-2222-4333-8444-555555555555",
         "requestUri_s": "https://kv-contoso.vault.azure.net/secrets/db-pass?api-version=7.4", "httpStatusCode_d": 200,
         "TenantId": "99999999-0000-4000-8000-000000000000", "SourceSystem": "Azure", "Type": "AzureDiagnostics"}
        {"TimeGenerated": "2024-05-02T10:00:01Z", "Category": "AuditEvent", "OperationName": "SecretList", "ResultType": "Unauthorized",
         "CallerIPAddress": "203.0.113.11", "identity_claim_upn_s": "bob@contoso.com", "identity_claim_oid_g": "aaaaaaaa-0000-4000-8000-000000000003",
         "identity_claim_tid_g": "11111111-2222-4333-8444-555555555555", "Type": "AzureDiagnostics"}
        """
        let all = try events(text, name: "kv.jsonl")
        #expect(all.count == 2)
        let first = try #require(all.first), second = try #require(all.last)
        #expect(first.kind == .resourceLog && first.shape == .logAnalytics)
        #expect(first.operationName == "SecretGet" && first.category == "AuditEvent" && first.result == "Success")
        #expect(first.caller == "alice@contoso.com")
        #expect(first.callerObjectId == "aaaaaaaa-0000-4000-8000-000000000001")
        #expect(first.callerAppId == "bbbbbbbb-0000-4000-8000-000000000002")
        #expect(first.tenantId == "11111111-2222-4333-8444-555555555555")   // the claim, never the workspace TenantId
        #expect(first.callerIP == "203.0.113.10")
        #expect(first.resource?.name == "KV-CONTOSO")
        #expect(second.caller == "bob@contoso.com" && second.callerObjectId == "aaaaaaaa-0000-4000-8000-000000000003")
        #expect(second.tenantId == "11111111-2222-4333-8444-555555555555")
    }

    @Test func keyVaultAzureDiagnosticsCSV() throws {
        let csv = """
        TenantId,TimeGenerated [UTC],ResourceId,Category,ResourceType,OperationName,ResultType,CallerIPAddress,identity_claim_upn_s,identity_claim_oid_g,Type\r
        99999999-0000-4000-8000-000000000000,"5/2/2024, 10:00:00.000 AM",/SUBSCRIPTIONS/00000000-1111-2222-3333-444444444444/RESOURCEGROUPS/RG-ML/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-CONTOSO,AuditEvent,VAULTS,SecretGet,Success,203.0.113.10,alice@contoso.com,aaaaaaaa-0000-4000-8000-000000000001,AzureDiagnostics\r

        """
        let e = try one(csv, name: "kv.csv")
        #expect(e.kind == .resourceLog && e.shape == .logAnalytics)
        #expect(e.time?.iso8601.hasPrefix("2024-05-02T10:00:00") == true)
        #expect(e.caller == "alice@contoso.com" && e.callerObjectId == "aaaaaaaa-0000-4000-8000-000000000001")
        #expect(e.tenantId == nil)
    }

    @Test func storageBlobLogsRowsReadTheRequesterColumns() throws {
        let text = """
        {"TimeGenerated": "2024-05-02T10:05:00Z", "AccountName": "stcontoso", "OperationName": "GetBlob", "AuthenticationType": "OAuth",
         "StatusCode": "200", "StatusText": "Success", "Uri": "https://stcontoso.blob.core.windows.net/data/train.csv",
         "CallerIpAddress": "203.0.113.12:51234", "CorrelationId": "c0ffee04-1111-4222-8333-444455556666",
         "RequesterObjectId": "aaaaaaaa-0000-4000-8000-000000000006", "RequesterTenantId": "11111111-2222-4333-8444-555555555555",
         "RequesterAppId": "bbbbbbbb-0000-4000-8000-000000000007", "RequesterUpn": "carol@contoso.com", "Category": "StorageRead",
         "_ResourceId": "/subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups/rg-ml/providers/microsoft.storage/storageaccounts/stcontoso/blobservices/default",
         "TenantId": "99999999-0000-4000-8000-000000000000", "Type": "StorageBlobLogs"}
        """
        let e = try one(text)
        #expect(e.kind == .resourceLog && e.category == "StorageRead")
        #expect(e.result == "Success" && e.resultSignature == "200")
        #expect(e.caller == "carol@contoso.com")
        #expect(e.callerObjectId == "aaaaaaaa-0000-4000-8000-000000000006")
        #expect(e.callerAppId == "bbbbbbbb-0000-4000-8000-000000000007")
        #expect(e.tenantId == "11111111-2222-4333-8444-555555555555")
        #expect(e.callerIP == "203.0.113.12")
    }

    @Test func azureMLTableRowsReadIdentityAndTenant() throws {
        let text = """
        {"TimeGenerated": "2024-05-02T11:00:00Z", "OperationName": "Microsoft.MachineLearningServices/workspaces/datasets/registered/write",
         "Category": "AmlDataSetEvent", "ResultType": "Succeeded", "AadTenantId": "11111111-2222-4333-8444-555555555555",
         "AmlWorkspaceName": "mlw-contoso", "Identity": "{\\"upn\\":\\"dave@contoso.com\\",\\"oid\\":\\"aaaaaaaa-0000-4000-8000-00000000000b\\"}",
         "CallerIpAddress": "2001:db8::15", "Type": "AmlDataSetEvent",
         "_ResourceId": "/subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups/rg-ml/providers/microsoft.machinelearningservices/workspaces/mlw-contoso"}
        {"TimeGenerated": "2024-05-02T11:05:00Z", "OperationName": "Microsoft.MachineLearningServices/workspaces/jobs/write",
         "Category": "AmlRunStatusChangedEvent", "ResultType": "Succeeded", "Identity": "erin@contoso.com", "Type": "AmlRunStatusChangedEvent"}
        {"TimeGenerated": "2024-05-02T11:10:00Z", "ClusterName": "cpu-cluster", "EventType": "Resizing", "OperationName": "Resize",
         "Category": "AmlComputeClusterEvent", "Type": "AmlComputeClusterEvent"}
        """
        let all = try events(text, name: "aml.jsonl")
        #expect(all.count == 3)
        #expect(all.allSatisfy { $0.kind == .resourceLog && $0.shape == .logAnalytics && $0.time != nil })
        #expect(all[0].caller == "dave@contoso.com")
        #expect(all[0].callerObjectId == "aaaaaaaa-0000-4000-8000-00000000000b")
        #expect(all[0].tenantId == "11111111-2222-4333-8444-555555555555")
        #expect(all[0].callerIP == "2001:db8::15")
        #expect(all[0].resource?.name == "mlw-contoso")
        #expect(all[1].caller == "erin@contoso.com")
        #expect(all[2].caller == nil && all[2].category == "AmlComputeClusterEvent")
    }

    // MARK: Log Analytics CSV exports

    @Test func azureActivityCSVClaimsCellGivesObjectIdAndTenant() throws {
        let csv = """
        $table,TenantId,SourceSystem,CallerIpAddress,CategoryValue,CorrelationId,Claims,Level,OperationNameValue,Caller,ActivityStatusValue,TimeGenerated [UTC],Type,_ResourceId
        AzureActivity,99999999-0000-4000-8000-000000000000,Azure,203.0.113.20,Administrative,c0ffee05-1111-4222-8333-444455556666,"{
          ""appid"": ""bbbbbbbb-0000-4000-8000-000000000008"",
          ""http://schemas.microsoft.com/identity/claims/objectidentifier"": ""aaaaaaaa-0000-4000-8000-000000000009"",
          ""http://schemas.microsoft.com/identity/claims/tenantid"": ""11111111-2222-4333-8444-555555555555"",
          ""http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"": ""frank@contoso.com""
        }",Informational,MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/DELETE,frank@contoso.com,Success,"5/2/2024, 2:32:14.029 PM",AzureActivity,/subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups/rg-ml/providers/microsoft.machinelearningservices/workspaces/mlw-contoso

        """
        let e = try one(csv, name: "azureActivity.csv")
        #expect(e.kind == .activity && e.shape == .logAnalytics)
        #expect(e.caller == "frank@contoso.com")
        #expect(e.callerObjectId == "aaaaaaaa-0000-4000-8000-000000000009")
        #expect(e.callerAppId == "bbbbbbbb-0000-4000-8000-000000000008")
        #expect(e.tenantId == "11111111-2222-4333-8444-555555555555")
        #expect(e.callerIP == "203.0.113.20")
        #expect(e.time?.iso8601.hasPrefix("2024-05-02T14:32:14.029") == true)
    }

    @Test func sentinelQueryResultRowTakesItsTimeFromStartTime() throws {
        // A hunting-query result: a table name (`Type`) and summarised columns, no TimeGenerated.
        let csv = """
        StartTime [UTC],EndTime [UTC],IPAddress,failedAttempts,accountSet,Type,timestamp [UTC]
        "4/19/2024, 12:13:19.483 PM","4/19/2024, 12:16:34.877 PM",203.0.113.30,4,"[""grace@contoso.com""]",SigninLogs,"4/19/2024, 12:13:19.483 PM"

        """
        let e = try one(csv, name: "signinLogs.csv")
        #expect(e.kind == .signIn && e.shape == .logAnalytics)
        #expect(e.time?.iso8601.hasPrefix("2024-04-19T12:13:19.483") == true)
        #expect(e.callerIP == "203.0.113.30")
    }

    @Test func auditRowCallerStillComesFromInitiatedByNotTheIdentityColumn() throws {
        let text = """
        {"TimeGenerated": "2024-05-03T09:00:00Z", "OperationName": "Add member to group", "Category": "GroupManagement",
         "Result": "success", "Identity": "Contoso Sync Service", "AADTenantId": "11111111-2222-4333-8444-555555555555",
         "InitiatedBy": {"user": {"userPrincipalName": "heidi@contoso.com", "id": "aaaaaaaa-0000-4000-8000-00000000000c", "ipAddress": "203.0.113.40"}},
         "Type": "AuditLogs"}
        """
        let e = try one(text)
        #expect(e.kind == .audit)
        #expect(e.caller == "heidi@contoso.com")
        #expect(e.callerIP == "203.0.113.40")
        #expect(e.tenantId == "11111111-2222-4333-8444-555555555555")
    }
}
