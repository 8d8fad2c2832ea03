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
//   back and dropped (counted as evictions), never lost; those that raised an alert since the last
//   save wait for it (`unsavedAlerting`), so a baseline is never durable before its alert.
// - A stored baseline skips the events it has learned already (`LearnedMark`) when they are
//   read again.
// - `save()` writes changed baselines and markers in one transaction; call it in the transaction
//   that moves the source checkpoint. They count as saved only once the outermost transaction
//   commits (`BaselineStore.afterCommit`): a rollback leaves them to the next save. A start-over
//   or an eviction whose save fails drops nothing. `finish()` saves too.
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
        /// The allowed lateness (or the operation timeout when longer): how far back from its
        /// newest event a baseline lists the events it learned (`LearnedMark`), so a later run
        /// learns the ones it meets first.
        public var latenessSeconds: Int64
        /// Most sources of events named from events (`LearningSource`: stream and subscription, so
        /// a large tenant's exports reach thousands); past it an unknown one counts as `other`.
        public var maxSourceNames: Int

        public init(maxProfiles: Int = 100_000, maxScopes: Int = 20_000, maxEvidenceBytes: Int = 8_192, latenessSeconds: Int64 = 900,
                    maxSourceNames: Int = 65_536) {
            self.maxProfiles = maxProfiles
            self.maxScopes = maxScopes
            self.maxEvidenceBytes = maxEvidenceBytes
            self.latenessSeconds = latenessSeconds
            self.maxSourceNames = maxSourceNames
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
        /// Stored baselines and scope records that could not be read (`state.baseline-unreadable`).
        public var unreadable = 0
        /// Alerts raised on an event held without its record (none, as long as `interest(in:)` holds).
        public var alertsWithoutRecord = 0
        /// Event×baseline updates skipped because the stored baseline's mark covers the event
        /// (`LearnedMark`): input read again, or older than what the baseline learned.
        public var updatesAlreadyLearned = 0
    }

    public static let profileNamespace = "anomaly.profile"
    public static let scopeNamespace = "anomaly.scope"
    public static let markerNamespace = "anomaly.alerted"

    public let rules: [AnomalyRule]
    public let configuration: Configuration
    public let mode: Mode
    // The hot state is read and written on every event and never held across a call that could
    // reach it again, so its dynamic exclusivity checks (tens per event) are switched off.
    @exclusivity(unchecked) public private(set) var stats = Stats()
    public let store: BaselineStore
    private let spaces: [Space]
    /// `spaces`, those whose scope costs no lookup first (`interest(in:)` walks them on arrival).
    private let spacesByScopeCost: [Space]
    /// `EventKindMask` of the kinds some space reads.
    private let kinds: UInt16
    @exclusivity(unchecked) private var selector: AnomalyRuleSelector
    @exclusivity(unchecked) private var profiles: WriteBackCache<BaselineKey, LiveProfile>
    @exclusivity(unchecked) private var scopes: WriteBackCache<BaselineKey, ScopeRecord>
    /// Lower-cased subjects and scope keys as small integers, so baseline keys hash as integers.
    @exclusivity(unchecked) private var subjects = Interner()
    @exclusivity(unchecked) private var scopeKeys = Interner()
    @exclusivity(unchecked) private var globalScope: ScopeRef?
    /// Range texts and operations (as events spell them, lower-cased) as small integers: the
    /// keys of the profiles in memory (`LiveProfile`). Reset only with the profiles (`startOver`).
    @exclusivity(unchecked) private var rangeNames = Interner()
    @exclusivity(unchecked) private var operationNames = Interner()
    /// Range id per network met (a cache in front of `rangeNames`).
    @exclusivity(unchecked) private var rangeIds = HashedTable<IPNet, Int32>()
    private var pendingMarkers: Set<String> = []
    /// Baselines that raised an alert since the last save. Written back earlier (at the memory
    /// bound, or by a start-over), a baseline would be durable before its alert: after a crash
    /// before the alert's commit, the event read again finds nothing new, and the alert is lost.
    /// So they stay in memory until `save()`, and a start-over waits for it.
    private var unsavedAlerting: [CacheBox<LiveProfile>] = []
    private var startOverAfterSave = false

    /// Whether a save should come before the regular one: a start-over waits for it, or the
    /// baselines held in memory for their alerts (`unsavedAlerting`), or the scopes held for their
    /// unstored profiles (`unstoredProfiles`), pass a tenth of their bound.
    public var saveWanted: Bool {
        startOverAfterSave || unsavedAlerting.count > configuration.maxProfiles / 10
            || unstoredProfiles.count > configuration.maxScopes / 10
    }
    private var diagnostics: [Diagnostic] = []

    /// Raw texts (callers, resource ids, ranges) remembered per cache before it starts over.
    static let textCacheLimit = 65_536

    public init(rules: [AnomalyRule], store: BaselineStore, configuration: Configuration = Configuration(), mode: Mode = .detect) {
        self.rules = rules
        self.store = store
        self.configuration = configuration
        self.mode = mode
        let spaces = Space.group(rules)
        self.spaces = spaces
        spacesByScopeCost = spaces.filter(\.isGlobal) + spaces.filter { !$0.isGlobal }
        kinds = spaces.reduce(0) { $0 | $1.kindMask }
        selector = AnomalyRuleSelector(rules: spaces.flatMap(\.rules).sorted { $0.index < $1.index }, spaces: spaces)
        readsRecord = spaces.contains(where: \.readsRecord)
        profiles = WriteBackCache(namespace: Self.profileNamespace, capacity: configuration.maxProfiles)
        scopes = WriteBackCache(namespace: Self.scopeNamespace, capacity: configuration.maxScopes)
        do {
            let moved = try BaselineKeys.migrate(store)
            if moved > 0 {
                diagnostics.append(Diagnostic(.note, code: "state.baseline-keys-moved",
                                              "\(moved) anomaly baseline(s) moved to keys with their parts escaped (stored before they were)",
                                              at: SourceLocation(file: "state")))
            }
        } catch {
            stats.storeErrors += 1
            diagnostics.append(Diagnostic(.error, code: "state.baseline-keys", "could not move anomaly baselines to escaped keys: \(error)",
                                          at: SourceLocation(file: "state")))
        }
    }

    // MARK: Detector

    /// What the anomaly rules could do with an event, asked when it arrives (`interest(in:)`).
    public enum Interest: Comparable, Sendable {
        /// Nothing: no baseline space reads it. `process` leaves the detector unchanged.
        case none
        /// Learn it only: no alert is possible, whatever comes before it in event time.
        case learn
        /// Learn it, and it may raise an alert.
        case mayAlert
    }

    /// Whether some space reads an event's subject or scope from the record itself (a path that
    /// is no typed field): then every event keeps its record.
    public let readsRecord: Bool

    /// Whether any anomaly rule could learn from or check this event (`interest(in:)` is not `.none`).
    public func wants(_ event: Event) -> Bool { reads(event, as: event.kind) }

    /// Whether `process` may still raise an alert on `event` (`interest(in:)` is `.mayAlert`).
    public func mayAlert(on event: Event) -> Bool { interest(in: event) == .mayAlert }

    /// What the rules could do with `event`, asked on arrival, before the events ahead of it in
    /// event time are learned. One walk over the spaces answers both questions the stateful path
    /// asks of every record:
    /// - whether to hold it at all: some space reads its kind and finds its subject and scope.
    ///   Every such event is learned into its baselines (whether or not a rule's operation or
    ///   category filter selects it: baselines describe all of an identity's activity);
    /// - whether to keep its record: `.mayAlert` unless no rule can alert on it. No rule can when
    ///   none selects it (kind, operation, category) in a space that finds its subject and scope,
    ///   or the baseline in memory already rules each selected one out (`ruledOut`). Baselines
    ///   only grow (profiles, ranges, operations, hour counts; evicted ones are stored and read
    ///   back), so what is ruled out now stays ruled out when the event is processed. For a
    ///   `.learn` event, when the detector does not `readsRecord`, `process` reads only the
    ///   event's typed fields: the stateful path holds it without its record.
    public func interest(in event: Event) -> Interest {
        let kind = EventKindMask.bit(event.kind)
        guard let time = event.time, kinds & kind != 0 else { return .none }
        var interest = Interest.none
        var selection: RuleSelection?
        var resourceHash: UInt64?
        var address: IPAddress??
        // Spaces whose scope needs no lookup (global) first.
        for space in spacesByScopeCost where space.kindMask & kind != 0 {
            // Once the answer is `.learn`, a space none of whose rules selects the event cannot
            // change it: its scope is not looked up (most events, for a space of rules on a few
            // operations).
            if interest == .learn, let selected = selection, !space.facts.contains(where: { selected.selects(index: $0.index) }) {
                continue
            }
            guard let subjectText = space.subject(of: event),
                  let scope = scopeRef(space, event, resourceHash: &resourceHash) else { continue }
            interest = .learn
            guard mode == .detect else { return .learn }
            if selection == nil { selection = selector.select(event, operationIds: &operationNames) }
            let selected = selection!
            guard space.facts.contains(where: { selected.selects(index: $0.index) }) else { continue }
            let key = BaselineKey(space: Int32(space.index), scope: scope.id, subject: subjects.id(ofRaw: subjectText))
            guard let known = profiles.peek(key) else { return .mayAlert }
            if address == nil { address = .some(event.callerIP.flatMap(IPAddress.init)) }
            let range = address!.map { rangeId($0.network(ipv4Prefix: space.ipv4Prefix, ipv6Prefix: space.ipv6Prefix)) }
            for facts in space.facts where selected.selects(index: facts.index) {
                if !Self.ruledOut(facts, operation: selected.operationId, time: time, known: known.value, range: range) { return .mayAlert }
            }
        }
        return interest
    }

    /// Whether `interest(in:)` of `event` read as kind `kind` is other than `.none` (some space
    /// reading that kind finds its subject and scope), without the rest of the walk.
    public func reads(_ event: Event, as kind: EventKind) -> Bool {
        let bit = EventKindMask.bit(kind)
        guard event.time != nil, kinds & bit != 0 else { return false }
        var resourceHash: UInt64?
        for space in spacesByScopeCost where space.kindMask & bit != 0 {
            if space.subject(of: event) != nil, scopeRef(space, event, resourceHash: &resourceHash) != nil { return true }
        }
        return false
    }

    /// Whether the baseline `known` already rules out an anomaly of this rule, for good: it has
    /// the event's operation, or its range, or activity near its hour where the rule allows none.
    /// (No baseline at all rules out nothing; a volume spike is never ruled out.)
    private static func ruledOut(_ rule: RuleFacts, operation: Int32?, time: EventTime, known: LiveProfile, range: Int32?) -> Bool {
        switch rule.kind {
        case .firstAccess:
            return true
        case .firstSensitiveOperation:
            guard let operation else { return true }
            return known.operations.contains(operation)
        case .newIPRange:
            guard let range else { return true }
            return known.ranges.contains(range)
        case .unusualHour:
            // Other hours' counts grow too, so a share above zero can fall: only "none allowed" is final.
            let t = rule.thresholds
            return t.maxShare <= 0 && known.profile.eventsNear(hour: time.hourOfWeek, tolerance: t.toleranceHours) > 0
        case .volumeSpike:
            return false
        }
    }

    public func process(_ event: Event) -> [Alert] { process(event, learnedAs: event.id) }

    /// `process`, with the id the baselines' marks list the event by (`LearnedMark`): an Activity
    /// Log operation is learned once, from whichever of its records comes first, so it is listed by
    /// its `OperationOnce` key, the same for all of them (after a restart that re-reads only its
    /// later records, the first of those is not learned again).
    public func process(_ event: Event, learnedAs markId: UInt64) -> [Alert] {
        stats.events += 1
        let kind = EventKindMask.bit(event.kind)
        guard let time = event.time, kinds & kind != 0 else { return [] }
        let source = sourceId(of: event)
        let sourceSince = reading[Int(source)].met(time.nanoseconds)
        if interned > max(internLimit, nextStartOver) {
            if unsavedAlerting.isEmpty { startOver(event) } else { startOverAfterSave = true }
        }
        var alerts: [Alert] = []
        // Worked out once per event, not once per space: the rules it selects, its address, and
        // (while consecutive spaces agree) its subject id and range text.
        var selection: RuleSelection?
        var address: IPAddress??
        var subject: (text: String, id: Int32)?
        var range: (v4: Int, v6: Int, id: Int32?)?
        // The resource id's text is hashed once for every space whose scope comes from it.
        var resourceHash: UInt64?
        for space in spaces where space.kindMask & kind != 0 {
            guard let subjectText = space.subject(of: event),
                  let scope = scopeRef(space, event, resourceHash: &resourceHash) else { continue }
            if selection == nil { selection = selector.select(event, operationIds: &operationNames) }
            if address == nil { address = .some(event.callerIP.flatMap(IPAddress.init)) }
            if subject?.text != subjectText { subject = (subjectText, subjects.id(ofRaw: subjectText)) }
            if range?.v4 != space.ipv4Prefix || range?.v6 != space.ipv6Prefix {
                range = (space.ipv4Prefix, space.ipv6Prefix,
                         address!.map { rangeId($0.network(ipv4Prefix: space.ipv4Prefix, ipv6Prefix: space.ipv6Prefix)) })
            }
            do {
                try learnAndCheck(event, markId: markId, source: source, readingSince: sourceSince, time: time, space: space, subjectText: subjectText,
                                  subjectId: subject!.id, scope: scope,
                                  range: range!.id, selection: selection!, into: &alerts)
            } catch {
                storeFailed(error, event: event)
            }
        }
        do {
            try profiles.evictIfNeeded(store: store, encode: { encodeProfile($0.value) }, keep: { _, p in p.alertUnsaved },
                                       alongside: writeScopesOfNewProfiles)
            try scopes.evictIfNeeded(store: store, encode: encodeScope, keep: { key, _ in unstoredProfiles[key] != nil })
        } catch {
            storeFailed(error, event: event)
        }
        updateCacheStats()
        return alerts
    }

    /// End of input: saves the baselines in a transaction of their own. For `learnOnly` and tests:
    /// a detector that raised alerts saves inside the transaction that commits them (`save()`).
    public func finish() -> [Alert] {
        do { try save() } catch {
            stats.storeErrors += 1
            diagnostics.append(Diagnostic(.error, code: "state.baseline-save", "could not save anomaly baselines: \(error)",
                                          at: SourceLocation(file: "state")))
        }
        return []
    }

    /// Writes changed baselines and alert markers in one transaction (or in the caller's, which it
    /// then joins). They count as saved once that is committed (`BaselineStore.afterCommit`): if the
    /// caller's transaction rolls back after this returns, the next save writes them again.
    public func save() throws {
        try store.transaction {
            let profilesWritten = try profiles.save(store: store, encode: { encodeProfile($0.value) })
            let scopesWritten = try scopes.save(store: store, encode: encodeScope)
            let unstored = unstoredProfiles   // every profile is stored by this save
            let markers = pendingMarkers
            for id in markers.sorted() {
                try store.setBaselineValue(Array("1".utf8), namespace: Self.markerNamespace, key: id)
            }
            let alerting = unsavedAlerting
            store.afterCommit { [self] in
                markSaved(profilesWritten)
                markSaved(scopesWritten)
                for box in profilesWritten { box.value.neverStored = false }
                nowStored(unstored)
                pendingMarkers.subtract(markers)
                for box in alerting { box.value.alertUnsaved = false }
                unsavedAlerting.removeFirst(min(alerting.count, unsavedAlerting.count))
                if startOverAfterSave {
                    startOverAfterSave = false
                    forgetAll()
                }
            }
        }
    }

    /// Problems met since the last call (state-store failures), located at the event concerned.
    public func drainDiagnostics() -> [Diagnostic] {
        defer { diagnostics.removeAll() }
        return diagnostics
    }

    /// A stored baseline whose bytes do not decode (damaged, or written by a newer format) is
    /// learned afresh over it: said once per key, never silently.
    private func unreadable(_ key: String, what: String) {
        stats.unreadable += 1
        diagnostics.append(Diagnostic(.warning, code: "state.baseline-unreadable",
                                      "stored anomaly \(what) '\(key)' cannot be read; it is learned afresh from the events that follow",
                                      at: SourceLocation(file: "state")))
    }

    private func storeFailed(_ error: Error, event: Event) {
        stats.storeErrors += 1
        diagnostics.append(Diagnostic(.error, code: "state.baseline-error", "anomaly baselines unavailable: \(error)",
                                      at: SourceLocation(file: event.position.source, line: event.position.line, offset: event.position.offset)))
    }

    private func updateCacheStats() {
        stats.profilesInMemory = profiles.count
        stats.profileLoads = profiles.loads
        stats.profileEvictions = profiles.evictions
        stats.scopeEvictions = scopes.evictions
    }

    // MARK: keys

    /// Distinct subjects and scopes held as integers before everything is written back and
    /// dropped (memory stays bounded however many identities a stream names).
    private var internLimit: Int { 2 * (configuration.maxProfiles + configuration.maxScopes) }

    /// Most texts interned in one table: past `internLimit`, the baselines start over.
    private var interned: Int { max(subjects.count + scopeKeys.count, rangeNames.count, operationNames.count) }

    /// When a start-over could not save, it is tried again once this many texts are interned.
    private var nextStartOver = 0

    /// Writes every baseline back, drops them all and empties the interners. If the save fails,
    /// nothing is dropped or emptied (the baselines in memory are keyed by the interners' ids, and
    /// their changes are not stored yet): memory runs over its bound until a later try, once a tenth
    /// more texts are interned, succeeds.
    private func startOver(_ event: Event) {
        do {
            try store.transaction {
                _ = try profiles.save(store: store, encode: { encodeProfile($0.value) })
                _ = try scopes.save(store: store, encode: encodeScope)
            }
        } catch {
            storeFailed(error, event: event)
            nextStartOver = interned + max(1, internLimit / 10)
            return
        }
        forgetAll()
    }

    /// Drops every baseline (all saved) and empties the interners.
    private func forgetAll() {
        nextStartOver = 0
        unstoredProfiles.removeAll()   // a committed save stored every profile first
        unreadableProfiles.removeAll()   // (keyed by the interners' ids)
        profiles.dropAll()
        scopes.dropAll()
        subjects = Interner()
        scopeKeys = Interner()
        globalScope = nil
        rangeNames = Interner()
        operationNames = Interner()
        rangeIds.removeAll()
        selector.forgetOperationIds()
        for space in spaces { space.forgetScopes() }
    }

    // MARK: stored forms

    private func encodeScope(_ box: CacheBox<ScopeRecord>) -> [UInt8] { box.value.encoded() }

    /// Scope key → profiles made in it and not stored yet. A stored scope counts (`subjects`) the
    /// profiles stored in it, no more and no fewer, so that after a kill the count agrees with the
    /// profiles a rerun finds: a scope with unstored profiles stays in memory (its count includes
    /// them, it is written only by a save, which stores them in the same transaction), and when
    /// such profiles are written back at the memory bound, their scope is written with them.
    private var unstoredProfiles: [BaselineKey: Int] = [:]
    /// Stored profiles found unreadable and not learned afresh yet (a store error came between):
    /// the profile made over one is not counted by its scope again.
    private var unreadableProfiles: Set<BaselineKey> = []

    /// In the eviction's transaction: each scope of new profiles being written back, counting them.
    private func writeScopesOfNewProfiles(_ victims: [(key: BaselineKey, box: CacheBox<LiveProfile>)]) throws {
        var written: [BaselineKey: Int] = [:]
        for v in victims where v.box.value.neverStored {
            written[BaselineKey(space: v.key.space, scope: v.key.scope, subject: -1), default: 0] += 1
        }
        for (scopeKey, k) in written {
            // Kept in memory while it has unstored profiles (`scopes.evictIfNeeded`'s `keep`).
            guard let box = scopes.peek(scopeKey) else { continue }
            var stored = box.value
            stored.subjects -= (unstoredProfiles[scopeKey] ?? k) - k
            try store.setBaselineValue(stored.encoded(), namespace: Self.scopeNamespace, key: box.storageKey)
        }
        store.afterCommit { [self] in nowStored(written) }
    }

    /// Once committed: `counts` more profiles per scope are stored.
    private func nowStored(_ counts: [BaselineKey: Int]) {
        for (scopeKey, k) in counts {
            let left = (unstoredProfiles[scopeKey] ?? k) - k
            unstoredProfiles[scopeKey] = left > 0 ? left : nil
        }
    }

    private func encodeProfile(_ live: LiveProfile) -> [UInt8] {
        live.encoded(rangeText: rangeNames.key, operationText: operationNames.key, sourceName: sourceNames.key,
                     readTo: { reading[Int($0)].to })
    }

    /// `Configuration.latenessSeconds` in nanoseconds (`RecentLearning.window`).
    private var window: Int64 { configuration.latenessSeconds * 1_000_000_000 }
    /// What this detector read of each source of events (by source id, `sourceNames`): from its
    /// first event time (nanoseconds; set by the first `process` of the source) on, every event of
    /// it, in time order, up to the newest. A
    /// stored mark of the source ending a window or more before `since` may not have been read up
    /// to here (`RecentLearning`).
    private var reading = [SourceReading()]
    /// Sources of events (`LearningSource`) as small integers, kept for the detector's life (they
    /// are few; events add at most `Configuration.maxSourceNames`); `other` is 0.
    private var sourceNames: Interner = {
        var names = Interner()
        _ = names.id(of: LearningSource.overflow)
        return names
    }()
    /// Sources looked up lately, by their raw spellings: logs interleave a few subscriptions, each
    /// spelled in upper and lower case, so a handful of entries answers almost every event without
    /// building and hashing its name. Replaced round-robin.
    private var recentSources: [(kind: EventKind, category: String?, subscription: String?, id: Int32)] = []
    private var nextRecentSource = 0
    private static let recentSourcesKept = 8
    /// The sources named from events (at most `Configuration.maxSourceNames`). A name a stored mark
    /// alone brought into `sourceNames` is not one: past the bound it is taken up only by the
    /// baselines that stored it (`learnAndCheck`).
    private var namedFromEvents: Set<Int32> = []

    /// The id of the source `event` comes from (`LearningSource`).
    private func sourceId(of event: Event) -> Int32 {
        let (kind, category) = LearningSource.stream(of: event)
        let subscription = event.resourceText(.subscription)
        for r in recentSources where r.kind == kind && r.subscription == subscription && r.category == category { return r.id }
        let name = LearningSource.name(kind: kind, category: category, subscription: subscription)
        let known = sourceNames.id(ifKnown: name).map(namedFromEvents.contains) == true || namedFromEvents.count < configuration.maxSourceNames
        let id = sourceId(named: known ? name : LearningSource.overflow)
        guard known else { return id }   // (an unknown name may be a stored mark's, read later: not remembered)
        namedFromEvents.insert(id)
        let entry = (kind, category, subscription, id)
        if recentSources.count < Self.recentSourcesKept { recentSources.append(entry) } else { recentSources[nextRecentSource] = entry }
        nextRecentSource = (nextRecentSource + 1) % Self.recentSourcesKept
        return id
    }

    /// The id of `event`'s own source when it counted as `other` (past `maxSourceNames`) and a stored mark
    /// read since has named it.
    private func namedSourceId(of event: Event) -> Int32? {
        let (kind, category) = LearningSource.stream(of: event)
        return sourceNames.id(ifKnown: LearningSource.name(kind: kind, category: category, subscription: event.resourceText(.subscription)))
    }

    /// The id of a source's name (a stored mark's keeps its name, whatever the count).
    private func sourceId(named name: String) -> Int32 {
        let id = sourceNames.id(of: name)
        while reading.count <= Int(id) { reading.append(SourceReading()) }
        return id
    }

    private func decodeProfile(_ bytes: [UInt8]) -> LiveProfile? {
        AccessProfile.decode(bytes).map {
            LiveProfile($0, window: window, sourceId: sourceId(named:), rangeId: { rangeNames.id(of: $0) },
                        operationId: { operationNames.id(of: $0) })
        }
    }

    /// The stored form of a profile in memory (to word an alert).
    private func storedProfile(_ live: LiveProfile) -> AccessProfile {
        live.stored(rangeText: rangeNames.key, operationText: operationNames.key, sourceName: sourceNames.key)
    }

    /// The event's scope in `space`, from the space's cache of raw values; `resourceHash` is the
    /// hash of the event's resource id text, worked out by the first space that needs it.
    private func scopeRef(_ space: Space, _ event: Event, resourceHash: inout UInt64?) -> ScopeRef? {
        let raw: String
        /// `raw` is the resource id's text, whose hash every space scoped by it shares.
        let isResourceId: Bool
        switch space.scope {
        case .global:
            if globalScope == nil { globalScope = ScopeRef(id: scopeKeys.id(of: "*"), name: -1) }
            return globalScope
        case .workspace:
            guard let r = event.resourceText(.resourceId) else { return nil }
            raw = r
            isResourceId = true
        case .path:
            let found = space.resourceField.map { event.resourceText($0) } ?? space.scopePath.flatMap { firstText(event, $0) }
            guard let text = found, !text.isEmpty else { return nil }
            raw = text
            isResourceId = space.resourceField == .resourceId
        }
        let rawHash: UInt64
        if isResourceId {
            if resourceHash == nil { resourceHash = textHash(raw) }
            rawHash = resourceHash!
        } else {
            rawHash = textHash(raw)
        }
        if let found = space.scopeByRaw[raw, hash: rawHash] { return found }
        let value: ScopeValue?
        if case .workspace = space.scope { value = Space.workspace(in: raw) } else { value = ScopeValue(key: raw.lowercased(), name: raw) }
        if space.scopeByRaw.count >= Self.textCacheLimit { space.forgetScopes() }
        let ref = value.map { ScopeRef(id: scopeKeys.id(of: $0.key), name: space.addScopeName($0.name)) }
        space.scopeByRaw.set(raw, hash: rawHash, ref)
        return ref
    }

    private func rangeId(_ net: IPNet) -> Int32 {
        let hash = net.hash64
        if let id = rangeIds[net, hash: hash] { return id }
        let id = rangeNames.id(of: net.text)
        rangeIds.set(net, hash: hash, id, startingOverAt: Self.textCacheLimit)
        return id
    }

    // MARK: the hot path

    /// `readingSince`: where this run started reading the event's source.
    private func learnAndCheck(_ event: Event, markId: UInt64, source eventSource: Int32, readingSince eventReadingSince: Int64, time: EventTime,
                               space: Space, subjectText: String, subjectId: Int32,
                               scope: ScopeRef, range: Int32?, selection: RuleSelection, into alerts: inout [Alert]) throws {
        let seconds = time.seconds
        let profileKey = BaselineKey(space: Int32(space.index), scope: scope.id, subject: subjectId)
        let scopeKey = BaselineKey(space: Int32(space.index), scope: scope.id, subject: -1)
        // The scope's key text is needed only to load, make or word a baseline.
        var scopeText: String { scopeKeys.key(scope.id) }
        // Storage keys are built on a cache miss only, once.
        var profileStorageKey: String?
        func storageKey() -> String {
            if profileStorageKey == nil { profileStorageKey = BaselineKeys.profile(space: space.name, scope: scopeText, subject: subjects.key(subjectId)) }
            return profileStorageKey!
        }
        let known: CacheBox<LiveProfile>?
        if let hit = profiles.cached(profileKey) { known = hit } else {
            known = try profiles.load(profileKey, storageKey: storageKey, store: store) { bytes in
                let live = decodeProfile(bytes)
                if live == nil {
                    unreadable(storageKey(), what: "baseline")
                    unreadableProfiles.insert(profileKey)
                }
                return live
            }
        }
        // A stored profile that cannot be read is learned afresh over it; its scope counted it already.
        let overUnreadable = known == nil && unreadableProfiles.contains(profileKey)
        // Past `Configuration.maxSourceNames` the event counted as `other`; this baseline's stored marks,
        // read just now, may name its source: a stored mark keeps its name (in this baseline only).
        var source = eventSource, readingSince = eventReadingSince
        if source == LearningSource.overflowId, let named = namedSourceId(of: event), known?.value.marks.hasStored(named) == true {
            source = named
            readingSince = reading[Int(named)].met(time.nanoseconds)
        }
        let scopeBox: CacheBox<ScopeRecord>
        if let hit = scopes.cached(scopeKey), let box = hit { scopeBox = box } else {
            let scopeStorageKey = BaselineKeys.scope(space: space.name, scope: scopeText)
            scopeBox = try scopes.get(scopeKey, storageKey: { scopeStorageKey }, store: store) { [self] bytes in
                let record = ScopeRecord.decode(bytes)
                if record == nil { unreadable(scopeStorageKey, what: "scope record") }
                return record
            }
                ?? scopes.insert(scopeKey, ScopeRecord(space: space.name, scope: scopeText, scopeName: space.scopeName(scope),
                                                       firstSeen: seconds, lastSeen: seconds, subjects: 0),
                                 storageKey: scopeStorageKey)
        }
        // Read again: this baseline learned the event already (and raised then what it raises).
        // The scope's first and last seen are kept as learning keeps them: a scope written back
        // apart from its profiles may lack them.
        if let known, known.value.marks.covers(time.nanoseconds, id: markId, source: source, readingSince: readingSince) {
            stats.updatesAlreadyLearned += 1
            if scopeBox.value.saw(seconds) { scopeBox.dirty = true }
            return
        }
        // The learning periods are judged on the baselines as they were before this event.
        let subjectFirstSeen = known?.value.profile.firstSeen
        let scopeFirstSeen = scopeBox.value.firstSeen
        let operation = selection.operationId

        // Check against the baseline as it was before this event (volume rules count first, below).
        // The common case finds nothing and touches only the rules' plain facts; the rules that
        // do find an anomaly past learning are worded after the loop.
        var found: [Int] = []
        var volume = false
        for (k, facts) in space.facts.enumerated() where selection.selects(index: facts.index) {
            if facts.kind == .volumeSpike { volume = true; continue }
            guard Check.isAnomaly(facts, operation: operation, time: time, before: known, range: range) else { continue }
            guard facts.learned(time: time, subjectFirstSeen: subjectFirstSeen, scopeFirstSeen: scopeFirstSeen) else {
                stats.suppressedLearning += 1
                continue
            }
            found.append(k)
        }
        var findings: [(CompiledAnomalyRule, String)] = []
        if !found.isEmpty {
            let check = Check(event: event, time: time, subject: subjectText, scope: ScopeValue(key: scopeText, name: space.scopeName(scope)),
                              space: space, before: known.map { storedProfile($0.value) }, scopeRecord: scopeBox.value,
                              range: range.map(rangeNames.key))
            for k in found {
                let rule = space.rules[k]
                if let finding = check.finding(rule.rule) { findings.append((rule, finding)) }
            }
        }

        // Learn in place.
        let box = known ?? profiles.insert(profileKey, LiveProfile(fresh: AccessProfile(space: space.name, subject: subjectText, scope: scopeText,
                                                                                  scopeName: space.scopeName(scope), time: seconds),
                                                                   window: window, stored: overUnreadable),
                                           storageKey: storageKey())
        box.value.learn(time: time, range: range, operation: operation, keepOperation: selection.keepsOperation(space))
        box.value.marks.learned(time: time.nanoseconds, id: markId, source: source, readingSince: readingSince)
        if overUnreadable { unreadableProfiles.remove(profileKey) }
        box.dirty = true
        stats.eventsLearned += 1
        if known == nil, !overUnreadable {
            scopeBox.value.subjects += 1
            unstoredProfiles[scopeKey, default: 0] += 1
        }
        scopeBox.value.saw(seconds)
        scopeBox.dirty = true

        if volume {
            for (k, facts) in space.facts.enumerated() where facts.kind == .volumeSpike && selection.selects(index: facts.index) {
                let rule = space.rules[k]
                let t = rule.rule.thresholds
                let count = box.value.profile.count(rule: rule.rule.id, day: AccessProfile.day(seconds), historyDays: t.historyDays)
                let threshold = max(t.minimum, Int((t.factor * Double(count.busiest)).rounded(.up)))
                guard count.today == threshold + 1 else { continue }
                guard facts.learned(time: time, subjectFirstSeen: subjectFirstSeen, scopeFirstSeen: scopeFirstSeen) else {
                    stats.suppressedLearning += 1
                    continue
                }
                let check = Check(event: event, time: time, subject: subjectText, scope: ScopeValue(key: scopeText, name: space.scopeName(scope)),
                                  space: space, before: nil, scopeRecord: scopeBox.value, range: range.map(rangeNames.key))
                findings.append((rule, check.volumeSpike(rule.rule, today: count.today, busiest: count.busiest, mean: count.mean,
                                                         threshold: threshold)))
            }
        }

        guard mode == .detect else { return }
        for (rule, finding) in findings {
            guard let alert = try raise(rule, event: event, time: time, description: finding) else { continue }
            alerts.append(alert)
            if !box.value.alertUnsaved {
                box.value.alertUnsaved = true
                unsavedAlerting.append(box)
            }
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
        // A held event without its record never gets here (`interest(in:)` said `.learn`); should one, it alerts all
        // the same (entities come from typed fields), without evidence, and is counted.
        var evidence: [String] = []
        if event.hasRecord {
            let text = event.record.root.jsonText
            if text.utf8.count <= configuration.maxEvidenceBytes { evidence = [text] }
        } else {
            stats.alertsWithoutRecord += 1
        }
        var controls = rule.rule.baselineControls
        if let area = rule.rule.baselineArea, !controls.contains(area) { controls.insert(area, at: 0) }
        return Alert(id: id, ruleId: rule.rule.id, ruleTitle: rule.rule.title, severity: rule.rule.level,
                     tactics: rule.rule.tactics, techniques: rule.rule.techniques, entities: entities, time: time,
                     position: event.position, description: description, eventIds: [eventId], evidence: evidence,
                     baselineControls: controls)
    }
}

