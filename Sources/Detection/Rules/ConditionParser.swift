// Parser for Sigma `condition:` expressions.
//
// Grammar (EBNF; keywords are case-insensitive; `not` binds tighter than `and`, `and` than `or`):
//
//   condition   = or-expr , EOF ;
//   or-expr     = and-expr , { "or" , and-expr } ;
//   and-expr    = not-expr , { "and" , not-expr } ;
//   not-expr    = "not" , not-expr | primary ;
//   primary     = "(" , or-expr , ")"
//               | quantifier , "of" , ( "them" | pattern )
//               | identifier ;
//   quantifier  = "1" | "any" | "all" ;
//   identifier  = ident-char , { ident-char } ;              (* a selection name *)
//   pattern     = { ident-char | "*" } ;                      (* selection names, `*` = any run *)
//   ident-char  = letter | digit | "_" | "-" | "." ;
//
// `them` covers every selection whose name does not start with `_`. A pattern that covers no
// selection is an error. A pipe (`| count() by x > 5`, Sigma 1 aggregations) or `near` is rejected
// by name: those are correlations now.
import EventModel

public struct ConditionParser {
    public struct Failure: Error, Sendable {
        public var code: String
        public var message: String
        /// 0-based character offset into the condition text.
        public var offset: Int
    }

    enum Token: Equatable {
        case lparen, rparen, and, or, not, of, them, one, any, all, pipe
        case word(String)
        case end
    }

    private let chars: [Character]
    private var pos = 0
    private var tokenStart = 0
    private var lookahead: Token = .end
    private var lookaheadStart = 0
    private let selections: [String]

    /// `selections`: the rule's selection names in order (for quantifiers and undefined names).
    public init(_ text: String, selections: [String]) {
        self.chars = Array(text)
        self.selections = selections
    }

    /// Parses the whole text; `locate` turns an offset into a location for the expression tree.
    public mutating func parse(locate: (Int) -> SourceLocation) throws(Failure) -> ConditionExpr {
        try advance()
        let e = try orExpr(locate)
        guard lookahead == .end else {
            if lookahead == .pipe {
                throw Failure(code: "rule.unsupported-feature", message: "aggregation expression after '|' (Sigma 1 'count() by … > n') is not supported: write a correlation rule", offset: lookaheadStart)
            }
            throw Failure(code: "rule.condition-syntax", message: "unexpected \(describe(lookahead)) after a complete condition", offset: lookaheadStart)
        }
        return e
    }

    private func describe(_ t: Token) -> String {
        switch t {
        case .lparen: return "'('"
        case .rparen: return "')'"
        case .and: return "'and'"
        case .or: return "'or'"
        case .not: return "'not'"
        case .of: return "'of'"
        case .them: return "'them'"
        case .one: return "'1'"
        case .any: return "'any'"
        case .all: return "'all'"
        case .pipe: return "'|'"
        case .word(let w): return "'\(w)'"
        case .end: return "end of condition"
        }
    }

    private static func isIdent(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." || c == "*"
    }

    private mutating func advance() throws(Failure) {
        while pos < chars.count, chars[pos].isWhitespace { pos += 1 }
        lookaheadStart = pos
        guard pos < chars.count else { lookahead = .end; return }
        let c = chars[pos]
        switch c {
        case "(": pos += 1; lookahead = .lparen; return
        case ")": pos += 1; lookahead = .rparen; return
        case "|": pos += 1; lookahead = .pipe; return
        default: break
        }
        guard ConditionParser.isIdent(c) else {
            throw Failure(code: "rule.condition-syntax", message: "unexpected character '\(c)'", offset: pos)
        }
        var w = ""
        while pos < chars.count, ConditionParser.isIdent(chars[pos]) { w.append(chars[pos]); pos += 1 }
        switch w.lowercased() {
        case "and": lookahead = .and
        case "or": lookahead = .or
        case "not": lookahead = .not
        case "of": lookahead = .of
        case "them": lookahead = .them
        case "1": lookahead = .one
        case "any": lookahead = .any
        case "all": lookahead = .all
        case "near":
            throw Failure(code: "rule.unsupported-feature", message: "'near' (Sigma 1 temporal aggregation) is not supported: write a temporal correlation rule", offset: lookaheadStart)
        default: lookahead = .word(w)
        }
    }

