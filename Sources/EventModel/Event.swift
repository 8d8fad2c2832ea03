import FastJSON

/// One normalised log record. Every source and shape produces this type.
///
/// The typed fields are what rules and incidents use most; they are filled by the normaliser for
/// the record's shape. Everything else stays in `record`, reachable by `values(at:)`: the raw
/// record's own paths (case-insensitive, JSON-in-strings transparent) and the typed fields under
/// the reserved `vigil.` prefix (`vigil.operation`, `vigil.caller`, `vigil.resource.name`, …).
/// `vigil events` prints exactly that view, so users see what rules see.
public struct Event: Sendable {
    public var kind: EventKind
    public var shape: RecordShape
    /// The record as it arrived (for CSV, one object per row, column → cell).
    public var record: JSONDocument
    public var position: SourcePosition
    /// Record identity: a hash of the record's bytes (the same record read twice has the same id).
    public var id: UInt64

    public var time: EventTime?
    /// operationName as found (`MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE`, …).
    public var operationName: String?
    /// operationName lower-cased: the form rules and indexes compare.
    public var operation: String?
    /// Log category: Administrative, Security, AuditEvent, DataStoreReadEvent, SignInLogs, …
    public var category: String?
    /// resultType / status (Start, Accept, Success, Failure, Succeeded, 0 / error code for sign-ins).
    public var result: String?
    public var resultSignature: String?
    public var level: String?
    /// For alerts: the alert's own severity.
    public var severity: Severity?
    /// Who did it: UPN, else object id or app id.
    public var caller: String?
    public var callerObjectId: String?
    public var callerAppId: String?
    public var callerIP: String?
    public var tenantId: String?
    public var resource: ResourceID?
    public var correlationId: String?
    /// Defender alert: SystemAlertId / alert name (used to upsert re-exported alerts).
    public var alertId: String?
    public var title: String?

    public init(kind: EventKind, shape: RecordShape, record: JSONDocument, position: SourcePosition, id: UInt64) {
        self.kind = kind
        self.shape = shape
        self.record = record
        self.position = position
        self.id = id
    }

    /// Hex form of `id`, 16 digits.
    public var idString: String {
        let s = String(id, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

extension Event {
    /// `success` or `failure` as the record's own result says it, nil when it says neither: a
    /// sign-in by its error code (`0` succeeded, any other code failed), other records by their
    /// result word (`Success`/`Succeeded`, `Failure`/`Failed`; Entra audits also `timeout`).
    public var outcome: String? {
        guard let r = result?.lowercased(), !r.isEmpty else { return nil }
        if kind == .signIn, r.allSatisfy(\.isNumber) { return r == "0" ? "success" : "failure" }
        switch r {
        case "success", "succeeded": return "success"
        case "failure", "failed": return "failure"
        case "timeout" where kind == .audit: return r
        default: return nil
        }
    }

    /// Values at a path: `vigil.*` for typed fields, else the raw record's path.
    public func values(at path: FieldPath) -> [FieldValue] {
        if !path.alternatives.isEmpty {
            var out: [FieldValue] = []
            for alt in path.alternatives {
                out += values(at: alt)
                if path.alternativesMode == .first, !out.isEmpty { break }
            }
            return out
        }
        if let keyed = path.keyed { return values(keyed) }
        if let typed = path.typedField {
            return typedValue(typed).map { [$0] } ?? []
        }
        return path.folded.withUnsafeBufferPointer { buf in
            JSONPathLookup.values(at: buf, in: record.root).map(FieldValue.json)
        }
    }

    public func values(at path: String) -> [FieldValue] { values(at: FieldPath(path)) }

    private func values(_ k: FieldPath.Keyed) -> [FieldValue] {
        var out: [FieldValue] = []
        let name = k.name.lowercased()
        for case .json(let entry) in values(at: FieldPath(k.list)) where entry.type == .object {
            let key = JSONPathLookup.values(at: k.key, in: entry)
            guard key.contains(where: { $0.scalarText?.lowercased() == name }) else { continue }
            for v in JSONPathLookup.values(at: k.value, in: entry) {
                // Audit logs write old/new values as JSON text: `"\"False\""`, `"[\"Member\"]"`.
                if let inner = v.innerJSON {
                    out += inner.type == .array ? inner.children.map(FieldValue.json) : [.json(inner)]
                } else if v.type == .string, let t = v.scalarText, t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") {
                    out.append(.text(String(t.dropFirst().dropLast())))
                } else {
                    out.append(.json(v))
                }
            }
        }
        return out
    }

    /// The first value at a path, as text (strings as they are, numbers spelled out).
    public func text(at path: String) -> String? { values(at: path).first?.text }

    public func typedValue(_ field: TypedField) -> FieldValue? {
        func t(_ s: String?) -> FieldValue? { s.map(FieldValue.text) }
        switch field {
        case .kind: return .text(kind.rawValue)
        case .shape: return .text(shape.rawValue)
        case .time: return time.map { .text($0.iso8601) }
        case .operationName: return t(operationName)
        case .operation: return t(operation)
        case .category: return t(category)
        case .result: return t(result)
        case .outcome: return t(outcome)
        case .resultSignature: return t(resultSignature)
        case .level: return t(level)
        case .severity: return t(severity?.rawValue)
        case .caller: return t(caller)
        case .callerObjectId: return t(callerObjectId)
        case .callerAppId: return t(callerAppId)
        case .callerIP: return t(callerIP)
        case .tenantId: return t(tenantId)
        case .correlationId: return t(correlationId)
        case .resourceId: return t(resource?.raw)
        case .subscription: return t(resource?.subscription)
        case .resourceGroup: return t(resource?.resourceGroup)
        case .provider: return t(resource?.provider)
        case .resourceType: return t(resource?.type)
        case .resourceName: return t(resource?.name)
        case .alertId: return t(alertId)
        case .title: return t(title)
        case .id: return .text(idString)
        case .source: return .text(position.description)
        }
    }
}

/// The typed fields, as addressed by `vigil.<name>` paths.
public enum TypedField: String, CaseIterable, Sendable {
    case kind, shape, time, operationName = "operationname", operation, category, result, outcome
    case resultSignature = "resultsignature", level, severity, caller
    case callerObjectId = "callerobjectid", callerAppId = "callerappid", callerIP = "callerip"
    case tenantId = "tenantid", correlationId = "correlationid"
    case resourceId = "resource.id", subscription = "resource.subscription", resourceGroup = "resource.group"
    case provider = "resource.provider", resourceType = "resource.type", resourceName = "resource.name"
    case alertId = "alertid", title, id, source

    /// The spelling `vigil events` prints (camelCase, dotted for resource parts).
    public var displayName: String {
        switch self {
        case .operationName: return "operationName"
        case .resultSignature: return "resultSignature"
        case .callerObjectId: return "callerObjectId"
        case .callerAppId: return "callerAppId"
        case .callerIP: return "callerIp"
        case .tenantId: return "tenantId"
        case .correlationId: return "correlationId"
        case .alertId: return "alertId"
        default: return rawValue
        }
    }
}