// MARK: - rules grouped by baseline space

/// Which baseline: space (index), scope and subject (ids from the detector's interners; subject
/// -1 for the scope itself).
struct BaselineKey: Hashable {
    var space: Int32
    var scope: Int32
    var subject: Int32

    /// One 64-bit word into the hasher instead of three.
    func hash(into hasher: inout Hasher) { hasher.combine(hash64) }
}

extension BaselineKey: FastHashable {
    var hash64: UInt64 {
        mixHash(UInt64(UInt32(bitPattern: scope)) << 32 | UInt64(UInt32(bitPattern: subject)) ^ UInt64(UInt32(bitPattern: space)) << 56)
    }
}

/// Event kinds as bits of a `UInt16` (a set test is an AND, not a hash of the kind's name).
enum EventKindMask {
    @inline(__always)
    static func bit(_ kind: EventKind) -> UInt16 {
        switch kind {
        case .activity: return 1
        case .resourceLog: return 2
        case .defenderAlert: return 4
        case .signIn: return 8
        case .audit: return 16
        case .operation: return 32
        case .unknown: return 64
        }
    }

    static func of(_ kinds: Set<EventKind>) -> UInt16 { kinds.reduce(0) { $0 | bit($1) } }
}

/// The first value at `path` as text (`Event.values(at:)`, without its array for a typed field).
func firstText(_ event: Event, _ path: FieldPath) -> String? {
    if isTypedField(path), let typed = path.typedField { return event.typedValue(typed)?.text }
    return event.values(at: path).first?.text
}

