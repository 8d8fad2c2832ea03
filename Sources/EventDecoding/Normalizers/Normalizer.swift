import EventModel
import FastJSON

/// Turns one decoded record (any supported shape) into an `Event`: classifies kind and shape and
/// fills the typed fields. Records of unknown shape are reported, never dropped silently.
///
/// How: one scan of the root object finds every key any shape uses (`RootKey`); a few presence
/// tests on that scan pick the shape; one filler per family (Activity/resource log, Entra, Defender)
/// reads the typed fields. Nested objects are scanned the same way, and only when the shape needs
/// them. JSON carried inside strings is never decoded here, except in Log Analytics rows where a
/// cell holding JSON text is the only place the caller is recorded: `InitiatedBy` (`AuditLogs`),
/// `Claims` (`AzureActivity` CSV) and `Identity` (Azure ML tables). docs/events.md has the
/// field-by-shape table.
public struct Normalizer: Sendable {
    /// Keep records of unknown shape as `.unknown` events instead of reporting them. For reading
    /// non-Azure JSON (tests of the framing layer, ad-hoc keyword hunting); the default reports them.
    public var acceptsUnknownShapes: Bool

    public init(acceptsUnknownShapes: Bool = false) {
        self.acceptsUnknownShapes = acceptsUnknownShapes
    }

    /// `id` is the record identity the reader computed (hash of the record's bytes).
    public func normalize(_ record: JSONDocument, position: SourcePosition, id: UInt64) throws(Diagnostic) -> Event {
        let root = record.root
        guard root.type == .object else {
            if acceptsUnknownShapes { return Event(kind: .unknown, shape: .unknown, record: record, position: position, id: id) }
            throw Self.unknownShape(position, "a record must be a JSON object, found \(root.type)")
        }
        let event: Event? = RootKey.table.withScan(root) { r in
            var e = Event(kind: .unknown, shape: .unknown, record: record, position: position, id: id)
            guard Self.fill(&e, r) else { return nil }
            return e
        }
        guard let event else {
            if acceptsUnknownShapes { return Event(kind: .unknown, shape: .unknown, record: record, position: position, id: id) }
            throw Self.unknownShape(position, Self.missingDescription(root))
        }
        return event
    }

    /// A note for an event that normalised without a time (the reader reports it beside the
    /// event; time-ordered stages then fall back to the record's position).
    public static func missingTimeNote(for event: Event) -> Diagnostic? {
        guard event.time == nil else { return nil }
        return Diagnostic(.note, code: "input.no-time",
                          "record has no parseable time (\(TimeFields.description)); it is kept with no time",
                          at: location(event.position))
    }

    // MARK: classification

    /// Picks the shape from the root scan and fills `e`. False when nothing identifies the record.
    static func fill(_ e: inout Event, _ r: Scanned<RootKey>) -> Bool {
        if isDefenderREST(r), let properties = r[.properties] {
            e.shape = .defenderREST
            DefenderFields.fill(&e, from: properties, root: r)
        } else if let flatShape = flatAlertShape(r) {
            e.shape = flatShape
            DefenderFields.fill(&e, from: r.object, root: nil)
        } else if r.has(.eventTimestamp) {
            e.shape = .activityREST
            ActivityFields.fill(&e, r)
        } else if isLogAnalytics(r) {
            e.shape = .logAnalytics
            ActivityFields.fill(&e, r)
            let entra = entraKind(r)
            if let entra { e.kind = entra; EntraFields.fill(&e, from: r.object, root: r) }
            ActivityFields.fillTableColumns(&e, r, callers: entra == nil)
        } else if !r.has(.time), let kind = graphKind(r) {
            e.shape = .graph
            e.kind = kind
            EntraFields.fill(&e, from: r.object, root: r)
        } else if r.has(.operationName) || r.has(.time) || r.has(.resourceId) {
            e.shape = .resourceLogExport
            ActivityFields.fill(&e, r)
            if let kind = entraKind(r) {
                e.kind = kind
                if let p = FieldText.object(r[.properties]) { EntraFields.fill(&e, from: p, root: r) }
            }
        } else {
            return false
        }
        return e.time != nil || e.operationName != nil
    }

    /// `{id, name, type: Microsoft.Security/Locations/alerts, properties: {alertType…}}`.
    static func isDefenderREST(_ r: Scanned<RootKey>) -> Bool {
        guard let p = r[.properties], p.type == .object, !r.has(.time), !r.has(.eventTimestamp) else { return false }
        if let t = r[.type], t.withStringBytes({ FieldText.containsFolded($0, "/alerts") }) { return true }
        return AlertKey.table.withScan(p) { $0.has(.alertType) || $0.has(.systemAlertId) }
    }

