// Sigma 1 aggregations (`condition: selection | count(field) by group > n` with
// `detection.timeframe`) lowered to the Sigma 2 form Vigil runs: the search part becomes a base
// rule (`<id>-events`, no alerts of its own) and the aggregation a correlation that keeps the
// rule's id, title and level, so its alerts carry the id the rule was published with.
//
//   count() [by g…] OP n         → event_count, group-by g…, condition {OP: n}
//   count(f) [by g…] OP n        → value_count (distinct values of f), condition {OP: n, field: f}
//   sum(f) / avg(f) [by g…] OP n → value_sum / value_avg
//   min / max, or no timeframe   → rule.unsupported-feature, located in the condition
import EventModel

/// The aggregation part of a Sigma 1 condition.
struct Sigma1Aggregation: Sendable, Equatable {
    var function: String          // count, sum, avg, min, max
    var field: String?
    var groupBy: [String]
    var op: String                // gt, gte, lt, lte, eq, neq
    var threshold: String
    /// Offset of the `|` in the condition text.
    var pipeOffset: Int

    /// The correlation type this aggregation is, nil for functions correlations cannot express.
    var correlationType: String? {
        switch function {
        case "count": return field == nil ? "event_count" : "value_count"
        case "sum": return "value_sum"
        case "avg": return "value_avg"
        default: return nil
        }
    }

    /// Splits `search | agg(field) by a, b > 5` into the search text and the aggregation; nil when
    /// the text has no `|`. Throws (message, offset) when the part after `|` is not an aggregation.
    static func split(_ text: String) -> (search: String, aggregation: Sigma1Aggregation?, error: (String, Int)?) {
        let chars = Array(text)
        guard let pipe = chars.firstIndex(of: "|") else { return (text, nil, nil) }
        let search = String(chars[..<pipe])
        var i = pipe + 1
        func skipSpaces() { while i < chars.count, chars[i].isWhitespace { i += 1 } }
        func word() -> String {
            let start = i
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." || chars[i] == "-" { i += 1 }
            return String(chars[start..<i])
        }
        func fail(_ message: String) -> (String, Sigma1Aggregation?, (String, Int)?) { (search, nil, (message, min(i, max(chars.count - 1, 0)))) }
        skipSpaces()
        let function = word().lowercased()
        guard ["count", "sum", "avg", "min", "max"].contains(function) else {
            return fail("expected an aggregation function (count, sum, avg, min, max) after '|'")
        }
        skipSpaces()
        guard i < chars.count, chars[i] == "(" else { return fail("expected '(' after '\(function)'") }
        i += 1
        skipSpaces()
        let fieldText = word()
        skipSpaces()
        guard i < chars.count, chars[i] == ")" else { return fail("expected ')' to close '\(function)('") }
        i += 1
        skipSpaces()
        var groupBy: [String] = []
        let save = i
        if word().lowercased() == "by" {
            repeat {
                skipSpaces()
                let g = word()
                guard !g.isEmpty else { return fail("expected a field name after 'by'") }
                groupBy.append(g)
                skipSpaces()
                if i < chars.count, chars[i] == "," { i += 1; continue }
                break
            } while true
        } else {
            i = save
        }
        skipSpaces()
        var opText = ""
        while i < chars.count, "<>=!".contains(chars[i]) { opText.append(chars[i]); i += 1 }
        let ops = [">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "eq", "==": "eq", "!=": "neq"]
        guard let op = ops[opText] else { return fail("expected a comparison (>, >=, <, <=, ==, !=) after the aggregation") }
        skipSpaces()
        let start = i
        while i < chars.count, chars[i].isNumber || chars[i] == "." { i += 1 }
        let threshold = String(chars[start..<i])
        guard !threshold.isEmpty, Double(threshold) != nil else { return fail("expected a number after '\(opText)'") }
        skipSpaces()
        guard i == chars.count else { return fail("unexpected text after the aggregation") }
        return (search, Sigma1Aggregation(function: function, field: fieldText.isEmpty ? nil : fieldText, groupBy: groupBy,
                                          op: op, threshold: threshold, pipeOffset: pipe), nil)
    }

    /// The `correlation:` block, built as a YAML tree located at `at` (the condition).
    func correlationNode(baseRule: String, timespan: String, line: Int, column: Int) -> YAMLTree {
        func scalar(_ s: String, _ kind: YAMLTree.ScalarKind = .string) -> YAMLTree { YAMLTree(value: .scalar(s, kind), line: line, column: column) }
        func list(_ xs: [String]) -> YAMLTree { YAMLTree(value: .sequence(xs.map { scalar($0) }), line: line, column: column) }
        var condition: [(key: YAMLTree, value: YAMLTree)] = [(scalar(op), scalar(threshold, threshold.contains(".") ? .float : .int))]
        if let field, function != "count" || correlationType == "value_count" { condition.append((scalar("field"), scalar(field))) }
        var pairs: [(key: YAMLTree, value: YAMLTree)] = [
            (scalar("type"), scalar(correlationType ?? function)),
            (scalar("rules"), list([baseRule])),
            (scalar("timespan"), scalar(timespan)),
            (scalar("condition"), YAMLTree(value: .mapping(condition), line: line, column: column)),
        ]
        if !groupBy.isEmpty { pairs.append((scalar("group-by"), list(groupBy))) }
        return YAMLTree(value: .mapping(pairs), line: line, column: column)
    }
}
