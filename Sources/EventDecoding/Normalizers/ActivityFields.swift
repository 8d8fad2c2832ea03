import EventModel
import FastJSON

/// Activity Log and resource-log fields, from the three shapes that carry them: the
/// diagnostic-setting export (`time`, `operationName`, `resultType`, `identity.claims`), the
/// REST/portal shape (`eventTimestamp`, `operationName.value`, `status.value`, `caller`,
/// `claims`, `httpRequest.clientIpAddress`) and Log Analytics columns (`TimeGenerated`,
/// `OperationNameValue`, `CategoryValue`, `ActivityStatusValue`, `Caller`, `_ResourceId`).
/// The spellings do not collide in meaning, so one precedence list per field serves all three.
enum ActivityFields {
    /// Activity Log categories (`Write`/`Delete`/`Action` are the legacy export spellings of
    /// Administrative).
    static let activityCategories: [StaticString] = [
        "administrative", "security", "servicehealth", "resourcehealth", "alert", "autoscale",
        "recommendation", "policy", "write", "delete", "action",
    ]
    static let legacyAdministrative: [StaticString] = ["write", "delete", "action"]

    static func fill(_ e: inout Event, _ r: Scanned<RootKey>) {
        let la = e.shape == .logAnalytics
        e.time = FieldText.time(r[.time]) ?? FieldText.time(r[.eventTimestamp]) ?? FieldText.time(r[.timeGenerated])
            ?? FieldText.time(r[.timeGeneratedUTC])
        if let name = r.text(.operationNameValue) ?? r.text(.operationName) {
            e.operationName = name
            e.operation = FieldText.lowercasedASCII(name)
        }
        let categoryNode = r[.categoryValue] ?? r[.category]
        e.category = categoryNode.flatMap(FieldText.text) ?? (la ? r.text(.type).map(categoryOfTable) : nil)
        e.result = r.text(.resultType) ?? r.text(.activityStatusValue) ?? r.text(.activityStatus) ?? r.text(.status)
        e.resultSignature = r.text(.resultSignature) ?? r.text(.activitySubstatusValue) ?? r.text(.activitySubstatus)
            ?? r.text(.subStatus)
        e.level = FieldText.level(r[.level])
        e.correlationId = r.text(.correlationId)
        e.resource = FieldText.resource(r.text(.resourceId) ?? r.text(.underscoreResourceId))
        // Log Analytics `TenantId` is the workspace id, not the Entra tenant.
        if !la { e.tenantId = r.text(.tenantId) }
        e.caller = r.text(.caller).map(trimmed)
        var ip = r.text(.callerIpAddress)
        if ip == nil, let http = r[.httpRequest], http.type == .object {
            ip = IdentityKey.table.withScan(http) { $0.text(.clientIpAddress) }
        }
        e.callerIP = FieldText.address(ip)
        // `identity` as an object, or as JSON text of one (read the same); else, or when it names
        // nobody, the REST shape's `claims` / a Log Analytics row's `Claims`.
        var identified = false
        if let identity = FieldText.object(r[.identity]) {
            fillIdentity(&e, identity)
            identified = e.callerObjectId != nil || e.callerAppId != nil
        }
        if !identified, let claims = claimsObject(r, decodingText: la) { fillClaims(&e, claims) }
        // REST lists filtered with `$select` may drop resourceId; the event id starts with it.
        if e.resource == nil, e.shape == .activityREST, let id = r.text(.id) {
            e.resource = FieldText.resource(prefix(of: id, before: "/events/"))
        }

        // Storage logs: status at the top level instead of resultType.
        if let code = r[.statusCode] {
            if e.resultSignature == nil { e.resultSignature = FieldText.text(code) }
            if e.result == nil {
                e.result = r.text(.statusText) ?? r[.properties].flatMap { p in
                    PropertyKey.table.withScan(p) { $0.text(.metricResponseType) }
                }
            }
        } else if e.result == nil {
            e.result = r.text(.statusText)
        }

        e.kind = kind(e, categoryNode, r)
        if e.kind == .activity, FieldText.equalsAny(categoryNode, legacyAdministrative) {
            e.category = properties(r) { $0.text(.eventCategory) } ?? "Administrative"
        } else if e.kind == .defenderAlert {
            fillSecurityAlert(&e, r)
        }
    }

    /// Activity for Activity Log categories, and, without a category, for ARM operation names
    /// (`Microsoft.X/…`); Defender alert for the `Security` category; resource log otherwise.
    static func kind(_ e: Event, _ category: JSONValue?, _ r: Scanned<RootKey>) -> EventKind {
        if e.shape == .logAnalytics {
            guard r.has(.operationNameValue) || r.has(.categoryValue) || FieldText.equalsAny(r[.type], ["azureactivity"]) else {
                return .resourceLog
            }
            return FieldText.equalsAny(category, ["security"]) ? .defenderAlert : .activity
        }
        if let category {
            if FieldText.equalsAny(category, ["security"]) { return .defenderAlert }
            return FieldText.equalsAny(category, activityCategories) ? .activity : .resourceLog
        }
        if e.shape == .activityREST { return .activity }
        let arm = r[.operationName].map(FieldText.unwrapped).map { v in
            v.withStringBytes { FieldText.hasPrefixFolded($0, "microsoft.") && $0.contains(UInt8(ascii: "/")) }
        } ?? false
        return arm ? .activity : .resourceLog
    }

