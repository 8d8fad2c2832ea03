// Anomalous access: baselines per identity and scope (an Azure ML workspace by default), learned
// from event time, kept in the state database, checked by `vigil_rule: anomaly` rules.
//
// Invariants:
// - Each event is checked against the baselines as they were *before* it, then learned.
// - No alert before the learning period: `first_access` and `first_sensitive_operation` wait until
//   the scope has been watched for `learning_days`; `new_ip_range`, `unusual_hour` and
//   `volume_spike` until the identity's own history in that scope is that long.
// - Alert ids are `Alert.makeId(ruleId:eventIds:)` of the triggering event; every raised id is
//   also kept as a marker (namespace `anomaly.alerted`), so a restart never raises it again.
// - Memory is bounded (`maxProfiles`, `maxScopes`): the least recently used baselines are written
//   back and dropped (counted as evictions), never lost.
// - `save()` writes changed baselines and markers in one transaction; call it in the transaction
//   that moves the source checkpoint. `finish()` saves too.
import EventModel
import FastJSON

public final class AnomalyDetector: Detector {
    public struct Configuration: Sendable, Hashable {
        /// Most identity×scope baselines held in memory.
        public var maxProfiles: Int
        /// Most scopes (workspaces) held in memory.
        public var maxScopes: Int
        /// Largest record text copied into an alert's evidence.
        public var maxEvidenceBytes: Int

        public init(maxProfiles: Int = 100_000, maxScopes: Int = 20_000, maxEvidenceBytes: Int = 8_192) {
            self.maxProfiles = maxProfiles
            self.maxScopes = maxScopes
            self.maxEvidenceBytes = maxEvidenceBytes
        }
    }

    public enum Mode: Sendable {
        /// Learn and alert.
        case detect
        /// Learn only (`vigil baseline learn`): no alerts, no markers.
        case learnOnly
    }

    public struct Stats: Sendable, Hashable {
        public var events = 0
        public var eventsLearned = 0
        public var alerts = 0
        /// Anomalies seen during a learning period (not raised).
        public var suppressedLearning = 0
        /// Alerts already raised before (marker found).
        public var suppressedDuplicate = 0
        public var profilesInMemory = 0
        public var profileLoads = 0
        public var profileEvictions = 0
        public var scopeEvictions = 0
        public var storeErrors = 0
    }

    public static let profileNamespace = "anomaly.profile"
    public static let scopeNamespace = "anomaly.scope"
    public static let markerNamespace = "anomaly.alerted"

    public let rules: [AnomalyRule]
    public let configuration: Configuration
    public let mode: Mode
    public private(set) var stats = Stats()
    public let store: BaselineStore
    private var spaces: [Space]
    private var profiles: WriteBackCache<BaselineKey, AccessProfile>
    private var scopes: WriteBackCache<BaselineKey, ScopeRecord>
    private var pendingMarkers: Set<String> = []
    private var diagnostics: [Diagnostic] = []
    private let needsCategory: Bool

    public init(rules: [AnomalyRule], store: BaselineStore, configuration: Configuration = Configuration(), mode: Mode = .detect) {
        self.rules = rules
        self.store = store
        self.configuration = configuration
        self.mode = mode
        let spaces = Space.group(rules)
        self.spaces = spaces
        let names = spaces.map(\.name)
        profiles = WriteBackCache(namespace: Self.profileNamespace, capacity: configuration.maxProfiles) {
            names[$0.space] + "|" + $0.scope + "|" + $0.subject
        }
        scopes = WriteBackCache(namespace: Self.scopeNamespace, capacity: configuration.maxScopes) {
            names[$0.space] + "|" + $0.scope
        }
        needsCategory = rules.contains { !$0.categories.isEmpty }
    }

    // MARK: Detector