/// A path that is one typed field (`vigil.caller`), read without the record.
func isTypedField(_ path: FieldPath) -> Bool {
    path.alternatives.isEmpty && path.keyed == nil && path.typedField != nil
}

/// An event's scope: its interned key, and its name as this event spells it (an index into
/// its space's `scopeNames`, -1 for the global scope): plain integers, copied for nothing.
struct ScopeRef {
    var id: Int32
    var name: Int32
}

/// Lower-cased texts as small integers. Raw spellings are remembered too (bounded), so a
/// caller seen before costs one hash and no lower-casing.
struct Interner {
    private var ids: [String: Int32] = [:]
    private var keys: [String] = []
    private var byRaw = HashedTable<String, Int32>()

    var count: Int { keys.count }

    func key(_ id: Int32) -> String { keys[Int(id)] }

    func contains(_ key: String) -> Bool { ids[key] != nil }

    /// The id of an already lower-cased key, when it has one.
    func id(ifKnown key: String) -> Int32? { ids[key] }

    /// The id of an already lower-cased key.
    mutating func id(of key: String) -> Int32 {
        if let id = ids[key] { return id }
        let id = Int32(keys.count)
        keys.append(key)
        ids[key] = id
        return id
    }

    /// The id of `raw` lower-cased.
    mutating func id(ofRaw raw: String) -> Int32 {
        let hash = textHash(raw)
        if let id = byRaw[raw, hash: hash] { return id }
        let id = id(of: raw.lowercased())
        byRaw.set(raw, hash: hash, id, startingOverAt: AnomalyDetector.textCacheLimit)
        return id
    }
}

