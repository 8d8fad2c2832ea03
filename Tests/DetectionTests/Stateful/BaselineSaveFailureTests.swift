@testable import Detection
import EventModel
import Testing

/// A state store that fails: the anomaly baselines lose nothing, and never mix one identity's
/// baseline with another's, while it is down and once it is back.
@Suite struct BaselineSaveFailureTests {
    /// `InMemoryBaselineStore` (all-or-nothing transactions) whose writes fail while `down`, or
    /// from the `failAt`-th write on, and whose reads of scope records fail while `failScopeReads`.
    final class FlakyStore: BaselineStore {
        let inner = InMemoryBaselineStore()
        var down = false
        var failAt: Int?
        var failScopeReads = false
        private var writes = 0

        struct Down: Error {}

        func baselineValue(namespace: String, key: String) throws -> [UInt8]? {
            if failScopeReads, namespace == AnomalyDetector.scopeNamespace { throw Down() }
            return try inner.baselineValue(namespace: namespace, key: key)
        }
        func baselineKeys(namespace: String) throws -> [String] { try inner.baselineKeys(namespace: namespace) }
        func transaction<T>(_ body: () throws -> T) throws -> T { try inner.transaction(body) }
        func afterCommit(_ action: @escaping () -> Void) { inner.afterCommit(action) }
        func setBaselineValue(_ value: [UInt8], namespace: String, key: String) throws {
            writes += 1
            if down || failAt.map({ writes >= $0 }) == true { throw Down() }
            try inner.setBaselineValue(value, namespace: namespace, key: key)
        }
        func removeBaselineValue(namespace: String, key: String) throws -> Bool {
            writes += 1
            if down || failAt.map({ writes >= $0 }) == true { throw Down() }
            return try inner.removeBaselineValue(namespace: namespace, key: key)
        }

        /// The stored profiles, decoded: subject → events learned.
        func profiles() -> [String: Int] {
            var out: [String: Int] = [:]
            for (_, bytes) in inner.values[AnomalyDetector.profileNamespace] ?? [:] {
                guard let p = AccessProfile.decode(bytes) else { continue }
                out[p.subject, default: 0] += p.events
            }
            return out
        }
    }

    static func access(_ caller: String, minute: Int) -> Event {
        Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: minute), caller: caller, serial: minute)
    }

    /// A save whose transaction rolls back leaves every baseline it had written changed: the next
    /// save writes them all.
    @Test func aSaveThatRollsBackLeavesItsBaselinesToTheNext() throws {
        let store = FlakyStore()
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: store)
        _ = detector.process(Self.access("alice@contoso.example", minute: 1))
        _ = detector.process(Self.access("bob@contoso.example", minute: 2))
        store.failAt = 2   // the first write lands, the second fails: the transaction rolls back
        #expect(throws: FlakyStore.Down.self) { try detector.save() }
        #expect(store.profiles().isEmpty)
        store.failAt = nil
        try detector.save()
        #expect(store.profiles() == ["alice@contoso.example": 1, "bob@contoso.example": 1])
    }

    /// Past the interners' bound the baselines start over (saved, dropped, ids reused). A start-over
    /// that cannot save drops nothing and keeps the ids: the profiles in memory are keyed by them,
    /// and a new identity given a reused id would be learned into someone else's baseline.
    @Test func aStartOverThatCannotSaveKeepsEveryBaselineItsOwn() throws {
        let store = FlakyStore()
        // 2 × (1 profile + 1 scope): past four interned texts, start over.
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: store,
                                       configuration: .init(maxProfiles: 1, maxScopes: 1))
        store.down = true   // evictions fail too: every baseline stays in memory
        let callers = ["alice", "bob", "carol", "dave", "erin", "frank"].map { $0 + "@contoso.example" }
        for (i, caller) in callers.enumerated() { _ = detector.process(Self.access(caller, minute: i + 1)) }
        #expect(detector.stats.storeErrors > 0)
        store.down = false
        _ = detector.finish()
        #expect(store.profiles() == Dictionary(uniqueKeysWithValues: callers.map { ($0, 1) }))
        // Back up, the next start-over goes through and the baselines carry on from the store.
        _ = detector.process(Self.access("alice@contoso.example", minute: 30))
        _ = detector.finish()
        #expect(store.profiles()["alice@contoso.example"] == 2)
    }

    /// `save()` inside the caller's transaction (replay and run save the baselines in the one that
    /// moves the checkpoints): if that transaction rolls back after `save()` returned, the
    /// baselines are not counted as saved, and the next save writes them.
    @Test func aSaveInsideATransactionThatRollsBackLeavesItsBaselinesToTheNext() throws {
        let store = FlakyStore()
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: store)
        _ = detector.process(Self.access("alice@contoso.example", minute: 1))
        struct Abort: Error {}
        #expect(throws: Abort.self) { try store.transaction { try detector.save(); throw Abort() } }
        #expect(store.profiles().isEmpty)
        try store.transaction { try detector.save() }
        #expect(store.profiles() == ["alice@contoso.example": 1])
    }

    /// Once a start-over goes through again, the interners' bound is back where it was, whatever
    /// the outage let them grow to. (One workspace: `scopeEvictions` counts the start-overs.)
    @Test func aStartOverThatSucceedsBringsTheBoundBack() throws {
        let store = FlakyStore()
        // 2 × (20 profiles + 5 scopes): past 50 interned texts, start over.
        let detector = AnomalyDetector(rules: [try Fixture.rule("vigil-aml-first-access-to-workspace")], store: store,
                                       configuration: .init(maxProfiles: 20, maxScopes: 5))
        var n = 0
        func next() { n += 1; _ = detector.process(Self.access("user\(n)@contoso.example", minute: 1 + n % 50)) }
        store.down = true
        for _ in 0..<150 { next() }
        #expect(detector.stats.scopeEvictions == 0)
        store.down = false
        while detector.stats.scopeEvictions == 0 && n < 400 { next() }
        #expect(detector.stats.scopeEvictions == 1)
        for _ in 0..<80 { next() }
        #expect(detector.stats.scopeEvictions == 2, "80 new identities past the bound of 50 and no start-over")
    }
}
