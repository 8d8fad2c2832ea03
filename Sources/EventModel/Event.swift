import FastJSON

/// One normalised log record. Every source and shape produces this type.
///
/// The typed fields are what rules and incidents use most; they are filled by the normaliser for
/// the record's shape. Everything else stays in `record`, reachable by `values(at:)`: the raw
/// record's own paths (case-insensitive, JSON-in-strings transparent) and the typed fields under
/// the reserved `vigil.` prefix (`vigil.operation`, `vigil.caller`, `vigil.resource.name`, …).
/// `vigil events` prints exactly that view, so users see what rules see.
public struct Event: Sendable {
    // Layout: the trivial fields live inline; every field that holds a reference (the position's
    // source, the text fields, the resource) lives in one copy-on-write box. An event is copied
    // many times on its way through the stateful stages (reorder buffer, assembler, anomaly
    // detector, engine), and a copy is now two retains instead of one per String (~20). Reads are
    // one pointer hop; a write to a shared box copies it first, so value semantics are unchanged.
    // The record sits beside the box, not in it: dropping it (`droppingRecord`, for events held
    // only for their typed fields) then shares the box instead of copying it.
    public var kind: EventKind
    public var shape: RecordShape
    /// Record identity: a hash of the record's bytes (the same record read twice has the same id).
    public var id: UInt64
    public var time: EventTime?
    /// For alerts: the alert's own severity.
    public var severity: Severity?
    private var storage: Storage
    /// Parsed already (every decoded record), built on first read (assembled operations), or dropped.
    private var recordStorage: RecordStorage

    private final class Storage: @unchecked Sendable {
        var position: SourcePosition
        var operationName: String? = nil
        var operation: String? = nil
        var category: String? = nil
        var result: String? = nil
        var resultSignature: String? = nil
        var level: String? = nil
        var caller: String? = nil
        var callerObjectId: String? = nil
        var callerAppId: String? = nil
        var callerIP: String? = nil
        var tenantId: String? = nil
        var resource: ResourceID? = nil
        var correlationId: String? = nil
        var alertId: String? = nil
        var title: String? = nil

        init(position: SourcePosition) {
            self.position = position
        }

        /// A copy with the typed fields operationName … correlationId only (no alertId, no title).
        func copyTypedFields(position: SourcePosition) -> Storage {
            let c = Storage(position: position)
            c.operationName = operationName
            c.operation = operation
            c.category = category
            c.result = result
            c.resultSignature = resultSignature
            c.level = level
            c.caller = caller
            c.callerObjectId = callerObjectId
            c.callerAppId = callerAppId
            c.callerIP = callerIP
            c.tenantId = tenantId
            c.resource = resource
            c.correlationId = correlationId
            return c
        }

        func copy() -> Storage {
            let c = copyTypedFields(position: position)
            c.alertId = alertId
            c.title = title
            return c
        }
    }

    @inline(__always)
    private mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// The record as it arrived (for CSV, one object per row, column → cell). Events Vigil builds
    /// itself (assembled operations) may defer it: it is built on first read.
    public var record: JSONDocument {
        get { recordStorage.document }
        set { recordStorage = .document(newValue) }
    }
    public var position: SourcePosition {
        get { storage.position }
        set { uniqueStorage().position = newValue }
    }
    /// operationName as found (`MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE`, …).
    public var operationName: String? {
        get { storage.operationName }
        set { uniqueStorage().operationName = newValue }
    }
    /// operationName lower-cased: the form rules and indexes compare.
    public var operation: String? {
        get { storage.operation }
        set { uniqueStorage().operation = newValue }
    }
    /// Log category: Administrative, Security, AuditEvent, DataStoreReadEvent, SignInLogs, …
    public var category: String? {
        get { storage.category }
        set { uniqueStorage().category = newValue }
    }
    /// resultType / status (Start, Accept, Success, Failure, Succeeded, 0 / error code for sign-ins).
    public var result: String? {
        get { storage.result }
        set { uniqueStorage().result = newValue }
    }
    public var resultSignature: String? {
        get { storage.resultSignature }
        set { uniqueStorage().resultSignature = newValue }
    }
    public var level: String? {
        get { storage.level }
        set { uniqueStorage().level = newValue }
    }
    /// Who did it: UPN, else object id or app id.
    public var caller: String? {
        get { storage.caller }
        set { uniqueStorage().caller = newValue }
    }
    public var callerObjectId: String? {
        get { storage.callerObjectId }
        set { uniqueStorage().callerObjectId = newValue }
    }
    public var callerAppId: String? {
        get { storage.callerAppId }
        set { uniqueStorage().callerAppId = newValue }
    }
    public var callerIP: String? {
        get { storage.callerIP }
        set { uniqueStorage().callerIP = newValue }
    }
    public var tenantId: String? {
        get { storage.tenantId }
        set { uniqueStorage().tenantId = newValue }
    }
    public var resource: ResourceID? {
        get { storage.resource }
        set { uniqueStorage().resource = newValue }
    }
    /// One part of the resource id (`.resourceId` … `.resourceName`; nil for any other field), read
    /// in place: `resource` hands out a copy of the whole `ResourceID`, a retain and a release per part.
    public func resourceText(_ field: TypedField) -> String? {
        switch field {
        case .resourceId: return storage.resource?.raw
        case .subscription: return storage.resource?.subscription
        case .resourceGroup: return storage.resource?.resourceGroup
        case .provider: return storage.resource?.provider
        case .resourceType: return storage.resource?.type
        case .resourceName: return storage.resource?.name
        default: return nil
        }
    }