/// The span of event time a detector read of one source of events (nanoseconds).
struct SourceReading {
    var since = Int64.max
    var to = Int64.min

    /// Returns `since`.
    mutating func met(_ t: Int64) -> Int64 {
        if since == .max { since = t }
        to = max(to, t)
        return since
    }
}

/// A scope value: the key baselines are stored under and the name people read.
struct ScopeValue {
    var key: String
    var name: String
}

/// A rule's kind, position and numbers, copied out of it so the per-event loop holds no references.
struct RuleFacts {
    let index: Int
    let kind: AnomalyRule.Kind
    let learningSeconds: Int64
    let thresholds: AnomalyRule.Thresholds

    init(_ rule: CompiledAnomalyRule) {
        index = rule.index
        kind = rule.rule.kind
        learningSeconds = Int64(rule.rule.learningDays) * 86_400
        thresholds = rule.rule.thresholds
    }

    /// `Check.learned` for this rule.
    @inline(__always)
    func learned(time: EventTime, subjectFirstSeen: Int64?, scopeFirstSeen: Int64) -> Bool {
        switch kind {
        case .firstAccess, .firstSensitiveOperation:
            return scopeFirstSeen + learningSeconds <= time.seconds
        case .newIPRange, .unusualHour, .volumeSpike:
            guard let subjectFirstSeen else { return false }
            return subjectFirstSeen + learningSeconds <= time.seconds && scopeFirstSeen + learningSeconds <= time.seconds
        }
    }
}