    /// Activity Log `Security` category: a Defender alert carried in the Activity Log.
    static func fillSecurityAlert(_ e: inout Event, _ r: Scanned<RootKey>) {
        properties(r) { p in
            e.severity = p.text(.severity).flatMap(Severity.init(lenient:))
            e.title = p.text(.alertDisplayName) ?? p.text(.title)
            if e.resource == nil, let entity = p.text(.compromisedEntity) { e.resource = FieldText.resource(entity) }
        }
        // REST/portal: the alert's display name is the event name (`eventName.value`).
        if e.title == nil { e.title = r.text(.eventName) }
        // resourceId = …/providers/Microsoft.Security/locations/<loc>/alerts/<alertId>
        if let raw = e.resource?.raw { e.alertId = segment(after: "/alerts/", in: raw) }
        if e.alertId == nil { e.alertId = e.correlationId }
    }

    /// `body` over `properties`, else a Log Analytics row's `Properties_d` (either may be JSON text
    /// in a CSV export, or an empty cell).
    static func properties<R>(_ r: Scanned<RootKey>, _ body: (Scanned<PropertyKey>) -> R?) -> R? {
        if let p = FieldText.object(r[.properties]), let found = PropertyKey.table.withScan(p, body) { return found }
        guard let p = FieldText.object(r[.propertiesD]) else { return nil }
        return PropertyKey.table.withScan(p, body)
    }

    /// `claims` / `Claims_d` as an object. A Log Analytics CSV row holds them as JSON text
    /// (`AzureActivity` `Claims`), decoded here when `decodingText`: it is where the row records
    /// the caller's object id and tenant.
    static func claimsObject(_ r: Scanned<RootKey>, decodingText: Bool) -> JSONValue? {
        for node in [r[.claims], r[.claimsD]] {
            guard let node else { continue }
            if let object = decodingText ? FieldText.object(node) : (node.type == .object ? node : nil) { return object }
        }
        return nil
    }

    // MARK: Log Analytics resource tables

    /// Columns only Log Analytics rows have: time columns of Sentinel query results (always), and,
    /// when `callers` (not an Entra row, whose own columns name the caller), the caller columns of
    /// resource tables: `AzureDiagnostics` flattened claims (`identity_claim_upn_s`, …),
    /// `StorageBlobLogs` `Requester*`, `CallerObjectId`, `AadTenantId`, and the Azure ML `Identity`.
    static func fillTableColumns(_ e: inout Event, _ r: Scanned<RootKey>, callers: Bool) {
        TableColumnKey.table.withScan(r.object) { t in
            if e.time == nil {
                e.time = FieldText.time(t[.startTime]) ?? FieldText.time(t[.startTimeUTC]) ?? FieldText.time(t[.timestamp])
                    ?? FieldText.time(t[.timestampUTC])
            }
            guard callers else { return }
            if e.caller == nil {
                e.caller = (t.text(.upnClaimURI) ?? t.text(.upnClaim) ?? t.text(.nameClaimURI) ?? t.text(.uniqueNameClaim)
                    ?? t.text(.requesterUpn)).map(trimmed)
            }
            if e.callerObjectId == nil {
                e.callerObjectId = t.text(.oidClaimURI) ?? t.text(.oidClaim) ?? t.text(.requesterObjectId) ?? t.text(.callerObjectId)
            }
            if e.callerAppId == nil { e.callerAppId = t.text(.appidClaim) ?? t.text(.requesterAppId) }
            if e.tenantId == nil {
                e.tenantId = t.text(.tidClaimURI) ?? t.text(.tidClaim) ?? t.text(.requesterTenantId) ?? t.text(.aadTenantId)
            }
            if e.callerIP == nil { e.callerIP = FieldText.address(t.text(.ipaddrClaim)) }
            if let identity = t[.identity] { fillTableIdentity(&e, identity) }
            if isRiskTable(r) {
                // AADUserRiskEvents, AADRiskyUsers, …: the user at risk and the address. (Other
                // tables use these column names for other things: OfficeActivity's UserId is a UPN.)
                if e.caller == nil { e.caller = t.text(.userPrincipalName) }
                if e.callerObjectId == nil { e.callerObjectId = t.text(.userId) }
                if e.callerIP == nil { e.callerIP = FieldText.address(t.text(.ipAddress)) }
            }
            if e.caller == nil { e.caller = e.callerObjectId ?? e.callerAppId }
        }
    }

