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
    // classification only: the Entra and alert fields are read by their own tables
    case userPrincipalName, initiatedBy, activityDisplayName, alertType, alertName, alertDisplayName
    case alertSeverity, systemAlertId, providerAlertId, vendorOriginalId, providerName
    case workspaceSubscriptionId, entities, appId

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