    public func process(_ event: Event) -> [Alert] {
        stats.events += 1
        guard let time = event.time else { return [] }
        var alerts: [Alert] = []
        let category = needsCategory ? event.category?.lowercased() : nil
        for space in spaces where space.kinds.contains(event.kind) {
            guard let subjectText = space.subject(of: event), let scope = space.scope(of: event) else { continue }
            do {
                try learnAndCheck(event, time: time, space: space, subjectText: subjectText, scope: scope,
                                  category: category, into: &alerts)
            } catch {
                storeFailed(error, event: event)
            }
        }
        do {
            try profiles.evictIfNeeded(store: store)
            try scopes.evictIfNeeded(store: store)
        } catch {
            storeFailed(error, event: event)
        }
        stats.profilesInMemory = profiles.count
        stats.profileLoads = profiles.loads
        stats.profileEvictions = profiles.evictions
        stats.scopeEvictions = scopes.evictions
        return alerts
    }

    public func finish() -> [Alert] {
        do { try save() } catch {
            stats.storeErrors += 1
            diagnostics.append(Diagnostic(.error, code: "state.baseline-save", "could not save anomaly baselines: \(error)",
                                          at: SourceLocation(file: "state")))
        }
        return []
    }

    /// Writes changed baselines and alert markers in one transaction.
    public func save() throws {
        try store.transaction {
            try profiles.save(store: store)
            try scopes.save(store: store)
            for id in pendingMarkers.sorted() {
                try store.setBaselineValue(Array("1".utf8), namespace: Self.markerNamespace, key: id)
            }
        }
        pendingMarkers.removeAll()
    }

    /// Problems met since the last call (state-store failures), located at the event concerned.
    public func drainDiagnostics() -> [Diagnostic] {
        defer { diagnostics.removeAll() }
        return diagnostics
    }

    private func storeFailed(_ error: Error, event: Event) {
        stats.storeErrors += 1
        diagnostics.append(Diagnostic(.error, code: "state.baseline-error", "anomaly baselines unavailable: \(error)",
                                      at: SourceLocation(file: event.position.source, line: event.position.line, offset: event.position.offset)))
    }

    // MARK: the hot path

    private func learnAndCheck(_ event: Event, time: EventTime, space: Space, subjectText: String, scope: ScopeValue,
                               category: String?, into alerts: inout [Alert]) throws {
        let seconds = time.seconds
        let profileKey = BaselineKey(space: space.index, scope: scope.key, subject: subjectText.lowercased())
        let scopeKey = BaselineKey(space: space.index, scope: scope.key, subject: "")
        let known = try profiles.get(profileKey, store: store)
        let scopeBox = try scopes.get(scopeKey, store: store)
            ?? scopes.insert(scopeKey, ScopeRecord(space: space.name, scope: scope.key, scopeName: scope.name,
                                                   firstSeen: seconds, lastSeen: seconds, subjects: 0))
        let range = event.callerIP.flatMap { IPRange.of($0, ipv4Prefix: space.ipv4Prefix, ipv6Prefix: space.ipv6Prefix) }

        // Check against the baseline as it was before this event (volume rules count first, below).
        var volumeRules: [CompiledAnomalyRule] = []
        var findings: [(CompiledAnomalyRule, String)] = []
        do {
            let check = Check(event: event, time: time, subject: subjectText, scope: scope, space: space,
                              before: known?.value, scopeRecord: scopeBox.value, range: range)
            for rule in space.rules where rule.matches(event, category: category) {
                if rule.rule.kind == .volumeSpike { volumeRules.append(rule); continue }
                guard let finding = check.finding(rule.rule) else { continue }
                if check.learned(rule.rule) { findings.append((rule, finding)) } else { stats.suppressedLearning += 1 }
            }
        }
        let wasLearned = volumeRules.isEmpty ? [] : volumeRules.map { rule in
            Check.learned(rule.rule, time: time, subjectFirstSeen: known?.value.firstSeen, scopeFirstSeen: scopeBox.value.firstSeen)
        }

        // Learn in place.
        let box = known ?? profiles.insert(profileKey, AccessProfile(space: space.name, subject: subjectText, scope: scope.key,
                                                                      scopeName: scope.name, time: seconds))
        let operation = event.operation
        box.value.learn(time: time, range: range, operation: operation,
                        keepOperation: operation.map { space.watchedOperations.matches($0) } ?? false)
        box.dirty = true
        stats.eventsLearned += 1
        if known == nil { scopeBox.value.subjects += 1 }
        if seconds < scopeBox.value.firstSeen { scopeBox.value.firstSeen = seconds }
        if seconds > scopeBox.value.lastSeen { scopeBox.value.lastSeen = seconds }
        scopeBox.dirty = true

        for (i, rule) in volumeRules.enumerated() {
            let check = Check(event: event, time: time, subject: subjectText, scope: scope, space: space,
                              before: nil, scopeRecord: scopeBox.value, range: range)
            guard let finding = check.volumeSpike(rule.rule, profile: &box.value) else { continue }
            if wasLearned[i] { findings.append((rule, finding)) } else { stats.suppressedLearning += 1 }
        }

        guard mode == .detect else { return }
        for (rule, finding) in findings {
            if let alert = try raise(rule, event: event, time: time, description: finding) { alerts.append(alert) }
        }
    }

