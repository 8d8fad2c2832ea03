// The keys each normaliser reads, per object level. Case names are the keys (compared
// case-insensitively), except where a key is not a valid identifier.

/// Top-level keys of every supported shape. Export (`operationName`) and Log Analytics
/// (`OperationName`) spellings fold to the same key, so one slot serves both.
enum RootKey: Int, FieldKey {
    // time, by shape
    case time, eventTimestamp, timeGenerated, timeGeneratedUTC, createdDateTime, createdDateTimeUTC
    case activityDateTime
    // Activity Log / resource log
    case resourceId, underscoreResourceId, operationName, operationNameValue, category, categoryValue
    case resultType, resultSignature, status, subStatus, statusCode, statusText
    case activityStatusValue, activityStatus, activitySubstatusValue, activitySubstatus, result
    case level, callerIpAddress, ipAddress, httpRequest, correlationId, identity, claims, claimsD
    case caller, tenantId, aadTenantId, properties, propertiesD, type, name, id, sourceSystem
    // Activity Log REST: the event's display name (`Security` alerts' title when properties has none)
    case eventName
    // classification only: the Entra and alert fields are read by their own tables
    case userPrincipalName, initiatedBy, activityDisplayName, alertType, alertName, alertDisplayName
    case alertSeverity, systemAlertId, providerAlertId, vendorOriginalId, providerName
    case entities, appId, riskEventType

    var name: String {
        switch self {
        case .timeGeneratedUTC: return "timegenerated [utc]"
        case .createdDateTimeUTC: return "createddatetime [utc]"
        case .underscoreResourceId: return "_resourceid"
        case .claimsD: return "claims_d"
        case .propertiesD: return "properties_d"
        default: return String(describing: self).lowercased()
        }
    }

    static let table = KeyTable<RootKey>()
}

/// Columns of Log Analytics resource tables and query results, scanned only for `logAnalytics`
/// rows: the flattened token claims of `AzureDiagnostics` (Key Vault: `identity_claim_<claim>_s`/`_g`,
/// URI claims with `:`/`/`/`.` turned into `_`), the `Requester*` columns of `StorageBlobLogs`, the
/// `Identity` column of the Azure ML tables, and the time columns of Sentinel query results
/// (`StartTime`, `timestamp`, with or without the portal's ` [UTC]` suffix).
enum TableColumnKey: Int, FieldKey {
    case upnClaimURI, upnClaim, nameClaimURI, uniqueNameClaim, oidClaimURI, oidClaim, appidClaim
    case tidClaimURI, tidClaim, ipaddrClaim
    case requesterUpn, requesterObjectId, requesterAppId, requesterTenantId, callerObjectId
    case identity, aadTenantId
    case startTime, startTimeUTC, timestamp, timestampUTC
    // Entra ID Protection tables (AADUserRiskEvents, AADRiskyUsers): the user at risk, the address
    case userPrincipalName, userId, ipAddress

    var name: String {
        switch self {
        case .upnClaimURI: return "identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s"
        case .upnClaim: return "identity_claim_upn_s"
        case .nameClaimURI: return "identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_name_s"
        case .uniqueNameClaim: return "identity_claim_unique_name_s"
        case .oidClaimURI: return "identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g"
        case .oidClaim: return "identity_claim_oid_g"
        case .appidClaim: return "identity_claim_appid_g"
        case .tidClaimURI: return "identity_claim_http_schemas_microsoft_com_identity_claims_tenantid_g"
        case .tidClaim: return "identity_claim_tid_g"
        case .ipaddrClaim: return "identity_claim_ipaddr_s"
        case .startTimeUTC: return "starttime [utc]"
        case .timestampUTC: return "timestamp [utc]"
        default: return String(describing: self).lowercased()
        }
    }

    static let table = KeyTable<TableColumnKey>()
}

/// Keys read inside `properties` of Activity Log records (legacy categories, Security alerts,
/// Storage status).
enum PropertyKey: Int, FieldKey {
    case eventCategory, severity, compromisedEntity, alertDisplayName, title, metricResponseType

    static let table = KeyTable<PropertyKey>()
}

/// Entra sign-in and audit fields: scanned in `properties` (diagnostic-setting export) or at the
/// top level (Log Analytics `SigninLogs`/`AuditLogs` rows, Microsoft Graph objects), which share
/// the names up to case.
enum EntraKey: Int, FieldKey {
    case userPrincipalName, userDisplayName, userId, appId, servicePrincipalName, servicePrincipalId
    case ipAddress, createdDateTime, createdDateTimeUTC, activityDateTime, initiatedBy
    case initiatingUserOrApp, initiatingIpAddress, result, resultType, status, activityDisplayName
    case operationName, category, correlationId, identity, aadTenantId, resourceTenantId
    case signInEventTypes, isInteractive

    var name: String {
        switch self {
        case .createdDateTimeUTC: return "createddatetime [utc]"
        default: return String(describing: self).lowercased()
        }
    }

    static let table = KeyTable<EntraKey>()
}

/// Defender alert fields: scanned in `properties` (REST resource) or at the top level
/// (continuous export, `SecurityAlert` rows; old and new column names both).
enum AlertKey: Int, FieldKey {
    case alertType, systemAlertId, providerAlertId, vendorOriginalId
    case alertDisplayName, alertName, displayName, severity, alertSeverity, status
    case startTimeUtc, startTime, timeGeneratedUtc, timeGenerated, timeGeneratedUTC
    case resourceIdentifiers, azureResourceId, resourceId, compromisedEntity, entities

    var name: String {
        switch self {
        case .timeGeneratedUTC: return "timegenerated [utc]"
        default: return String(describing: self).lowercased()
        }
    }

    static let table = KeyTable<AlertKey>()
}

/// Token claims (`identity.claims`, Key Vault `identity.claim`, REST `claims`).
enum ClaimKey: Int, FieldKey {
    case upnURI, upn, nameURI, name, emailURI, uniqueName, appid, azp, objectIdURI, oid
    case tenantIdURI, tid, ipaddr, spnURI

    var name: String {
        switch self {
        case .upnURI: return "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
        case .nameURI: return "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
        case .emailURI: return "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
        case .objectIdURI: return "http://schemas.microsoft.com/identity/claims/objectidentifier"
        case .tenantIdURI: return "http://schemas.microsoft.com/identity/claims/tenantid"
        case .spnURI: return "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/spn"
        case .uniqueName: return "unique_name"
        default: return String(describing: self).lowercased()
        }
    }

    static let table = KeyTable<ClaimKey>()
}

/// Keys of the small identity objects: `identity`, Storage `identity.requester`, Entra
/// `initiatedBy.user` / `initiatedBy.app`, Defender `resourceIdentifiers[]`, REST `httpRequest`.
enum IdentityKey: Int, FieldKey {
    case claims, claim, requester, user, app, type
    case upn, userPrincipalName, objectId, id, appId, tenantId, ipAddress, displayName
    case servicePrincipalName, servicePrincipalId, clientIpAddress, azureResourceId

    static let table = KeyTable<IdentityKey>()
}
