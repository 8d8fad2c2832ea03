import EventModel
import FastJSON

/// Entra ID sign-in and audit fields. `source` is `properties` for the diagnostic-setting export
/// and the record itself for Log Analytics rows and Microsoft Graph objects; the generic
/// Activity/resource-log pass has already filled what the top level holds, so this only fills
/// fields still empty.
enum EntraFields {
    static func fill(_ e: inout Event, from source: JSONValue, root: Scanned<RootKey>) {
        EntraKey.table.withScan(source) { s in
            if e.time == nil {
                e.time = FieldText.time(s[.createdDateTime]) ?? FieldText.time(s[.createdDateTimeUTC])
                    ?? FieldText.time(s[.activityDateTime])
            }
            if e.operationName == nil, let name = s.text(.operationName) ?? s.text(.activityDisplayName) {
                e.operationName = name
                e.operation = FieldText.lowercasedASCII(name)
            }
            if e.category == nil { e.category = s.text(.category) }
            if e.correlationId == nil { e.correlationId = s.text(.correlationId) }
            if e.tenantId == nil { e.tenantId = s.text(.aadTenantId) ?? s.text(.resourceTenantId) }
            if e.kind == .signIn {
                fillSignIn(&e, s, root)
            } else {
                fillAudit(&e, s, root)
            }
        }
    }

    static func fillSignIn(_ e: inout Event, _ s: Scanned<EntraKey>, _ root: Scanned<RootKey>) {
        if e.result == nil {
            // Graph: status.errorCode (0 = success), the same code export and LA put in resultType.
            e.result = s.text(.resultType) ?? s[.status].flatMap { status in
                status.type == .object ? status["errorCode"].flatMap(FieldText.text) : FieldText.text(status)
            }
        }
        e.caller = s.text(.userPrincipalName) ?? s.text(.servicePrincipalName) ?? s.text(.servicePrincipalId)
            ?? e.caller ?? displayIdentity(root) ?? s.text(.userDisplayName)
        e.callerObjectId = s.text(.userId) ?? s.text(.servicePrincipalId)
        e.callerAppId = s.text(.appId)
        if e.callerIP == nil { e.callerIP = FieldText.address(s.text(.ipAddress)) }
        if e.shape == .graph {
            // A Graph signIn has neither: the export's and the tables' values, which rules name.
            if e.category == nil { e.category = graphSignInCategory(s) }
            if e.operationName == nil {
                e.operationName = "Sign-in activity"
                e.operation = "sign-in activity"
            }
        }
    }

    /// A Graph `signIn` has no category: the one its Log Analytics table and export carry, from
    /// `signInEventTypes` (beta) or `isInteractive`. The v1.0 list returns interactive sign-ins.
    static func graphSignInCategory(_ s: Scanned<EntraKey>) -> String {
        if let types = s[.signInEventTypes], types.type == .array {
            for t in types.children {
                switch t.string?.lowercased() {
                case "interactiveuser": return "SignInLogs"
                case "noninteractiveuser": return "NonInteractiveUserSignInLogs"
                case "serviceprincipal": return "ServicePrincipalSignInLogs"
                case "managedidentity": return "ManagedIdentitySignInLogs"
                default: continue
                }
            }
        }
        if s[.isInteractive]?.bool == false { return "NonInteractiveUserSignInLogs" }
        return "SignInLogs"
    }

    static func fillAudit(_ e: inout Event, _ s: Scanned<EntraKey>, _ root: Scanned<RootKey>) {
        if e.result == nil { e.result = s.text(.result) ?? s.text(.resultType) }
        // A Log Analytics CSV cell holds it as JSON text.
        if let initiatedBy = FieldText.object(s[.initiatedBy]) { fillInitiatedBy(&e, initiatedBy) }
        // Identity Protection records (UserRiskEvents, RiskyUsers exports; Graph riskDetection) name
        // the user at risk and the address; directory audits name neither at this level.
        if e.caller == nil { e.caller = s.text(.initiatingUserOrApp) ?? s.text(.userPrincipalName) ?? displayIdentity(root) }
        if e.callerObjectId == nil { e.callerObjectId = s.text(.userId) }
        if e.callerIP == nil { e.callerIP = FieldText.address(s.text(.initiatingIpAddress)) ?? FieldText.address(s.text(.ipAddress)) }
    }

    /// `initiatedBy.user{userPrincipalName,id,ipAddress}` or `initiatedBy.app{appId,servicePrincipalName…}`.
    static func fillInitiatedBy(_ e: inout Event, _ initiatedBy: JSONValue) {
        IdentityKey.table.withScan(initiatedBy) { by in
            if let user = by[.user], user.type == .object {
                IdentityKey.table.withScan(user) { u in
                    if e.caller == nil { e.caller = u.text(.userPrincipalName) ?? u.text(.displayName) ?? u.text(.id) }
                    if e.callerObjectId == nil { e.callerObjectId = u.text(.id) }
                    if e.callerIP == nil { e.callerIP = FieldText.address(u.text(.ipAddress)) }
                }
            }
            if let app = by[.app], app.type == .object {
                IdentityKey.table.withScan(app) { a in
                    if e.caller == nil {
                        e.caller = a.text(.servicePrincipalName) ?? a.text(.displayName) ?? a.text(.appId)
                    }
                    if e.callerObjectId == nil { e.callerObjectId = a.text(.servicePrincipalId) }
                    if e.callerAppId == nil { e.callerAppId = a.text(.appId) }
                }
            }
        }
    }

    /// Entra exports put the user's display name in `identity` (a string).
    static func displayIdentity(_ root: Scanned<RootKey>) -> String? {
        guard let identity = root[.identity], identity.type == .string else { return nil }
        return FieldText.text(identity)
    }
}