    private func raise(_ rule: CompiledAnomalyRule, event: Event, time: EventTime, description: String) throws -> Alert? {
        let eventId = event.idString
        let id = Alert.makeId(ruleId: rule.rule.id, eventIds: [eventId])
        let marked = try pendingMarkers.contains(id) || store.baselineValue(namespace: Self.markerNamespace, key: id) != nil
        if marked {
            stats.suppressedDuplicate += 1
            return nil
        }
        pendingMarkers.insert(id)
        stats.alerts += 1
        var entities: [Entity] = []
        for (kind, path) in rule.entities {
            guard let value = event.values(at: path).first?.text, !value.isEmpty else { continue }
            let entity = Entity(kind: kind, value: value)
            if !entities.contains(where: { $0.key == entity.key }) { entities.append(entity) }
        }
        let text = event.record.root.jsonText
        let evidence = text.utf8.count <= configuration.maxEvidenceBytes ? [text] : []
        var controls = rule.rule.baselineControls
        if let area = rule.rule.baselineArea, !controls.contains(area) { controls.insert(area, at: 0) }
        return Alert(id: id, ruleId: rule.rule.id, ruleTitle: rule.rule.title, severity: rule.rule.level,
                     tactics: rule.rule.tactics, techniques: rule.rule.techniques, entities: entities, time: time,
                     position: event.position, description: description, eventIds: [eventId], evidence: evidence,
                     baselineControls: controls)
    }
}

// MARK: - rules grouped by baseline space

/// Which baseline: space (index), scope key and lower-cased subject ("" for the scope itself).
struct BaselineKey: Hashable {
    var space: Int
    var scope: String
    var subject: String
}

/// A scope value: the key baselines are stored under and the name people read.
struct ScopeValue {
    var key: String
    var name: String
}

final class CompiledAnomalyRule {
    let rule: AnomalyRule
    let operations: NamePatterns
    let categories: Set<String>
    let entities: [(Entity.Kind, FieldPath)]

    init(_ rule: AnomalyRule) {
        self.rule = rule
        operations = NamePatterns(rule.operations)
        categories = Set(rule.categories)
        entities = rule.entities.map { ($0.kind, FieldPath($0.path)) }
    }

    func matches(_ event: Event, category: String?) -> Bool {
        guard rule.eventKinds.contains(event.kind) else { return false }
        if !operations.isEmpty {
            guard let op = event.operation, operations.matches(op) else { return false }
        }
        if !categories.isEmpty {
            guard let category, categories.contains(category) else { return false }
        }
        return true
    }
}