    public var correlationId: String? {
        get { storage.correlationId }
        set { uniqueStorage().correlationId = newValue }
    }
    /// Defender alert: SystemAlertId / alert name (used to upsert re-exported alerts).
    public var alertId: String? {
        get { storage.alertId }
        set { uniqueStorage().alertId = newValue }
    }
    public var title: String? {
        get { storage.title }
        set { uniqueStorage().title = newValue }
    }


    public init(kind: EventKind, shape: RecordShape, record: JSONDocument, position: SourcePosition, id: UInt64) {
        self.kind = kind
        self.shape = shape
        self.id = id
        self.storage = Storage(position: position)
        self.recordStorage = .document(record)
    }

    /// An event whose record is built by `record` the first time something reads it.
    public init(kind: EventKind, shape: RecordShape, deferredRecord record: DeferredRecord, position: SourcePosition, id: UInt64) {
        self.kind = kind
        self.shape = shape
        self.id = id
        self.storage = Storage(position: position)
        self.recordStorage = .deferred(record)
    }

    /// An event Vigil builds from another one (an assembled operation from its base record): its own
    /// kind, shape, id, time and deferred record, and `source`'s typed fields operationName through
    /// correlationId (alertId, title and severity stay nil), copied in one go rather than set one
    /// by one. The caller then overwrites what differs.
    public init(kind: EventKind, shape: RecordShape, deferredRecord record: DeferredRecord, position: SourcePosition, id: UInt64,
                time: EventTime?, typedFieldsOf source: Event) {
        self.kind = kind
        self.shape = shape
        self.id = id
        self.time = time
        self.storage = source.storage.copyTypedFields(position: position)
        self.recordStorage = .deferred(record)
    }

    /// False while a deferred record has not been built yet (for tests and counters).
    public var recordIsBuilt: Bool {
        if case .deferred(let r) = recordStorage { return r.isBuilt }
        return true
    }

    /// This event without its record: every typed field stays, `record` reads as an empty object.
    /// For events held only for what their typed fields say (the stateful path holds those for
    /// minutes of event time, and the record is most of an event's memory).
    public func droppingRecord() -> Event {
        var e = self
        e.recordStorage = .dropped
        return e
    }

    /// False once `droppingRecord()` has dropped the record.
    public var hasRecord: Bool {
        if case .dropped = recordStorage { return false }
        return true
    }

    /// Hex form of `id`, 16 digits.
    public var idString: String { HexText.fixed(id, digits: 16) }
}

/// Lower-case, zero-padded hexadecimal text, written byte by byte (ids are formatted per event and
/// per alert; `String(_:radix:)` plus padding allocates twice).
public enum HexText {
    public static func fixed(_ value: UInt64, digits: Int) -> String {
        precondition(digits > 0 && digits <= 16)
        return String(unsafeUninitializedCapacity: digits) { buf in
            write(value, digits: digits, into: buf.baseAddress!)
            return digits
        }
    }

    /// Writes the low `digits` nibbles of `value`, most significant first.
    @inline(__always)
    static func write(_ value: UInt64, digits: Int, into p: UnsafeMutablePointer<UInt8>) {
        var v = value
        var i = digits - 1
        while i >= 0 {
            let nibble = UInt8(truncatingIfNeeded: v & 15)
            p[i] = nibble < 10 ? 48 + nibble : 87 + nibble
            v >>= 4
            i -= 1
        }
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
            if case .deferred(let deferred) = recordStorage, let routed = deferred.routedValues(at: buf) {
                return routed.map(FieldValue.json)
            }
            return JSONPathLookup.values(at: buf, in: record.root).map(FieldValue.json)
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
        case .resourceId, .subscription, .resourceGroup, .provider, .resourceType, .resourceName: return t(resourceText(field))
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
