@testable import Detection
import EventModel
import Testing

@Suite struct ConditionTests {
    let ev = T.event(#"{"a":"1","b":"2","c":"3"}"#)
    let sels = """
    sel_a:
      a: '1'
    sel_b:
      b: '2'
    sel_x:
      c: 'no'
    _hidden:
      c: 'no'
    """

    @Test(arguments: [
        ("sel_a", true), ("sel_x", false), ("sel_a and sel_b", true), ("sel_a and sel_x", false),
        ("sel_a or sel_x", true), ("sel_x or sel_x", false), ("not sel_x", true), ("not sel_a", false),
        ("not (sel_a and sel_x)", true), ("(sel_a or sel_x) and sel_b", true), ("sel_x or sel_a and sel_b", true),
        ("not sel_a or sel_b", true), ("not sel_a and sel_b", false),
        ("1 of sel_*", true), ("all of sel_*", false), ("all of sel_a*", true), ("any of sel_*", true),
        ("1 of them", true), ("all of them", false), ("all of sel_a* and not 1 of sel_x*", true),
        ("SEL_A", false), ("sel_a AND sel_b", true), ("NOT sel_x", true), ("all of them or sel_a", true),
        ("1 of _hidden", false), ("all of sel_a or _hidden", true),
    ])
    func conditions(_ condition: String, _ expected: Bool) {
        let yaml = T.rule(sels, condition: condition)
        let (set, diags) = T.compile(yaml)
        if condition == "SEL_A" {
            #expect(T.errors(diags).first?.code == "rule.undefined-selection")
            return
        }
        #expect(set.rules.count == 1, "\(diags)")
        guard set.rules.count == 1 else { return }
        #expect(!Engine(rules: set).matchingRules(ev).isEmpty == expected, "\(condition)")
    }

    @Test func themSkipsUnderscoreSelections() {
        var p = ConditionParser("all of them", selections: ["a", "_b"])
        let e = try! p.parse { _ in EventModel.SourceLocation(file: "x") }
        #expect(e.referencedSelections == ["a"])
    }

    @Test(arguments: [
        ("sel_a and", "rule.condition-syntax", 9),
        ("sel_a sel_b", "rule.condition-syntax", 6),
        ("(sel_a", "rule.condition-syntax", 6),
        ("sel_a)", "rule.condition-syntax", 5),
        ("1 sel_a", "rule.condition-syntax", 2),
        ("1 of nope*", "rule.undefined-selection", 5),
        ("sel_a and nope", "rule.undefined-selection", 10),
        ("sel_* ", "rule.condition-syntax", 0),
        ("sel_a | count() > 5", "rule.unsupported-feature", 6),
        ("sel_a near sel_b", "rule.unsupported-feature", 6),
        ("sel_a & sel_b", "rule.condition-syntax", 6),
    ])
    func syntaxErrors(_ condition: String, _ code: String, _ offset: Int) {
        var p = ConditionParser(condition, selections: ["sel_a", "sel_b"])
        do {
            _ = try p.parse { _ in EventModel.SourceLocation(file: "x") }
            Issue.record("expected an error for \(condition)")
        } catch {
            #expect(error.code == code, "\(condition): \(error.message)")
            #expect(error.offset == offset, "\(condition): \(error.message)")
        }
    }

    @Test func listOfConditionsIsOr() {
        let yaml = """
        title: t
        logsource: {product: azure, service: activitylogs}
        detection:
          s1: {a: '1'}
          s2: {a: '9'}
          condition:
            - s2
            - s1
        """
        let (set, _) = T.compile(yaml)
        #expect(!Engine(rules: set).matchingRules(ev).isEmpty)
    }

    @Test func listOfMapsIsOrAndMapIsAnd() {
        #expect(T.matches("selection:\n  - a: '1'\n    b: 'x'\n  - c: '3'", ev))
        #expect(!T.matches("selection:\n  - a: '1'\n    b: 'x'\n  - c: '4'", ev))
        #expect(!T.matches("selection:\n  a: '1'\n  b: 'x'", ev))
    }
}