    private mutating func orExpr(_ locate: (Int) -> SourceLocation) throws(Failure) -> ConditionExpr {
        var terms = [try andExpr(locate)]
        while lookahead == .or {
            try advance()
            terms.append(try andExpr(locate))
        }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func andExpr(_ locate: (Int) -> SourceLocation) throws(Failure) -> ConditionExpr {
        var terms = [try notExpr(locate)]
        while lookahead == .and {
            try advance()
            terms.append(try notExpr(locate))
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func notExpr(_ locate: (Int) -> SourceLocation) throws(Failure) -> ConditionExpr {
        if lookahead == .not {
            try advance()
            return .not(try notExpr(locate))
        }
        return try primary(locate)
    }

    private mutating func primary(_ locate: (Int) -> SourceLocation) throws(Failure) -> ConditionExpr {
        let start = lookaheadStart
        switch lookahead {
        case .lparen:
            try advance()
            let e = try orExpr(locate)
            guard lookahead == .rparen else {
                throw Failure(code: "rule.condition-syntax", message: "expected ')' to close the '(' at column offset \(start + 1), found \(describe(lookahead))", offset: lookaheadStart)
            }
            try advance()
            return e
        case .one, .any, .all:
            let all = lookahead == .all
            try advance()
            guard lookahead == .of else {
                throw Failure(code: "rule.condition-syntax", message: "expected 'of' after '\(all ? "all" : "1")', found \(describe(lookahead))", offset: lookaheadStart)
            }
            try advance()
            let patStart = lookaheadStart
            let pattern: String
            let terms: [String]
            switch lookahead {
            case .them:
                pattern = "them"
                terms = selections.filter { !$0.hasPrefix("_") }
            case .word(let w):
                pattern = w
                terms = selections.filter { ConditionParser.glob(w, matches: $0) }
                if terms.isEmpty {
                    throw Failure(code: "rule.undefined-selection", message: "'\(w)' matches no selection (have: \(selections.joined(separator: ", ")))", offset: patStart)
                }
            default:
                throw Failure(code: "rule.condition-syntax", message: "expected 'them' or a selection pattern after 'of', found \(describe(lookahead))", offset: patStart)
            }
            try advance()
            return .quantified(all: all, pattern: pattern, terms: terms, locate(start))
        case .word(let w):
            if w.contains("*") {
                throw Failure(code: "rule.condition-syntax", message: "wildcard '\(w)' is only allowed after '1 of' or 'all of'", offset: start)
            }
            guard selections.contains(w) else {
                throw Failure(code: "rule.undefined-selection", message: "selection '\(w)' is not defined in detection", offset: start)
            }
            try advance()
            return .selection(w, locate(start))
        case .end:
            throw Failure(code: "rule.condition-syntax", message: "condition ends where a selection, 'not', '(' or a quantifier was expected", offset: start)
        case .pipe:
            throw Failure(code: "rule.unsupported-feature", message: "aggregation expression after '|' (Sigma 1 'count() by … > n') is not supported: write a correlation rule", offset: start)
        default:
            throw Failure(code: "rule.condition-syntax", message: "unexpected \(describe(lookahead)); expected a selection, 'not', '(' or a quantifier", offset: start)
        }
    }

    /// Glob with `*` only, exact otherwise (Sigma selection names are case-sensitive).
    static func glob(_ pattern: String, matches name: String) -> Bool {
        let p = Array(pattern), s = Array(name)
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] != "*", p[pi] == s[si] { pi += 1; si += 1 }
            else if pi < p.count, p[pi] == "*" { star = pi; mark = si; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; si = mark }
            else { return false }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