final class CompiledAnomalyRule {
    /// Position among all the detector's rules (bit in `RuleBits`).
    let index: Int
    let rule: AnomalyRule
    let operations: NamePatterns
    let categories: Set<String>
    let entities: [(Entity.Kind, FieldPath)]

    init(_ rule: AnomalyRule, index: Int) {
        self.index = index
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
    var kinds: Set<EventKind> = [] { didSet { kindMask = EventKindMask.of(kinds) } }
    private(set) var kindMask: UInt16 = 0
    var rules: [CompiledAnomalyRule] = [] { didSet { facts = rules.map { RuleFacts($0) } } }
    /// What the hot loop reads of each rule, in `rules` order: plain values, no references.
    private(set) var facts: [RuleFacts] = []
    var watchedOperations = NamePatterns([])
    /// The part of the resource id the scope is (`resourceId` for the workspace, whose scope is
    /// found in it; a plain `vigil.resource.*` scope path), read in place (`Event.resourceText`);
    /// nil: anything else.
    let resourceField: TypedField?
    /// Raw scope text (resource id, path value) → scope; nil: the text names no scope.
    @exclusivity(unchecked) var scopeByRaw = HashedTable<String, ScopeRef?>()
    /// The scope names `scopeByRaw` refers to.
    @exclusivity(unchecked) private var scopeNames: [String] = []

    /// The subject or the scope is read from the record itself (a path that is no typed field).
    var readsRecord: Bool {
        if !isTypedField(subjectPath) { return true }
        if case .path = scope, resourceField == nil { return !(scopePath.map(isTypedField) ?? false) }
        return false
    }

    var isGlobal: Bool {
        if case .global = scope { return true }
        return false
    }

    func scopeName(_ ref: ScopeRef) -> String { ref.name < 0 ? "anywhere" : scopeNames[Int(ref.name)] }

    func addScopeName(_ name: String) -> Int32 {
        scopeNames.append(name)
        return Int32(scopeNames.count - 1)
    }

    /// Empties the raw-text cache (and the names it refers to).
    func forgetScopes() {
        scopeByRaw.removeAll()
        scopeNames.removeAll()
    }

    init(index: Int, name: String, subjectPath: FieldPath, scope: AnomalyRule.Scope, scopePath: FieldPath?,
         ipv4Prefix: Int, ipv6Prefix: Int) {
        self.index = index
        self.name = name
        self.subjectPath = subjectPath
        self.scope = scope
        self.scopePath = scopePath
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
        switch scope {
        case .workspace:
            resourceField = .resourceId
        case .path:
            if let p = scopePath, p.alternatives.isEmpty, p.keyed == nil, let f = p.typedField, Space.resourceFields.contains(f) {
                resourceField = f
            } else {
                resourceField = nil
            }
        case .global:
            resourceField = nil
        }
    }

    /// The typed fields that are parts of the resource id.
    static let resourceFields: Set<TypedField> = [.resourceId, .subscription, .resourceGroup, .provider, .resourceType, .resourceName]

    static func group(_ rules: [AnomalyRule]) -> [Space] {
        var spaces: [Space] = []
        for (index, rule) in rules.enumerated() {
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
            spaces[i].rules.append(CompiledAnomalyRule(rule, index: index))
            if rule.kind == .firstSensitiveOperation {
                spaces[i].watchedOperations = NamePatterns(spaces[i].rules.filter { $0.rule.kind == .firstSensitiveOperation }.flatMap(\.rule.operations))
            }
        }
        return spaces
    }

    func subject(of event: Event) -> String? {
        if subjectPath.typedField == .caller { return event.caller.flatMap { $0.isEmpty ? nil : $0 } }
        return firstText(event, subjectPath).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `/subscriptions/…/providers/Microsoft.MachineLearningServices/workspaces/<name>` at the
    /// start of an ARM id (any casing), as key (lower-cased prefix) and name.
    private static let workspaceMarker = Array("/providers/microsoft.machinelearningservices/workspaces/".utf8)

    static func workspace(in raw: String) -> ScopeValue? {
        let marker = workspaceMarker
        var raw = raw
        return raw.withUTF8 { b -> ScopeValue? in
            guard b.count > marker.count else { return nil }
            var i = 0
            outer: while i + marker.count < b.count {
                // The marker starts with a slash: other positions need no comparison.
                guard b[i] == UInt8(ascii: "/") else { i += 1; continue }
                for j in 1..<marker.count where JSONPathLookup.fold(b[i + j]) != marker[j] {
                    i += 1
                    continue outer
                }
                let start = i + marker.count
                var end = start
                while end < b.count, b[end] != UInt8(ascii: "/") { end += 1 }
                guard end > start else { return nil }
                let key = String(unsafeUninitializedCapacity: end) { out in
                    for k in 0..<end { out[k] = JSONPathLookup.fold(b[k]) }
                    return end
                }
                let name = String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
                return ScopeValue(key: key, name: name)
            }
            return nil
        }
    }
}