/// Rules that share a subject, a scope and IP prefixes share one baseline per identity×scope.
/// (Classes: the hot loop walks them per event, and a class costs one retain to hold.)
final class Space {
    let index: Int
    let name: String
    let subjectPath: FieldPath
    let scope: AnomalyRule.Scope
    let scopePath: FieldPath?
    let ipv4Prefix: Int
    let ipv6Prefix: Int
    var kinds: Set<EventKind> = []
    var rules: [CompiledAnomalyRule] = []
    var watchedOperations = NamePatterns([])

    init(index: Int, name: String, subjectPath: FieldPath, scope: AnomalyRule.Scope, scopePath: FieldPath?,
         ipv4Prefix: Int, ipv6Prefix: Int) {
        self.index = index
        self.name = name
        self.subjectPath = subjectPath
        self.scope = scope
        self.scopePath = scopePath
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
    }

    static func group(_ rules: [AnomalyRule]) -> [Space] {
        var spaces: [Space] = []
        for rule in rules {
            let v4 = rule.kind == .newIPRange ? rule.thresholds.ipv4Prefix : 24
            let v6 = rule.kind == .newIPRange ? rule.thresholds.ipv6Prefix : 48
            var name = rule.scope.description.lowercased()
            if rule.subject.lowercased() != "vigil.caller" { name = rule.subject.lowercased() + "@" + name }
            if v4 != 24 || v6 != 48 { name += "/\(v4)/\(v6)" }
            let i: Int
            if let found = spaces.firstIndex(where: { $0.name == name }) { i = found } else {
                let scopePath: FieldPath?
                if case .path(let p) = rule.scope { scopePath = FieldPath(p) } else { scopePath = nil }
                spaces.append(Space(index: spaces.count, name: name, subjectPath: FieldPath(rule.subject), scope: rule.scope, scopePath: scopePath,
                                    ipv4Prefix: v4, ipv6Prefix: v6))
                i = spaces.count - 1
            }
            spaces[i].kinds.formUnion(rule.eventKinds)
            spaces[i].rules.append(CompiledAnomalyRule(rule))
            if rule.kind == .firstSensitiveOperation {
                spaces[i].watchedOperations = NamePatterns(spaces[i].rules.filter { $0.rule.kind == .firstSensitiveOperation }.flatMap(\.rule.operations))
            }
        }
        return spaces
    }

    func subject(of event: Event) -> String? {
        if subjectPath.typedField == .caller { return event.caller.flatMap { $0.isEmpty ? nil : $0 } }
        return event.values(at: subjectPath).first?.text.flatMap { $0.isEmpty ? nil : $0 }
    }

    func scope(of event: Event) -> ScopeValue? {
        switch scope {
        case .global:
            return ScopeValue(key: "*", name: "anywhere")
        case .workspace:
            guard let raw = event.resource?.raw else { return nil }
            return Space.workspace(in: raw)
        case .path:
            guard let path = scopePath, let text = event.values(at: path).first?.text, !text.isEmpty else { return nil }
            return ScopeValue(key: text.lowercased(), name: text)
        }
    }

    /// `/subscriptions/…/providers/Microsoft.MachineLearningServices/workspaces/<name>` at the
    /// start of an ARM id (any casing), as key (lower-cased prefix) and name.
    static func workspace(in raw: String) -> ScopeValue? {
        let marker = Array("/providers/microsoft.machinelearningservices/workspaces/".utf8)
        var raw = raw
        return raw.withUTF8 { b -> ScopeValue? in
            guard b.count > marker.count else { return nil }
            var i = 0
            outer: while i + marker.count < b.count {
                for j in 0..<marker.count where JSONPathLookup.fold(b[i + j]) != marker[j] {
                    i += 1
                    continue outer
                }
                let start = i + marker.count
                var end = start
                while end < b.count, b[end] != UInt8(ascii: "/") { end += 1 }
                guard end > start else { return nil }
                let key = String(decoding: b[0..<end].lazy.map(JSONPathLookup.fold), as: UTF8.self)
                let name = String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
                return ScopeValue(key: key, name: name)
            }
            return nil
        }
    }
}