    /// The `Identity` column of Azure ML and similar tables: an object (or JSON text of one) with
    /// `claims` or claim-named members, or a plain name.
    static func fillTableIdentity(_ e: inout Event, _ identity: JSONValue) {
        var identity = identity
        if identity.type == .string, let inner = identity.innerJSON { identity = inner }
        switch identity.type {
        case .object:
            let nested = IdentityKey.table.withScan(identity) { $0.has(.claims) || $0.has(.claim) || $0.has(.requester) }
            if nested { fillIdentity(&e, identity) } else { fillClaims(&e, identity) }
        case .string:
            if e.caller == nil { e.caller = FieldText.text(identity).map(trimmed) }
        default:
            break
        }
    }

    // MARK: identity

    /// `identity.claims` (Activity Log), `identity.claim` (Key Vault), `identity.requester`
    /// (Storage OAuth).
    static func fillIdentity(_ e: inout Event, _ identity: JSONValue) {
        IdentityKey.table.withScan(identity) { id in
            if let claims = id[.claims] ?? id[.claim], claims.type == .object {
                fillClaims(&e, claims)
            } else if let requester = id[.requester], requester.type == .object {
                IdentityKey.table.withScan(requester) { q in
                    if e.caller == nil { e.caller = q.text(.upn) ?? q.text(.objectId) ?? q.text(.appId) }
                    e.callerObjectId = q.text(.objectId)
                    e.callerAppId = q.text(.appId)
                    if e.tenantId == nil { e.tenantId = q.text(.tenantId) }
                }
            }
        }
    }

    /// Caller from token claims: UPN, else a name claim, else the app id, else the object id.
    static func fillClaims(_ e: inout Event, _ claims: JSONValue) {
        ClaimKey.table.withScan(claims) { c in
            if e.caller == nil {
                e.caller = (c.text(.upnURI) ?? c.text(.upn) ?? c.text(.nameURI) ?? c.text(.name) ?? c.text(.emailURI)
                    ?? c.text(.uniqueName) ?? c.text(.spnURI) ?? c.text(.appid) ?? c.text(.objectIdURI)
                    ?? c.text(.oid)).map(trimmed)
            }
            e.callerObjectId = c.text(.objectIdURI) ?? c.text(.oid)
            e.callerAppId = c.text(.appid) ?? c.text(.azp)
            if e.tenantId == nil { e.tenantId = c.text(.tenantIdURI) ?? c.text(.tid) }
            if e.callerIP == nil { e.callerIP = c.text(.ipaddr) }
        }
    }

    /// `text` up to the first occurrence of `marker` (lower-case, compared case-insensitively);
    /// all of `text` when it has none.
    static func prefix(of text: String, before marker: StaticString) -> String {
        var text = text
        return text.withUTF8 { b -> String in
            let n = marker.utf8CodeUnitCount
            var i = 0
            while i + n <= b.count {
                if FieldText.hasPrefixFolded(UnsafeBufferPointer(rebasing: b[i...]), marker) {
                    return String(decoding: UnsafeBufferPointer(rebasing: b[..<i]), as: UTF8.self)
                }
                i += 1
            }
            return String(decoding: b, as: UTF8.self)
        }
    }

    /// The path segment that follows `marker` (lower-case) in `text`, compared case-insensitively.
    static func segment(after marker: StaticString, in text: String) -> String? {
        var text = text
        return text.withUTF8 { b -> String? in
            let n = marker.utf8CodeUnitCount
            var i = 0
            while i + n <= b.count {
                if FieldText.hasPrefixFolded(UnsafeBufferPointer(rebasing: b[i...]), marker) {
                    var j = i + n
                    while j < b.count, b[j] != UInt8(ascii: "/") { j += 1 }
                    return j > i + n ? String(decoding: UnsafeBufferPointer(rebasing: b[(i + n)..<j]), as: UTF8.self) : nil
                }
                i += 1
            }
            return nil
        }
    }

    static func trimmed(_ s: String) -> String {
        guard s.utf8.first == 0x20 || s.utf8.last == 0x20 else { return s }
        return String(s.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    /// A resource-specific Log Analytics table without a `Category` column stands for the export's
    /// category where the two names differ (resource-logs.md): rules name the category.
    static func categoryOfTable(_ table: String) -> String {
        var table = table
        return table.withUTF8 { b in
            if FieldText.equalFolded(b, "azkvauditlogs") { return "AuditEvent" }
            if FieldText.equalFolded(b, "azkvpolicyevaluationdetailslogs") { return "AzurePolicyEvaluationDetails" }
            return String(decoding: b, as: UTF8.self)
        }
    }

    /// An Entra ID Protection table: `AADUserRiskEvents`, `AADRiskyUsers`, `AADServicePrincipalRiskEvents`, ….
    static func isRiskTable(_ r: Scanned<RootKey>) -> Bool {
        guard let type = r[.type], type.type == .string else { return false }
        return type.withStringBytes { FieldText.hasPrefixFolded($0, "aad") && FieldText.containsFolded($0, "risk") }
    }
}
