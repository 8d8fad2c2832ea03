/// What a record is, whatever shape it arrived in.
public enum EventKind: String, Sendable, Hashable, CaseIterable, Codable {
    case activity          // Azure Activity Log (any shape: export, REST, AzureActivity table)
    case resourceLog       // Azure Monitor resource (diagnostic) log: AML, Key Vault, Storage, …
    case defenderAlert     // Microsoft Defender for Cloud alert (REST, export, SecurityAlert table)
    case signIn            // Entra ID sign-in (SignInLogs and variants)
    case audit             // Entra ID audit (AuditLogs)
    case operation         // Vigil-assembled Activity Log operation (Start…Succeeded by correlationId)
    case unknown
}

/// Which on-the-wire shape the record had. Field mappings are chosen per shape.
public enum RecordShape: String, Sendable, Hashable, CaseIterable, Codable {
    case resourceLogExport   // diagnostic-setting export: time, resourceId, operationName, category, properties
    case activityREST        // Activity Log REST/portal: eventTimestamp, operationName.value, …
    case logAnalytics        // Log Analytics table row (CSV or JSON export): PascalCase columns
    case defenderREST        // Microsoft.Security/alerts resource: {id, name, properties:{alertType…}}
    case defenderExport      // continuous export: flat PascalCase, $id/$ref entities
    case graph               // Microsoft Graph shape (signIns, directoryAudits)
    case assembled           // built by Vigil
    case unknown
}