    /// Flat alert shapes: `SecurityAlert` rows (Log Analytics) and the PascalCase continuous export.
    static func flatAlertShape(_ r: Scanned<RootKey>) -> RecordShape? {
        let typeIsSecurityAlert = FieldText.equalsAny(r[.type], ["securityalert"])
        guard typeIsSecurityAlert || r.has(.alertType) || r.has(.systemAlertId) || r.has(.alertDisplayName)
                || r.has(.alertName) || r.has(.providerAlertId) else { return nil }
        if let p = r[.properties], p.type == .object, !typeIsSecurityAlert { return nil }
        // (`WorkspaceSubscriptionId` is in both: the export flattens the alert's Log Analytics identifiers.)
        let tableColumns = typeIsSecurityAlert || r.has(.alertName) || r.has(.alertSeverity) || r.has(.providerName)
            || r.has(.providerAlertId) || r.has(.vendorOriginalId) || r.has(.sourceSystem) || r[.entities]?.type == .string
        return tableColumns ? .logAnalytics : .defenderExport
    }

    /// Log Analytics rows: `TimeGenerated`, the `*Value` columns of AzureActivity, `_ResourceId`,
    /// `SourceSystem`, or a `Type` (table name) with neither `time` nor `properties`.
    static func isLogAnalytics(_ r: Scanned<RootKey>) -> Bool {
        if r.has(.timeGenerated) || r.has(.timeGeneratedUTC) || r.has(.operationNameValue) || r.has(.categoryValue)
            || r.has(.underscoreResourceId) || r.has(.sourceSystem) || r.has(.propertiesD) { return true }
        return r.has(.type) && !r.has(.time) && !r.has(.properties)
    }

    /// Sign-in or audit, for export and Log Analytics records (nil: not Entra).
    static func entraKind(_ r: Scanned<RootKey>) -> EventKind? {
        let table = r[.type].map(FieldText.unwrapped)
        if let table, table.type == .string {
            let kind: EventKind? = table.withStringBytes { b in
                if FieldText.hasSuffixFolded(b, "signinlogs") { return .signIn }
                if FieldText.equalFolded(b, "auditlogs") { return .audit }
                return nil
            }
            if kind != nil { return kind }
        }
        if let c = r[.category].map(FieldText.unwrapped), c.type == .string {
            let kind: EventKind? = c.withStringBytes { b in
                if FieldText.hasSuffixFolded(b, "signinlogs") || FieldText.equalFolded(b, "signin") { return .signIn }
                if FieldText.equalFolded(b, "auditlogs") { return .audit }
                // The older Entra audit export: category `Audit`, tenant-level (no resource id).
                if FieldText.equalFolded(b, "audit"), !r.has(.resourceId), !r.has(.underscoreResourceId) { return .audit }
                return nil
            }
            if kind != nil { return kind }
        }
        let aad = r[.resourceId].map { $0.withStringBytes { FieldText.containsFolded($0, "/microsoft.aadiam") } } ?? false
        if aad || r.has(.initiatedBy) || r.has(.activityDisplayName) {
            let signIn = r[.operationName].map { $0.withStringBytes { FieldText.equalFolded($0, "sign-in activity") } } ?? false
            return signIn ? .signIn : .audit
        }
        // A row with a user, an address or an app and no Activity Log column reads as a sign-in,
        // unless it is a risk detection (AADUserRiskEvents carries both).
        if r.has(.userPrincipalName), !r.has(.operationNameValue), !r.has(.riskEventType), r.has(.ipAddress) || r.has(.appId) {
            return .signIn
        }
        return nil
    }

    /// Microsoft Graph `signIn` (`createdDateTime`) and `directoryAudit` (`activityDateTime`).
    static func graphKind(_ r: Scanned<RootKey>) -> EventKind? {
        if r.has(.activityDateTime) || (r.has(.activityDisplayName) && r.has(.initiatedBy)) { return .audit }
        if r.has(.createdDateTime), r.has(.userPrincipalName) || r.has(.appId) || r.has(.ipAddress) { return .signIn }
        return nil
    }

    // MARK: diagnostics

    static func location(_ p: SourcePosition) -> SourceLocation {
        SourceLocation(file: p.source, line: p.line, offset: p.offset)
    }

    static func unknownShape(_ p: SourcePosition, _ why: String) -> Diagnostic {
        let inEnvelope = p.recordIndex.map { " (record \($0) of its envelope)" } ?? ""
        return Diagnostic(.error, code: "input.unknown-shape", "record of unknown shape\(inEnvelope): \(why)", at: location(p))
    }

    static func missingDescription(_ root: JSONValue) -> String {
        var keys: [String] = []
        for child in root.children.prefix(8) { keys.append(child.key ?? "") }
        let more = root.count > 8 ? ", …" : ""
        let seen = keys.isEmpty ? "the object is empty" : "keys: \(keys.joined(separator: ", "))\(more)"
        return "no time (\(TimeFields.description)) and no operation (operationName, OperationNameValue, "
            + "alertType, activityDisplayName) found; \(seen)"
    }
}

enum TimeFields {
    static let description = "time, eventTimestamp, TimeGenerated, createdDateTime, activityDateTime, startTimeUtc"
}
