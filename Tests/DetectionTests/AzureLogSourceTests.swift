@testable import Detection
import EventDecoding
import EventModel
import FastJSON
import Foundation
import TestSupport
import Testing

/// SigmaHQ-style Azure rules (written here, same structure and field names as the SigmaHQ ones)
/// against the same logical record in every shape Vigil reads: diagnostic-setting export, Log
/// Analytics row (JSON, and the CSV spelling with `_dynamic` columns and JSON text cells) and
/// Microsoft Graph. Records go through the real normaliser and detections/fieldmap.yml.
@Suite struct AzureLogSourceTests {
    static let fieldMap: FieldMap = {
        let (map, diags) = FieldMap.load(path: PackageRoot.url.appendingPathComponent("detections/fieldmap.yml").path)
        precondition(diags.isEmpty, "\(diags)")
        return map
    }()

    /// Compiles `yaml` (one or more documents); fails the test on any error diagnostic.
    static func compile(_ yaml: String, placeholders: [String: [String]] = [:]) throws -> (CompiledRuleSet, [Diagnostic]) {
        let (rules, d1) = RuleLoader.parse(text: yaml, file: "azure-test.yml", placeholders: placeholders)
        let (set, d2) = Compiler.compile(RuleSet(rules: rules), fieldMap: fieldMap)
        let errors = (d1 + d2).filter { $0.level == .error }
        #expect(errors.isEmpty, "\(errors)")
        return (set, d1 + d2)
    }

    static func event(_ record: [String: Any], id: UInt64 = 1) throws -> Event {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        let doc = try JSONDocument.parse(String(decoding: data, as: UTF8.self))
        return try Normalizer().normalize(doc, position: SourcePosition(source: "test", line: Int(id)), id: id)
    }

    /// The ids of the rules that fire on `record`.
    static func hits(_ set: CompiledRuleSet, _ record: [String: Any]) throws -> Set<String> {
        var engine = Engine(rules: set)
        return Set(engine.process(try event(record)).map(\.ruleId))
    }

