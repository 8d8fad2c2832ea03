import EventModel
import FastJSON

/// Defender for Cloud alert fields. `source` is `properties` for the REST resource and the record
/// itself for the flat shapes (continuous export, `SecurityAlert` rows); old and new column names
/// are both read (AlertName/AlertDisplayName, AlertSeverity/Severity, StartTime/StartTimeUtc,
/// SystemAlertId/ProviderAlertId).
enum DefenderFields {
    static func fill(_ e: inout Event, from source: JSONValue, root: Scanned<RootKey>?) {
        e.kind = .defenderAlert
        e.category = "SecurityAlert"
        AlertKey.table.withScan(source) { a in
            // The alert's event time is when the suspicious activity started; generation time next.
            e.time = FieldText.time(a[.startTimeUtc]) ?? FieldText.time(a[.startTime]) ?? FieldText.time(a[.timeGeneratedUtc])
                ?? FieldText.time(a[.timeGenerated]) ?? FieldText.time(a[.timeGeneratedUTC])
            if let type = a.text(.alertType) {
                e.operationName = type
                e.operation = FieldText.lowercasedASCII(type)
            }
            e.title = a.text(.alertDisplayName) ?? a.text(.alertName) ?? a.text(.displayName)
            e.severity = (a.text(.alertSeverity) ?? a.text(.severity)).flatMap(Severity.init(lenient:))
            // REST says Active where the export and the table say New.
            e.result = a.text(.status).map { FieldText.equalsAny(a[.status], ["new"]) ? "Active" : $0 }
            e.alertId = a.text(.systemAlertId) ?? a.text(.providerAlertId) ?? a.text(.vendorOriginalId)
                ?? root?.text(.name)
            e.resource = FieldText.resource(a.text(.azureResourceId))
                ?? a[.resourceIdentifiers].flatMap(azureResourceId)
                ?? FieldText.resource(a.text(.resourceId))
                ?? FieldText.resource(a.text(.compromisedEntity))
        }
    }

    /// `resourceIdentifiers[]` entry of type `AzureResource` (export: `AzureResourceId` in each).
    static func azureResourceId(_ identifiers: JSONValue) -> ResourceID? {
        guard identifiers.type == .array else { return nil }
        for item in identifiers.children where item.type == .object {
            let found: ResourceID? = IdentityKey.table.withScan(item) { FieldText.resource($0.text(.azureResourceId)) }
            if let found { return found }
        }
        return nil
    }
}
