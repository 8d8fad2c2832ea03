@testable import Detection
import EventModel
import Foundation
import StateStore
import Testing

/// A scope's identity count (`subjects`): the profiles stored in it, written with them
/// (`AnomalyDetector.unstoredProfiles`). (First written as probes by a fourth independent review,
/// against a count taken from stored keys.)
@Suite struct ScopeCountTests {
    static let workspaceB = Fixture.workspaceId.replacingOccurrences(of: "mlw-prod", with: "mlw-dev")

    static func scopes(_ store: InMemoryBaselineStore) -> [String: Int] {
        var out: [String: Int] = [:]
        for (key, bytes) in store.values[AnomalyDetector.scopeNamespace] ?? [:] {
            out[key] = ScopeRecord.decode(bytes)?.subjects
        }
        return out
    }

    static func profileCount(_ store: InMemoryBaselineStore) -> Int { store.values[AnomalyDetector.profileNamespace]?.count ?? 0 }

    /// A scope is not written back at the memory bound while profiles made in it are not stored:
    /// the stored count ends with every identity.
    @Test func aScopeWithUnstoredProfilesCountsThemAll() throws {
        let store = InMemoryBaselineStore()
        let rules = [try Fixture.rule("vigil-aml-first-access-to-workspace")]
        let config = AnomalyDetector.Configuration(maxProfiles: 100, maxScopes: 1)
        let events = [
            Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: 1), caller: "alice@contoso.example", serial: 1),
            Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: 2), caller: "bob@contoso.example", workspace: Self.workspaceB, serial: 2),
        ]
        let detector = AnomalyDetector(rules: rules, store: store, configuration: config)
        for e in events { _ = detector.process(e) }
        _ = detector.finish()
        #expect(Self.profileCount(store) == 2)
        let counts = Self.scopes(store)
        // Expected: each workspace has one identity stored.
        #expect(counts.values.sorted() == [1, 1], "stored scope counts \(counts) with 2 profiles stored")
        // Read again (a replay): nothing new is learned, the counts stay as they are.
        let again = AnomalyDetector(rules: rules, store: store, configuration: config)
        for e in events { _ = again.process(e) }
        _ = again.finish()
        #expect(Self.scopes(store).values.sorted() == [1, 1], "after a replay: \(Self.scopes(store))")
    }

    static let projectRule = """
    vigil_rule: anomaly
    id: probe-first-access-by-project
    title: Identity used a project for the first time
    level: medium
    anomaly:
      kind: first_access
      subject: vigil.caller
      scope: properties.project
      learning_days: 14
    """

    static func projectEvent(_ project: String, caller: String, minute: Int) -> Event {
        let json = """
        {"time":"\(Fixture.at(day: 0, hour: 9, minute: minute).iso8601)","resourceId":"\(Fixture.workspaceId)",\
        "category":"DataStoreReadEvent","operationName":"Microsoft.MachineLearningServices/workspaces/datastores/read",\
        "resultType":"Succeeded","callerIpAddress":"203.0.113.10",\
        "identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)"}},\
        "properties":{"project":\(Fixture.quote(project))}}
        """
        return Fixture.event(json, line: minute)
    }

    /// Scopes held in memory for their unstored profiles past a tenth of `maxScopes` ask for a
    /// save (`saveWanted`); after it they are written back to the bound.
    @Test func scopesHeldForUnstoredProfilesAskForASave() throws {
        let store = InMemoryBaselineStore()
        let parsed = AnomalyRuleParser.parse(Self.projectRule, file: "project.yml")
        #expect(parsed.diagnostics.isEmpty, "\(parsed.diagnostics)")
        let detector = AnomalyDetector(rules: parsed.rules, store: store, configuration: .init(maxProfiles: 1_000, maxScopes: 10))
        var asked = false
        for n in 0..<30 {
            _ = detector.process(Self.projectEvent("p\(n)", caller: "u\(n)@contoso.example", minute: n))
            asked = asked || detector.saveWanted
            if detector.saveWanted { try detector.save() }
        }
        #expect(asked)
        #expect(detector.stats.scopeEvictions > 0)
        _ = detector.finish()
        #expect(Self.scopes(store).values.allSatisfy { $0 == 1 } && Self.scopes(store).count == 30)
    }

    /// A stored baseline that cannot be read is said (`state.baseline-unreadable`, naming its key)
    /// and learned afresh over it; its scope, which counted it, does not count it again.
    @Test func anUnreadableStoredBaselineIsSaid() throws {
        let store = InMemoryBaselineStore()
        let rules = [try Fixture.rule("vigil-aml-first-access-to-workspace")]
        let first = AnomalyDetector(rules: rules, store: store)
        _ = first.process(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9), caller: "alice@contoso.example", serial: 1))
        _ = first.finish()
        let key = try #require(store.values[AnomalyDetector.profileNamespace]?.keys.first { $0.hasSuffix("alice@contoso.example") })
        try store.setBaselineValue(Array("{not json".utf8), namespace: AnomalyDetector.profileNamespace, key: key)
        let second = AnomalyDetector(rules: rules, store: store)
        _ = second.process(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 10), caller: "alice@contoso.example", serial: 2))
        let said = second.drainDiagnostics()
        #expect(second.stats.unreadable >= 1)
        #expect(said.contains { $0.code == "state.baseline-unreadable" && $0.message.contains(key) }, "\(said)")
        _ = second.finish()
        #expect(AccessProfile.decode(try #require(store.values[AnomalyDetector.profileNamespace]?[key])) != nil, "learned afresh over it")
        #expect(Self.scopes(store).values.allSatisfy { $0 == 1 }, "\(Self.scopes(store))")
    }

    /// The same when a store error comes between reading the unreadable profile and learning over
    /// it: the next event, which finds it absent in memory, is not counted again either. (Found by a review.)
    @Test func anUnreadableStoredBaselineIsCountedOnceAcrossAStoreError() throws {
        let store = BaselineSaveFailureTests.FlakyStore()
        let rules = [try Fixture.rule("vigil-aml-first-access-to-workspace")]
        let first = AnomalyDetector(rules: rules, store: store)
        _ = first.process(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9), serial: 1))
        _ = first.finish()
        let key = try #require(store.baselineKeys(namespace: AnomalyDetector.profileNamespace).first)
        try store.setBaselineValue(Array("{x".utf8), namespace: AnomalyDetector.profileNamespace, key: key)
        let second = AnomalyDetector(rules: rules, store: store)
        store.failScopeReads = true
        _ = second.process(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 10), serial: 2))
        store.failScopeReads = false
        _ = second.process(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 11), serial: 3))
        _ = second.finish()
        #expect(second.stats.storeErrors == 1)
        #expect(Self.scopes(store.inner).values.allSatisfy { $0 == 1 }, "\(Self.scopes(store.inner))")
    }

    /// Scope "x" counts its own profiles, not those of scope "x|y" (a path scope read from the
    /// record may hold '|', so a key prefix would not tell them apart).
    @Test func aScopeCountsOnlyItsOwnProfiles() throws {
        let parsed = AnomalyRuleParser.parse(Self.projectRule, file: "probe.yml")
        #expect(parsed.diagnostics.isEmpty, "\(parsed.diagnostics)")
        let store = InMemoryBaselineStore()
        let detector = AnomalyDetector(rules: parsed.rules, store: store)
        _ = detector.process(Self.projectEvent("x", caller: "alice@contoso.example", minute: 1))
        _ = detector.process(Self.projectEvent("x|y", caller: "bob@contoso.example", minute: 2))
        _ = detector.process(Self.projectEvent("x|y", caller: "carol@contoso.example", minute: 3))
        _ = detector.finish()
        let counts = Self.scopes(store)
        let x = counts.first { $0.key.hasSuffix("|x") }?.value
        let xy = counts.first { $0.key.hasSuffix("|x%7Cy") }?.value   // (key parts escaped, `BaselineKeys`)
        #expect(xy == 2)
        // Expected 1 (alice only).
        #expect(x == 1, "scope x counted \(String(describing: x)); stored \(counts)")
    }

    /// Same with SQLite.
    @Test func aScopeCountsOnlyItsOwnProfilesInSQLite() throws {
        let folder = StatefulTemporaryFolder()
        let db = try StateDatabase(path: folder.path("state.db"))
        let parsed = AnomalyRuleParser.parse(Self.projectRule, file: "probe.yml")
        let detector = AnomalyDetector(rules: parsed.rules, store: db)
        _ = detector.process(Self.projectEvent("x", caller: "alice@contoso.example", minute: 1))
        _ = detector.process(Self.projectEvent("x|y", caller: "bob@contoso.example", minute: 2))
        _ = detector.finish()
        var counts: [String: Int] = [:]
        for key in try db.baselineKeys(namespace: AnomalyDetector.scopeNamespace) {
            counts[key] = try db.baselineValue(namespace: AnomalyDetector.scopeNamespace, key: key).flatMap(ScopeRecord.decode)?.subjects
        }
        let x = counts.first { $0.key.hasSuffix("|x") }?.value
        #expect(x == 1, "scope x counted \(String(describing: x)); stored \(counts)")
        try db.close()
    }

    static let userRule = """
    vigil_rule: anomaly
    id: user-first-access-by-project
    title: User used a project for the first time
    level: medium
    anomaly:
      kind: first_access
      subject: properties.user
      scope: properties.project
      learning_days: 14
    """

    static func userEvent(project: String, user: String, minute: Int, caller: String = "alice@contoso.example") -> Event {
        let json = """
        {"time":"\(Fixture.at(day: 0, hour: 9, minute: minute).iso8601)","resourceId":"\(Fixture.workspaceId)",\
        "category":"DataStoreReadEvent","operationName":"Microsoft.MachineLearningServices/workspaces/datastores/read",\
        "resultType":"Succeeded","callerIpAddress":"203.0.113.10",\
        "identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"\(caller)"}},\
        "properties":{"project":\(Fixture.quote(project)),"user":\(Fixture.quote(user))}}
        """
        return Fixture.event(json, line: minute)
    }

    /// Runs at maxProfiles 3 / maxScopes 1 over a store whose writes fail at times, with evictions, rolled-back saves, saves and kills (a detector dropped unsaved); after
    /// each kill every stored scope counts exactly the profiles stored under it.
    @Test func storedCountsMatchStoredProfilesAcrossFailuresAndKills() throws {
        let parsed = AnomalyRuleParser.parse(Self.userRule, file: "user.yml")
        let store = BaselineSaveFailureTests.FlakyStore()
        var rng = UInt64(0x9E37_79B9)
        func next(_ n: UInt64) -> Int { rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return Int((rng >> 33) % n) }
        var minute = 0
        for run in 0..<40 {
            let detector = AnomalyDetector(rules: parsed.rules, store: store,
                                           configuration: AnomalyDetector.Configuration(maxProfiles: 3, maxScopes: 1))
            for _ in 0..<(5 + next(20)) {
                store.down = next(6) == 0
                minute += 1
                _ = detector.process(Self.userEvent(project: "p\(next(4))", user: "u\(next(7))", minute: minute % 600))
                if next(8) == 0 { try? detector.save() }
            }
            store.down = false
            if next(3) == 0 { _ = detector.finish() }   // else: killed
            var profilesIn: [String: Int] = [:]
            for key in try store.inner.baselineKeys(namespace: AnomalyDetector.profileNamespace) {
                profilesIn[String(key[..<key.lastIndex(of: "|")!]), default: 0] += 1
            }
            let counts = Self.scopes(store.inner).filter { $0.value != 0 || profilesIn[$0.key] != nil }
            #expect(counts == profilesIn, "run \(run): scope counts \(counts) vs profiles \(profilesIn)")
            if counts != profilesIn { break }
        }
    }
}