    static func json(_ value: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    // MARK: sign-ins

    enum Shape: String, CaseIterable { case export, logAnalytics, logAnalyticsCSV, graph }

    /// One sign-in in a shape. Failed sign-ins carry error 500121 (MFA denied by the user).
    static func signIn(_ shape: Shape, success: Bool) -> [String: Any] {
        let code = success ? 0 : 500121
        let status: [String: Any] = success ? ["errorCode": 0]
            : ["errorCode": code, "failureReason": "Authentication failed during strong authentication request.",
               "additionalDetails": "MFA denied; user declined the authentication"]
        let device: [String: Any] = ["deviceId": "", "operatingSystem": "Windows 10", "isCompliant": false, "trustType": ""]
        let location: [String: Any] = ["city": "London", "countryOrRegion": "GB"]
        let graphLike: [String: Any] = [
            "id": "si-1", "createdDateTime": "2026-11-20T10:00:00Z", "userPrincipalName": "eve@contoso.com",
            "userId": "u-1", "appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "appDisplayName": "Microsoft Azure CLI",
            "ipAddress": "203.0.113.9", "clientAppUsed": "Exchange ActiveSync", "userAgent": "BAV2ROPC",
            "isInteractive": true, "autonomousSystemNumber": 8075, "authenticationRequirement": "singleFactorAuthentication",
            "authenticationProtocol": "deviceCode", "conditionalAccessStatus": "success", "riskState": "atRisk",
            "riskLevelDuringSignIn": "high", "riskEventTypes_v2": ["anonymizedIPAddress"], "networkLocationDetails": [Any](),
            "crossTenantAccessType": "b2bCollaboration", "resourceDisplayName": "Device Registration Service",
            "status": status, "deviceDetail": device, "location": location,
        ]
        switch shape {
        case .graph:
            return graphLike
        case .export:
            return ["time": "2026-11-20T10:00:00Z", "resourceId": "/tenants/t-1/providers/Microsoft.aadiam",
                    "operationName": "Sign-in activity", "category": "SignInLogs", "resultType": String(code),
                    "resultDescription": success ? "" : "Authentication failed during strong authentication request.",
                    "callerIpAddress": "203.0.113.9", "location": "GB", "identity": "Eve", "Level": 4, "properties": graphLike]
        case .logAnalytics, .logAnalyticsCSV:
            let csv = shape == .logAnalyticsCSV
            var row: [String: Any] = [
                "TimeGenerated": "2026-11-20T10:00:00Z", "Type": "SigninLogs", "OperationName": "Sign-in activity",
                "Category": "SignInLogs", "ResultType": String(code),
                "ResultDescription": success ? "" : "Authentication failed during strong authentication request.",
                "UserPrincipalName": "eve@contoso.com", "UserId": "u-1", "AppId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                "IPAddress": "203.0.113.9", "Location": "GB", "ClientAppUsed": "Exchange ActiveSync", "UserAgent": "BAV2ROPC",
                "IsInteractive": csv ? "TRUE" : true, "AutonomousSystemNumber": csv ? "8075" : 8075,
                "AuthenticationRequirement": "singleFactorAuthentication", "AuthenticationProtocol": "deviceCode",
                "ConditionalAccessStatus": "success", "RiskState": "atRisk", "RiskLevelDuringSignIn": "high",
                "RiskEventTypes_V2": csv ? "[\"anonymizedIPAddress\"]" : ["anonymizedIPAddress"],
                "NetworkLocationDetails": csv ? "[]" : [Any](), "CrossTenantAccessType": "b2bCollaboration",
                "ResourceDisplayName": "Device Registration Service",
            ]
            if csv {
                row["Status_dynamic"] = json(status)
                row["DeviceDetail_dynamic"] = json(device)
                row["LocationDetails_dynamic"] = json(location)
            } else {
                row["Status"] = status
                row["DeviceDetail"] = device
                row["LocationDetails"] = location
            }
            return row
        }
    }

    static let signInRules = """
    title: Successful Single Factor Sign-In
    id: t-si-success
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            Status: 'Success'
            AuthenticationRequirement: 'singleFactorAuthentication'
        condition: selection
    ---
    title: Failed Strong Authentication
    id: t-si-failure
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            Status: failure
            ResultType: 500121
            ResultDescription|contains: 'strong authentication'
        condition: selection
    ---
    title: MFA Prompt Denied
    id: t-si-mfa-denied
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            Status|contains: 'MFA denied'
        condition: selection
    ---
    title: Non-Compliant Device With Empty Trust Type
    id: t-si-device
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            DeviceDetail.isCompliant: false
        empty:
            DeviceDetail.trusttype: ''
        condition: selection and empty
    ---
    title: Risky Sign-In Through Conditional Access
    id: t-si-risk
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            RiskState: 'atRisk'
            RiskLevelDuringSignIn: 'high'
            conditionalAccessStatus: 'success'
            CrossTenantAccessType: 'b2bCollaboration'
            ResourceDisplayName: 'Device Registration Service'
        condition: selection
    ---
    title: Legacy Client From Export Field Names
    id: t-si-legacy
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            properties.clientAppUsed: 'Exchange ActiveSync'
            properties.userPrincipalName|endswith: '@contoso.com'
            ClientApp: 'Exchange ActiveSync'
        condition: selection
    ---
    title: Sign-In From GB Without Network Location
    id: t-si-location
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            Location: 'GB'
            NetworkLocationDetails: '[]'
        condition: selection
    ---
    title: Interactive Sign-In From Hosting ASN
    id: t-si-asn
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            IsInteractive: true
            AutonomousSystemNumber:
                - 16509
                - 8075
            AppId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
            IPAddress: '203.0.113.9'
            userAgent|contains: 'BAV2ROPC'
        condition: selection
    ---
    title: Device Code Flow
    id: t-si-devicecode
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            properties.message: deviceCode
            authentication_result: success
        condition: selection
    ---
    title: Device Code Flow In Words
    id: t-si-devicecode-words
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            properties.message: Device Code
        condition: selection
    ---
    title: Not Device Code In Words
    id: t-si-not-devicecode-words
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            properties.message|neq: Device Code
        condition: selection
    ---
    title: Interactive Sign-In
    id: t-si-interactive
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            category: SignInLogs
        condition: selection
    """

    @Test(arguments: Shape.allCases)
    func signInFieldsResolveInEveryShape(shape: Shape) throws {
        let (set, diags) = try Self.compile(Self.signInRules)
        #expect(!diags.contains { $0.code == "rule.unknown-logsource" })
        let always: Set<String> = ["t-si-device", "t-si-risk", "t-si-legacy", "t-si-location", "t-si-asn", "t-si-interactive",
                                   "t-si-devicecode-words"]
        let ok = try Self.hits(set, Self.signIn(shape, success: true))
        #expect(ok == always.union(["t-si-success", "t-si-devicecode"]), "\(shape)")
        let failed = try Self.hits(set, Self.signIn(shape, success: false))
        #expect(failed == always.union(["t-si-failure", "t-si-mfa-denied"]), "\(shape)")
    }

    /// The pack's Key Vault and Storage rules on the resource-specific Log Analytics tables: an
    /// `AZKVAuditLogs` row has no Category column (its table stands for `AuditEvent`), and
    /// `StorageBlobLogs` names the identity type `AuthenticationType`.
    @Test func resourceSpecificTablesMeetThePackRules() throws {
        let pack = PackageRoot.url.appendingPathComponent("detections/data-protection")
        let text = try ["keyvault_key_deleted_or_purged.yml", "storage_anonymous_blob_read.yml"]
            .map { try String(contentsOf: pack.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n---\n")
        let (set, _) = try Self.compile(text)
        let vault = "/subscriptions/s-1/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv1"
        let purge: [String: Any] = ["TimeGenerated": "2026-11-20T10:06:01Z", "Type": "AZKVAuditLogs", "SourceSystem": "Azure",
                                    "_ResourceId": vault, "OperationName": "KeyPurge", "ResultType": "Success",
                                    "ResultSignature": "NoContent", "CallerIpAddress": "203.0.113.77", "HttpStatusCode": 204,
                                    "Identity": ["claim": ["upn": "mallory@contoso.example", "oid": "oid-1"]],
                                    "Id": "https://kv1.vault.azure.net/keys/k1", "RequestUri": "https://kv1.vault.azure.net/deletedkeys/k1"]
        let e = try Self.event(purge)
        #expect(e.category == "AuditEvent" && e.shape == .logAnalytics)
        #expect(try Self.hits(set, purge) == ["84309f70-d2d6-4f11-a178-f710eff61c81"])
        let read: [String: Any] = ["TimeGenerated": "2026-11-20T10:07:00Z", "Type": "StorageBlobLogs", "Category": "StorageRead",
                                   "_ResourceId": "/subscriptions/s-1/resourcegroups/rg/providers/microsoft.storage/storageaccounts/st1/blobservices/default",
                                   "AccountName": "st1", "OperationName": "GetBlob", "AuthenticationType": "Anonymous", "StatusCode": "200",
                                   "StatusText": "Success", "CallerIpAddress": "198.51.100.77:52311", "Uri": "https://st1.blob.core.windows.net/c/b"]
        #expect(try Self.hits(set, read) == ["0511a1ae-c66a-4e3d-9335-687b1049c122"])
        var withKey = read
        withKey["AuthenticationType"] = "AccountKey"
        #expect(try Self.hits(set, withKey).isEmpty)
    }

    /// A Graph `signIn` carries no category; Vigil gives it its Log Analytics table's.
    @Test func graphSignInsGetTheCategoryOfTheirTable() throws {
        let cases: [([String: Any], String)] = [
            ([:], "SignInLogs"),
            (["isInteractive": true], "SignInLogs"),
            (["isInteractive": false], "NonInteractiveUserSignInLogs"),
            (["signInEventTypes": ["nonInteractiveUser"]], "NonInteractiveUserSignInLogs"),
            (["signInEventTypes": ["servicePrincipal"], "isInteractive": false], "ServicePrincipalSignInLogs"),
            (["signInEventTypes": ["managedIdentity"]], "ManagedIdentitySignInLogs"),
        ]
        for (extra, category) in cases {
            var record = Self.signIn(.graph, success: true)
            record["isInteractive"] = nil
            record.merge(extra) { $1 }
            let e = try Self.event(record)
            #expect(e.shape == .graph && e.category == category && e.operationName == "Sign-in activity", "\(extra)")
        }
        #expect(try Self.event(Self.signIn(.export, success: true)).category == "SignInLogs")
    }

    // MARK: audits

    static func audit(_ shape: Shape, result: String = "success") -> [String: Any] {
        let targets: [[String: Any]] = [[
            "id": "u-2", "displayName": "Guest Person", "type": "User", "userPrincipalName": "guest_x#EXT#@contoso.com",
            "modifiedProperties": [["displayName": "UserType", "oldValue": "[\"Guest\"]", "newValue": "[\"Member\"]"]],
        ]]
        let initiatedBy: [String: Any] = ["user": ["id": "u-1", "userPrincipalName": "admin@contoso.com", "ipAddress": "198.51.100.4"]]
        let graphLike: [String: Any] = [
            "id": "Directory_1", "category": "UserManagement", "correlationId": "c-1", "result": result,
            "resultReason": result == "success" ? "" : "Microsoft.Online.Security.UserConsentBlockedForRiskyAppsExceptions",
            "activityDisplayName": "Update user", "activityDateTime": "2026-11-20T10:00:00Z", "loggedByService": "Core Directory",
            "operationType": "Update", "initiatedBy": initiatedBy, "targetResources": targets,
            "additionalDetails": [["key": "UserType", "value": "Member"]],
        ]
        switch shape {
        case .graph:
            return graphLike
        case .export:
            return ["time": "2026-11-20T10:00:00Z", "resourceId": "/tenants/t-1/providers/Microsoft.aadiam",
                    "operationName": "Update user", "category": "AuditLogs", "resultSignature": "None",
                    "callerIpAddress": "198.51.100.4", "identity": "Admin", "level": "Informational", "properties": graphLike]
        case .logAnalytics, .logAnalyticsCSV:
            let csv = shape == .logAnalyticsCSV
            return ["TimeGenerated": "2026-11-20T10:00:00Z", "Type": "AuditLogs", "OperationName": "Update user",
                    "ActivityDisplayName": "Update user", "Category": "UserManagement", "Result": result,
                    "ResultReason": graphLike["resultReason"]!, "LoggedByService": "Core Directory", "AADOperationType": "Update",
                    "CorrelationId": "c-1", "InitiatedBy": csv ? json(initiatedBy) : initiatedBy,
                    "TargetResources": csv ? json(targets) : targets,
                    "AdditionalDetails": csv ? json(graphLike["additionalDetails"]!) : graphLike["additionalDetails"]!]
        }
    }

    static let auditRules = """
    title: User Updated In User Management
    id: t-au-op
    logsource: {product: azure, service: auditlogs}
    detection:
        selection:
            OperationName: 'Update user'
            Category: 'UserManagement'
            LoggedByService: 'Core Directory'
            OperationType: 'Update'
        condition: selection
    ---
    title: Guest Converted To Member
    id: t-au-targets
    logsource: {product: azure, service: auditlogs}
    detection:
        selection_op:
            properties.message: 'Update user'
        selection_type:
            TargetResources|contains|all:
                - 'UserType'
                - 'Guest'
                - 'Member'
        selection_new:
            TargetResources.modifiedProperties.newValue|contains: 'Member'
            properties.targetResources|contains: '#EXT#'
        condition: all of selection_*
    ---
    title: Change By Named Admin
    id: t-au-initiator
    logsource: {product: azure, service: auditlogs}
    detection:
        selection:
            InitiatedBy|contains: 'admin@contoso.com'
            Status: success
        condition: selection
    ---
    title: Change Blocked By Risk-Based Consent
    id: t-au-reason
    logsource: {product: azure, service: auditlogs}
    detection:
        selection:
            failure_status_reason: 'Microsoft.online.Security.userConsentBlockedForRiskyAppsExceptions'
            Status: failure
        condition: selection
    ---
    title: Audit Spelled As Service Audit
    id: t-au-alias
    logsource: {product: azure, service: audit}
    detection:
        selection:
            ActivityDisplayName|contains|all:
                - 'Update'
                - 'user'
        condition: selection
    ---
    title: Audit Spelled As Entra ID User Management
    id: t-au-entra
    logsource: {category: user_management, product: azure, service: entra_id}
    detection:
        selection:
            OperationName|contains: 'Update user'
        condition: selection
    """

    @Test(arguments: Shape.allCases)
    func auditFieldsResolveInEveryShape(shape: Shape) throws {
        let (set, diags) = try Self.compile(Self.auditRules)
        #expect(!diags.contains { $0.code == "rule.unknown-logsource" }, "\(diags)")
        let ok = try Self.hits(set, Self.audit(shape))
        #expect(ok == ["t-au-op", "t-au-targets", "t-au-initiator", "t-au-alias", "t-au-entra"], "\(shape)")
        let failed = try Self.hits(set, Self.audit(shape, result: "failure"))
        #expect(failed == ["t-au-op", "t-au-targets", "t-au-reason", "t-au-alias", "t-au-entra"], "\(shape)")
    }

    @Test(arguments: Shape.allCases)
    func modifiedPropertyNamesReadAsFields(shape: Shape) throws {
        let (set, _) = try Self.compile("""
        title: Consent By A User
        id: t-au-consent
        logsource: {product: azure, service: auditlogs}
        detection:
            selection:
                ConsentContext.IsAdminConsent: 'false'
                ConsentAction.Permissions|contains: 'Mail.Read'
            condition: selection
        """)
        func consent(_ admin: String) -> [String: Any] {
            var r = Self.audit(shape)
            let targets: [[String: Any]] = [["id": "sp-1", "type": "ServicePrincipal", "modifiedProperties": [
                ["displayName": "ConsentContext.IsAdminConsent", "oldValue": NSNull(), "newValue": "\"\(admin)\""],
                ["displayName": "ConsentAction.Permissions", "newValue": "[\"Scope: Mail.Read offline_access\"]"],
            ]]]
            switch shape {
            case .graph: r["targetResources"] = targets
            case .export:
                var p = r["properties"] as! [String: Any]
                p["targetResources"] = targets
                r["properties"] = p
            case .logAnalytics: r["TargetResources"] = targets
            case .logAnalyticsCSV: r["TargetResources"] = Self.json(targets)
            }
            return r
        }
        #expect(try Self.hits(set, consent("False")) == ["t-au-consent"], "\(shape)")
        #expect(try Self.hits(set, consent("True")).isEmpty, "\(shape)")
        #expect(try Self.hits(set, Self.audit(shape)).isEmpty, "\(shape)")
    }

    // MARK: Identity Protection and PIM

    static let riskRules = """
    title: Anonymous IP Risk
    id: t-risk-type
    logsource: {product: azure, service: riskDetection}
    detection:
        selection:
            riskEventType: 'anonymizedIPAddress'
        condition: selection
    ---
    title: Anonymous IP Risk, Older Field Name
    id: t-risk-message
    logsource: {product: azure, service: riskdetection}
    detection:
        selection:
            properties.message: anonymizedIPAddress
        condition: selection
    """

    @Test func riskEventTypeInEveryShape() throws {
        let (set, diags) = try Self.compile(Self.riskRules)
        #expect(!diags.contains { $0.code == "rule.unknown-logsource" })
        let detection: [String: Any] = ["id": "rd-1", "riskEventType": "anonymizedIPAddress", "riskLevel": "medium",
                                        "riskState": "atRisk", "userPrincipalName": "eve@contoso.com", "ipAddress": "203.0.113.9"]
        let export: [String: Any] = ["time": "2026-11-20T10:00:00Z", "resourceId": "/tenants/t-1/providers/Microsoft.aadiam",
                                     "operationName": "User Risk Detection", "category": "UserRiskEvents", "properties": detection]
        var graph = detection
        graph["activityDateTime"] = "2026-11-20T10:00:00Z"
        graph["detectedDateTime"] = "2026-11-20T10:00:00Z"
        // A row as the table has it: its IpAddress and UserPrincipalName must not make it a sign-in.
        let row: [String: Any] = ["TimeGenerated": "2026-11-20T10:00:00Z", "Type": "AADUserRiskEvents", "SourceSystem": "Azure AD",
                                  "Id": "rd-1", "RiskEventType": "anonymizedIPAddress", "RiskLevel": "medium", "RiskState": "atRisk",
                                  "UserPrincipalName": "eve@contoso.com", "UserId": "u-1", "IpAddress": "203.0.113.9",
                                  "Location": ["city": "London", "countryOrRegion": "GB"], "Source": "IdentityProtection",
                                  "DetectionTimingType": "realtime", "Activity": "signin", "OperationName": "User Risk Detection"]
        let both: Set<String> = ["t-risk-type", "t-risk-message"]
        for record in [export, graph, row] {
            #expect(try Self.hits(set, record) == both, "\(record)")
            // The user at risk and the address are the event's caller and IP (entities, baselines).
            let e = try Self.event(record)
            #expect(e.caller == "eve@contoso.com" && e.callerIP == "203.0.113.9", "\(e.shape): \(e.caller ?? "nil") \(e.callerIP ?? "nil")")
        }
        // A sign-in's own riskEventTypes_v2 is not a risk detection (signinlogs rules read it).
        for shape in Shape.allCases {
            #expect(try Self.hits(set, Self.signIn(shape, success: true)).isEmpty)
        }
        var other = export
        other["properties"] = ["riskEventType": "leakedCredentials"]
        #expect(try Self.hits(set, other).isEmpty)
    }

    @Test func pimAndRoleManagementAlertsShareOneEntry() throws {
        let (set, diags) = try Self.compile("""
        title: Stale Role Alert
        id: t-pim
        logsource: {product: azure, service: rolemanagementalerts}
        detection:
            selection:
                riskEventType: 'staleSignInAlertIncident'
            condition: selection
        """)
        #expect(!diags.contains { $0.code == "rule.unknown-logsource" })
        let record: [String: Any] = ["time": "2026-11-20T10:00:00Z", "resourceId": "/tenants/t-1/providers/Microsoft.aadiam",
                                     "operationName": "PIM alert", "category": "AuditLogs",
                                     "properties": ["riskEventType": "staleSignInAlertIncident"]]
        #expect(try Self.hits(set, record) == ["t-pim"])
    }

    // MARK: Activity Log field spellings

    @Test func activityStatusWordAndArrayMarkers() throws {
        let (set, _) = try Self.compile("""
        title: Succeeded Write With Old Status Word
        id: t-act-status
        logsource: {product: azure, service: activitylogs}
        detection:
            selection:
                operationName: 'MICROSOFT.NETWORK/AZUREFIREWALLS/WRITE'
                status: success
            condition: selection
        ---
        title: Array Marker In Field Name
        id: t-act-array
        logsource: {product: azure, service: activitylogs}
        detection:
            selection:
                properties.tags{}.name|endswith: 'Admins'
            condition: selection
        """)
        let record: [String: Any] = ["time": "2026-11-20T10:00:00Z", "category": "Administrative", "resultType": "Success",
                                     "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/AZUREFIREWALLS/FW",
                                     "operationName": "MICROSOFT.NETWORK/AZUREFIREWALLS/WRITE",
                                     "properties": ["tags": [["name": "Readers"], ["name": "Domain Admins"]]]]
        #expect(try Self.hits(set, record) == ["t-act-status", "t-act-array"])
        var failed = record
        failed["resultType"] = "Failure"
        #expect(try Self.hits(set, failed) == ["t-act-array"])
    }

    @Test func activityFieldsInEveryActivityShape() throws {
        let (set, _) = try Self.compile("""
        title: Firewall Written
        id: t-act-op
        logsource: {product: azure, service: activitylogs}
        detection:
            selection:
                operationName|startswith: 'MICROSOFT.NETWORK/AZUREFIREWALLS/'
                operationName|endswith: '/WRITE'
                CategoryValue: Administrative
                ResourceProviderValue: MICROSOFT.NETWORK
            condition: selection
        ---
        title: Message Names The Change
        id: t-act-message
        logsource: {product: azure, service: activitylogs}
        detection:
            selection:
                properties.message|contains: 'firewall policy'
            condition: selection
        ---
        title: Keyword Anywhere
        id: t-act-keyword
        logsource: {product: azure, service: activitylogs}
        detection:
            keywords:
                - 'azurefirewalls/write'
            condition: keywords
        """)
        let rid = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Network/azureFirewalls/fw1"
        let export: [String: Any] = ["time": "2026-11-20T10:00:00Z", "resourceId": rid.uppercased(), "category": "Administrative",
                                     "operationName": "MICROSOFT.NETWORK/AZUREFIREWALLS/WRITE", "resultType": "Success",
                                     "properties": ["message": "Updated firewall policy rules"]]
        let rest: [String: Any] = ["eventTimestamp": "2026-11-20T10:00:00Z", "resourceId": rid,
                                   "category": ["value": "Administrative", "localizedValue": "Administrative"],
                                   "operationName": ["value": "Microsoft.Network/azureFirewalls/write", "localizedValue": "Write"],
                                   "status": ["value": "Succeeded"], "properties": ["message": "Updated firewall policy rules"]]
        let table: [String: Any] = ["TimeGenerated": "2026-11-20T10:00:00Z", "Type": "AzureActivity", "ResourceId": rid,
                                    "OperationNameValue": "MICROSOFT.NETWORK/AZUREFIREWALLS/WRITE", "CategoryValue": "Administrative",
                                    "ActivityStatusValue": "Success", "ResourceProviderValue": "MICROSOFT.NETWORK",
                                    "Properties": Self.json(["message": "Updated firewall policy rules"])]
        var tableD = table
        tableD["Properties"] = nil
        tableD["Properties_d"] = ["message": "Updated firewall policy rules"]
        for record in [export, rest, table, tableD] {
            #expect(try Self.hits(set, record) == ["t-act-op", "t-act-message", "t-act-keyword"], "\(record)")
        }
    }

    /// The pack's "…by a user" rules read the token's claims as the export names them
    /// (`identity.claims.…`); the REST shape has them at the top level (`claims`), a Log Analytics
    /// row in `Claims_d`, or in `Claims` as JSON text in a CSV export.
    @Test func tokenClaimsInEveryActivityShape() throws {
        let rule = try String(contentsOf: PackageRoot.url.appendingPathComponent("detections/identity/storage_account_keys_listed_by_user.yml"),
                              encoding: .utf8)
        let (set, _) = try Self.compile(rule)
        let id = "a49ffafa-68f5-4942-8f05-f0a08ea0676a"
        let rid = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"
        func records(claims: [String: Any]) -> [(String, [String: Any])] {
            let export: [String: Any] = ["time": "2026-11-20T10:00:00Z", "resourceId": rid.uppercased(), "category": "Administrative",
                                         "operationName": "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION", "resultType": "Success",
                                         "identity": ["claims": claims]]
            let rest: [String: Any] = ["eventTimestamp": "2026-11-20T10:00:00Z", "resourceId": rid,
                                       "category": ["value": "Administrative", "localizedValue": "Administrative"],
                                       "operationName": ["value": "Microsoft.Storage/storageAccounts/listKeys/action", "localizedValue": "List keys"],
                                       "status": ["value": "Succeeded"], "claims": claims]
            let table: [String: Any] = ["TimeGenerated": "2026-11-20T10:00:00Z", "Type": "AzureActivity", "ResourceId": rid,
                                        "OperationNameValue": "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION", "CategoryValue": "Administrative",
                                        "ActivityStatusValue": "Success", "Claims_d": claims]
            var csv = table
            csv["Claims_d"] = ""
            csv["Claims"] = Self.json(claims)
            return [("export", export), ("REST", rest), ("Log Analytics", table), ("Log Analytics CSV", csv)]
        }
        let upn = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
        for (shape, record) in records(claims: [upn: "eve@contoso.com", "appid": "00000000-0000-0000-0000-00000000aaaa"]) {
            #expect(try Self.hits(set, record) == [id], "a user's token: \(shape)")
        }
        for (shape, record) in records(claims: ["appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"]) {
            #expect(try Self.hits(set, record) == [id], "the Azure CLI: \(shape)")
        }
        for (shape, record) in records(claims: ["appid": "00000000-0000-0000-0000-00000000aaaa", "idtyp": "app"]) {
            #expect(try Self.hits(set, record).isEmpty, "an application: \(shape)")
        }
    }

    // MARK: Sigma 1 aggregation

    static let sprayRule = """
    title: Many Accounts Failing From One Address
    id: t-spray
    level: high
    logsource: {product: azure, service: signinlogs}
    detection:
        selection:
            ResultType|startswith: '5'
        filter_interrupts:
            ResultType: '50074'
        condition: selection and not filter_interrupts | count(UserPrincipalName) by IPAddress > 2
        timeframe: 10m
    """

    @Test func sigma1AggregationBecomesACorrelation() throws {
        let (set, _) = try Self.compile(Self.sprayRule)
        #expect(set.correlations.correlations.map(\.id) == ["t-spray"])
        #expect(set.rules.map(\.id) == ["t-spray-events"])
        var engine = Engine(rules: set)
        var alerts: [Alert] = []
        func failure(_ user: String, _ ip: String, _ second: Int, code: String = "50126") throws -> Event {
            var r = Self.signIn(.export, success: false)
            r["time"] = String(format: "2026-11-20T10:00:%02dZ", second)
            r["resultType"] = code
            r["callerIpAddress"] = ip
            var p = r["properties"] as! [String: Any]
            p["userPrincipalName"] = user
            p["ipAddress"] = ip
            r["properties"] = p
            return try Self.event(r, id: UInt64(second + 1))
        }
        // Three distinct users from 203.0.113.9 (one repeated, one an MFA interrupt that is filtered out).
        alerts += engine.process(try failure("a@contoso.com", "203.0.113.9", 1))
        alerts += engine.process(try failure("a@contoso.com", "203.0.113.9", 2))
        alerts += engine.process(try failure("b@contoso.com", "203.0.113.9", 3, code: "50074"))
        alerts += engine.process(try failure("c@contoso.com", "198.51.100.1", 4))
        alerts += engine.process(try failure("b@contoso.com", "203.0.113.9", 5))
        #expect(alerts.isEmpty, "two distinct users so far")
        alerts += engine.process(try failure("d@contoso.com", "203.0.113.9", 6))
        alerts += engine.finish()
        #expect(alerts.map(\.ruleId) == ["t-spray"])
        #expect(alerts.first?.severity == .high)
    }

    /// A timeframe without an aggregation (older SigmaHQ rules) is ignored with a warning, as
    /// pySigma ignores it: the rule still matches single events.
    @Test func timeframeWithoutAggregationIsIgnored() throws {
        let (set, diags) = try Self.compile("""
        title: Failed Sign-In
        id: t-tf
        logsource: {product: azure, service: signinlogs}
        detection:
            selection:
                ResultType: '500121'
            timeframe: 5m
            condition: selection
        """)
        #expect(diags.contains { $0.code == "rule.ignored-timeframe" && $0.level == .warning && $0.location.line == 7 })
        #expect(try Self.hits(set, Self.signIn(.export, success: false)) == ["t-tf"])
        #expect(try Self.hits(set, Self.signIn(.export, success: true)).isEmpty)
    }

    @Test func sigma1AggregationProblemsAreLocated() {
        let bad = [
            ("condition: selection | count() by IPAddress > 3", "needs 'detection.timeframe'"),
            ("condition: selection | max(ResultType) > 3\n    timeframe: 5m", "no correlation equivalent"),
            ("condition: selection | count(x) by y >> 3\n    timeframe: 5m", "expected a comparison"),
            ("condition: selection | count(x) by y > many\n    timeframe: 5m", "expected a number"),
            ("condition: selection | near other\n    timeframe: 5m", "expected an aggregation function"),
        ]
        for (condition, message) in bad {
            let yaml = """
            title: bad
            id: t-bad
            logsource: {product: azure, service: signinlogs}
            detection:
                selection:
                    ResultType: '50126'
                \(condition)
            """
            let (rules, diags) = RuleLoader.parse(text: yaml, file: "bad.yml")
            let errors = diags.filter { $0.level == .error }
            #expect(errors.contains { $0.message.contains(message) && $0.location.line != nil && $0.location.column != nil }, "\(condition): \(diags)")
            #expect(rules.allSatisfy { !$0.isValid || $0.kind == .correlation } || !errors.isEmpty)
        }
    }

    // MARK: paths made of several paths

    @Test func firstOfAndUnionPaths() throws {
        let e = try Self.event(Self.signIn(.logAnalyticsCSV, success: false))
        let first = FieldPath(anyOf: [FieldPath("DeviceDetail.isCompliant"), FieldPath("DeviceDetail_dynamic.isCompliant"),
                                      FieldPath("UserAgent")])
        #expect(e.values(at: first).map(\.text) == ["false"])
        let union = FieldPath(anyOf: [FieldPath("vigil.outcome"), FieldPath("Status_dynamic.errorCode")], mode: .union)
        #expect(e.values(at: union).map(\.text) == ["failure", "500121"])
        #expect(FieldPath(anyOf: [FieldPath("a")]) == FieldPath("a"))
        #expect(first != FieldPath(first.text))
        // An empty array is one value, `[]`; a missing field none.
        #expect(e.values(at: "NetworkLocationDetails").map(\.text) == ["[]"])
        let g = try Self.event(Self.signIn(.graph, success: true))
        #expect(g.values(at: "networkLocationDetails").count == 1)
        #expect(g.values(at: "noSuchField").isEmpty)
    }

    @Test func outcomeOfEachKind() throws {
        #expect(try Self.event(Self.signIn(.export, success: true)).outcome == "success")
        #expect(try Self.event(Self.signIn(.graph, success: false)).outcome == "failure")
        #expect(try Self.event(Self.audit(.logAnalytics, result: "failure")).outcome == "failure")
        #expect(try Self.event(Self.audit(.graph, result: "timeout")).outcome == "timeout")
        let started: [String: Any] = ["time": "2026-11-20T10:00:00Z", "category": "Administrative", "resultType": "Start",
                                      "operationName": "MICROSOFT.NETWORK/AZUREFIREWALLS/WRITE"]
        #expect(try Self.event(started).outcome == nil)
    }

    @Test func unmappedTemplates() {
        var u = FieldMap.UnmappedRule()
        u.perShape[.resourceLogExport] = ["properties.{bare}", "{field}"]
        u.perShape[.logAnalytics] = ["{bare}", "{bare_dynamic}"]
        let s = u.source(for: "properties.deviceDetail.isCompliant")!
        #expect(s.path(for: .resourceLogExport).text == "properties.deviceDetail.isCompliant")
        #expect(s.path(for: .logAnalytics).text == "deviceDetail.isCompliant | deviceDetail_dynamic.isCompliant")
        #expect(s.path(for: .graph).text == "properties.deviceDetail.isCompliant")   // no default templates: the name itself
        #expect(u.source(for: "RiskState")!.path(for: .logAnalytics).text == "RiskState")   // {bare_dynamic} needs a dot
        #expect(FieldMap.UnmappedRule().source(for: "x") == nil)
    }
}
