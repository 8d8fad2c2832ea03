@testable import Detection
import EventModel
import Foundation
import Testing

@Suite struct CorrelationDiagnosticsTests {
    static let base = """
    title: base
    name: del
    id: base-1
    logsource: {product: azure, service: activitylogs}
    detection:
      selection:
        operationName: D
      condition: selection
    ---

    """

    /// The correlation document starts on line 10.
    func diagnostics(_ correlation: String) -> [Diagnostic] {
        T.compile(Self.base + correlation, file: "c.yml").1
    }

    func expectAt(_ d: [Diagnostic], _ code: String, _ line: Int, _ column: Int, _ text: String? = nil,
                  sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let hit = d.first { $0.code == code }
        #expect(hit?.location.file == "c.yml", "\(code) missing in \(d.map(\.description))", sourceLocation: sourceLocation)
        #expect(hit?.location.line == line && hit?.location.column == column, "\(hit.map { "\($0.location)" } ?? "none")", sourceLocation: sourceLocation)
        if let text { #expect(hit?.message.contains(text) == true, "\(hit?.message ?? "")", sourceLocation: sourceLocation) }
    }

    @Test func unknownRuleWithHint() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [dell]
          timespan: 10m
          condition: {gte: 3}
        """)
        expectAt(d, "correlation.unknown-rule", 14, 11, "did you mean 'del'")
    }

    @Test func badTimespanAndMissingValueField() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: value_count
          rules: [del]
          group-by: [Caller]
          timespan: 10x
          condition: {gte: 3}
        """)
        expectAt(d, "correlation.bad-timespan", 16, 13, "10x")
        expectAt(d, "correlation.missing-field", 17, 14)
    }

    @Test func badConditionOperatorAndValue() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [del]
          timespan: 1h
          condition:
            above: 3
        """)
        expectAt(d, "correlation.bad-condition", 17, 5, "unknown condition operator 'above'")
        let d2 = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [del]
          timespan: 1h
          condition: {gte: many}
        """)
        expectAt(d2, "correlation.bad-condition", 16, 20, "needs a number")
        let d3 = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [del]
          timespan: 1h
        """)
        expectAt(d3, "correlation.missing-condition", 13, 3)
    }

    @Test func aliasNamingAnUnreferencedRule() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: temporal
          rules: [del, base-1]
          group-by: [who]
          timespan: 1h
          aliases:
            who:
              del: Caller
              nope: target
        """)
        expectAt(d, "correlation.bad-alias", 20, 7, "'nope'")
    }

    /// `group-by: [Who]` beside an alias `who` used to read the raw field `Who` without a word.
    @Test func anAliasNothingNamesIsAWarning() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [del]
          group-by: [Who]
          timespan: 1h
          condition: {gte: 2}
          aliases:
            who: {del: Caller}
        """)
        expectAt(d, "correlation.bad-alias", 19, 5, "alias 'who' is named by no group-by field, condition.field or entity, so it is not used (did you mean 'Who'?)")
        #expect(T.errors(d).isEmpty)
    }

    @Test func unknownVigilGroupByFieldAndAChainOnABrokenCorrelation() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [del]
          group-by: [vigil.nosuch]
          timespan: 1h
          condition: {gte: 2}
        ---
        title: c2
        id: c2
        correlation:
          type: temporal
          rules: [del, c1]
          timespan: 1h
        """)
        expectAt(d, "correlation.unknown-field", 15, 14, "vigil.nosuch")
        expectAt(d, "correlation.base-rule-invalid", 23, 16, "correlation 'c1' did not compile")
    }

    /// Correlations may chain on each other, never in a cycle; the error names the reference.
    @Test func chainsInACycleAreRejected() {
        let (set, d) = T.compile(Self.base + """
        title: a
        id: ca
        correlation:
          type: temporal
          rules: [del, cb]
          group-by: [Caller]
          timespan: 1h
        ---
        title: b
        id: cb
        correlation:
          type: event_count
          rules: [ca]
          group-by: [Caller]
          timespan: 1h
          condition: {gte: 2}
        """, file: "c.yml")
        expectAt(d, "correlation.cycle", 22, 11, "leads back to 'b'")
        #expect(set.correlations.isEmpty, "neither half of the cycle runs")
    }

    /// A correlation chained on another reads only the values that one grouped by.
    @Test func chainedGroupByMustBeTheInputsGroupBy() {
        let d = diagnostics("""
        title: many
        id: c1
        name: many_deletes
        correlation:
          type: event_count
          rules: [del]
          group-by: [Caller]
          timespan: 1h
          condition: {gte: 2}
        ---
        title: then
        id: c2
        correlation:
          type: temporal
          rules: [many_deletes, del]
          group-by: [ResourceGroup]
          timespan: 1h
        """)
        expectAt(d, "correlation.unknown-field", 25, 14, "not a group-by field of correlation 'many_deletes' (Caller)")
    }

    @Test func brokenCorrelationIsLeftOutOthersRun() {
        let (set, d) = T.compile(Self.base + """
        title: bad
        id: c-bad
        correlation:
          type: event_count
          rules: [missing]
          timespan: 1h
          condition: {gte: 2}
        ---
        title: good
        id: c-good
        correlation:
          type: event_count
          rules: [del]
          timespan: 1h
          condition: {gte: 2}
        """)
        #expect(T.errors(d).map(\.code) == ["correlation.unknown-rule"])
        #expect(set.correlations.correlations.map(\.id) == ["c-good"])
        #expect(set.rules.count == 1)
    }

    @Test func unknownTypeIsReportedByTheLoader() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_sum
          rules: [del]
          timespan: 1h
        """)
        expectAt(d, "rule.invalid-value", 13, 9, "unknown correlation type")
        let median = diagnostics("title: c\nid: c1\ncorrelation:\n  type: value_median\n  rules: [del]\n  timespan: 1h\n  condition: {gte: 2, field: n}\n")
        expectAt(median, "rule.unsupported-feature", 13, 9, "'value_median' (a pySigma extension) is not supported")
    }

    /// `group_by` for `group-by` used to be dropped without a word: every caller then shared one group.
    @Test func unknownCorrelationKeyIsAWarningWithAHint() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [del]
          group_by: [Caller]
          timespan: 1h
          condition: {gte: 3}
        """)
        expectAt(d, "rule.unknown-key", 15, 3, "'group_by' in 'correlation' (did you mean 'group-by'?)")
        #expect(T.errors(d).isEmpty, "a warning: the correlation still runs")
    }

    @Test func ruleReferenceThatIsNotAScalarIsLocated() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: temporal
          rules: [del, {id: base-1}]
          timespan: 1h
        """)
        expectAt(d, "rule.invalid-value", 14, 16, "entries must be rule ids or names")
    }

    /// Another rule known as `del` (`key: title` or `key: name`), six lines, then a correlation
    /// counting `del` whose reference sits at line 6 + 5, column 11.
    static func anotherDel(_ key: String) -> String {
        """
        title: \(key == "title" ? "del" : "other")
        \(key == "name" ? "name: del" : "description: another rule")
        id: other-1
        logsource: {product: azure, service: activitylogs}
        detection: {s: {operationName: X}, condition: s}
        ---
        title: c
        id: c1
        correlation:
          type: event_count
          rules: [del]
          timespan: 1h
          condition: {gte: 3}
        """
    }

    /// Spec, "Related rules": a reference is a rule's id or name. A rule titled `del` loaded first
    /// used to win over the rule named `del`.
    @Test func aNameWinsOverAnEarlierTitle() throws {
        let (set, d) = T.compile(Self.anotherDel("title").replacingOccurrences(of: "---\n", with: "---\n" + Self.base), file: "c.yml")
        #expect(T.errors(d).isEmpty)
        #expect(try #require(set.correlations.correlations.first).steps.map(\.ruleId) == ["base-1"])
    }

    /// Names are unique per the spec; a reference to a shared one is an error, not a load-order pick.
    @Test func aNameTwoRulesCarryIsAmbiguous() {
        expectAt(diagnostics(Self.anotherDel("name")), "correlation.ambiguous-rule", 20, 11, "'del' is the name of 2 rules (c.yml:1:1, c.yml:10:1)")
    }

    /// One rule named twice (by name, then by id) alone made a temporal correlation fire on one event.
    @Test func theSameRuleTwiceIsAnError() {
        let d = diagnostics("""
        title: c
        id: c1
        correlation:
          type: temporal
          rules: [del, base-1]
          timespan: 1h
        """)
        expectAt(d, "correlation.duplicate-rule", 14, 16, "'base-1' is the rule 'del' already names")
    }

    /// Spec, "Condition": for temporal types it is a count of rules. temporal_ordered runs the
    /// whole chain, so another condition is ignored with a warning (an `eq` used to switch it to a
    /// tumbling window while the count went unread); a temporal count out of reach is flagged.
    @Test func temporalConditionsOutOfReachOrIgnored() throws {
        func compile(_ type: String, _ condition: String) -> (CompiledRuleSet, [Diagnostic]) {
            T.compile(Self.base + """
            title: c
            id: c1
            correlation:
              type: \(type)
              rules: [del, e]
              timespan: 1h
              condition: \(condition)
            ---
            title: e
            name: e
            id: e-1
            logsource: {product: azure, service: activitylogs}
            detection: {s: {operationName: E}, condition: s}
            """, file: "c.yml")
        }
        let (set, d) = compile("temporal_ordered", "{eq: 1}")
        expectAt(d, "correlation.bad-condition", 16, 14, "condition = 1 is ignored")
        let c = try #require(set.correlations.correlations.first)
        #expect(c.condition == .allRules(2) && c.condition.firesEarly, "the chain of both, on a sliding window")
        #expect(compile("temporal_ordered", "{gte: 2}").1.isEmpty, "the default, spelt out")
        expectAt(compile("temporal", "{gte: 3}").1, "correlation.bad-condition", 16, 14, "≥ 3 never holds: a temporal correlation over 2 rules")
    }

    @Test func timespanUnits() {
        #expect(CorrelationCompiler.parseTimespan("30s") == 30)
        #expect(CorrelationCompiler.parseTimespan("10m") == 600)
        #expect(CorrelationCompiler.parseTimespan("1h") == 3600)
        #expect(CorrelationCompiler.parseTimespan("2d") == 172_800)
        #expect(CorrelationCompiler.parseTimespan("1w") == 604_800)
        #expect(CorrelationCompiler.parseTimespan("0m") == nil)
        #expect(CorrelationCompiler.parseTimespan("m") == nil)
        #expect(CorrelationCompiler.parseTimespan("1M") == 2_592_000, "pySigma's month: 30 days")
        #expect(CorrelationCompiler.parseTimespan("1y") == 31_536_000, "pySigma's year: 365 days")
        #expect(CorrelationCompiler.parseTimespan("5Y") == nil)
        #expect(CorrelationCompiler.parseTimespan("5x") == nil)
        #expect(CorrelationCompiler.parseTimespan("+10m") == nil, "number + letter: no sign")
    }
}
