// What the compiler lowers rules to: predicates over one field slot, and boolean trees over
// predicates. Identical predicates of different rules are one predicate (evaluated once per event).
import EventModel

/// One pattern element of a wildcard value.
public enum WildcardToken: Sendable, Hashable {
    case literal([UInt8])
    case star
    case one
}

public enum CompareOp: String, Sendable, Hashable { case gt, gte, lt, lte }

/// A test on one value of a field. Byte patterns are already folded when `cased` is false.
public enum ValueTest: Sendable, Hashable {
    case equals([UInt8], cased: Bool)
    case contains([UInt8], cased: Bool)
    case startsWith([UInt8], cased: Bool)
    case endsWith([UInt8], cased: Bool)
    case wildcard([WildcardToken], cased: Bool)
    /// A YAML number: equal numerically, or equal as text.
    case numberEquals(Double, text: [UInt8])
    case compare(CompareOp, Double)
    case regex(Int)
    case cidr(CIDR)
    /// Field-level tests (they look at the whole value list).
    case exists(Bool)
    case isNull
    case notEquals([UInt8], cased: Bool)
    /// This field's value against another field's (`|fieldref`, with `contains`/`startswith`/`endswith`).
    case fieldRef(slot: Int, cased: Bool, match: FieldRefMatch)

    var cost: Int {
        switch self {
        case .equals, .numberEquals, .compare, .exists, .isNull, .notEquals, .fieldRef: return 1
        case .startsWith, .endsWith: return 2
        case .contains, .cidr: return 4
        case .wildcard: return 8
        case .regex: return 100
        }
    }

    public var summary: String {
        func t(_ b: [UInt8]) -> String { "'" + String(decoding: b, as: UTF8.self) + "'" }
        func c(_ cased: Bool) -> String { cased ? " (cased)" : "" }
        switch self {
        case .equals(let b, let cased): return "equals \(t(b))\(c(cased))"
        case .contains(let b, let cased): return "contains \(t(b))\(c(cased))"
        case .startsWith(let b, let cased): return "startswith \(t(b))\(c(cased))"
        case .endsWith(let b, let cased): return "endswith \(t(b))\(c(cased))"
        case .wildcard(let toks, let cased):
            return "wildcard '" + toks.map { tok -> String in
                switch tok { case .literal(let b): return String(decoding: b, as: UTF8.self); case .star: return "*"; case .one: return "?" }
            }.joined() + "'" + c(cased)
        case .numberEquals(let d, _): return "== \(d)"
        case .compare(let op, let d): return "\(op.rawValue) \(d)"
        case .regex(let i): return "regex #\(i)"
        case .cidr(let n): return "cidr \(n)"
        case .exists(let b): return "exists \(b)"
        case .isNull: return "is null or missing"
        case .notEquals(let b, let cased): return "neq \(t(b))\(c(cased))"
        case .fieldRef(let slot, let cased, let match): return "\(match.rawValue) field slot #\(slot)\(c(cased))"
        }
    }
}

/// A test against a field slot. `slot == Predicate.keywordSlot` means every string in the record.
public struct Predicate: Sendable, Hashable {
    public static let keywordSlot = -1
    public var slot: Int
    public var test: ValueTest
}

/// A rule's boolean plan over predicate indexes.
public indirect enum MatchNode: Sendable {
    case and([MatchNode])
    case or([MatchNode])
    case not(MatchNode)
    case predicate(Int)
    case constant(Bool)
}

// MARK: - Byte helpers used by compiler and engine

enum Bytes {
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`: how a number is written as text, without sign, spaces,
    /// exponent, hex or leading zeros.
    static func isPlainDecimal(_ b: [UInt8]) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
        let intDigits = i - intStart
        guard intDigits > 0, intDigits == 1 || b[intStart] != 0x30 else { return false }
        if i == b.count { return true }
        guard b[i] == UInt8(ascii: ".") else { return false }
        i += 1
        let fracStart = i
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
        return i == b.count && i > fracStart
    }

    /// Lower-cases ASCII; when non-ASCII bytes are present, full Unicode lower-casing.
    static func fold(_ b: [UInt8]) -> [UInt8] {
        var ascii = true
        for x in b where x >= 0x80 { ascii = false; break }
        if ascii { return b.map { ($0 &- 65) < 26 ? $0 | 0x20 : $0 } }
        return Array(String(decoding: b, as: UTF8.self).lowercased().utf8)
    }

    static func fold(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: b.count)
        var ascii = true
        for i in 0..<b.count {
            let x = b[i]
            if x >= 0x80 { ascii = false; break }
            out[i] = (x &- 65) < 26 ? x | 0x20 : x
        }
        if ascii { return out }
        return Array(String(decoding: b, as: UTF8.self).lowercased().utf8)
    }

    @inline(__always) static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool { a == b }

    static func hasPrefix(_ s: [UInt8], _ p: [UInt8]) -> Bool {
        guard p.count <= s.count else { return false }
        for i in 0..<p.count where s[i] != p[i] { return false }
        return true
    }

    static func hasSuffix(_ s: [UInt8], _ p: [UInt8]) -> Bool {
        guard p.count <= s.count else { return false }
        let off = s.count - p.count
        for i in 0..<p.count where s[off + i] != p[i] { return false }
        return true
    }

    static func contains(_ s: [UInt8], _ p: [UInt8]) -> Bool {
        if p.isEmpty { return true }
        guard p.count <= s.count else { return false }
        return s.withUnsafeBufferPointer { sb in
            p.withUnsafeBufferPointer { pb in
                let first = pb[0]
                let last = s.count - p.count
                var i = 0
                while i <= last {
                    if sb[i] == first {
                        var j = 1
                        while j < pb.count, sb[i + j] == pb[j] { j += 1 }
                        if j == pb.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    /// Length of the UTF-8 sequence starting with `lead`.
    @inline(__always) static func seqLen(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    /// Wildcard match with `*` (any run) and `?` (one character): the classic star-backtrack
    /// loop, O(pattern × text) at worst, never exponential.
    static func wildcard(_ s: [UInt8], _ toks: [WildcardToken]) -> Bool {
        var ti = 0, si = 0
        var starT = -1, starS = 0
        while si < s.count || ti < toks.count {
            if ti < toks.count {
                switch toks[ti] {
                case .star:
                    starT = ti; starS = si; ti += 1
                    continue
                case .one:
                    if si < s.count { si += seqLen(s[si]); ti += 1; continue }
                case .literal(let lit):
                    if si + lit.count <= s.count {
                        var ok = true
                        for k in 0..<lit.count where s[si + k] != lit[k] { ok = false; break }
                        if ok { si += lit.count; ti += 1; continue }
                    }
                }
            }
            guard starT >= 0, starS < s.count else { return false }
            starS += seqLen(s[starS])
            si = starS
            ti = starT + 1
        }
        return true
    }
}

/// How `|fieldref` compares a field's value with the other field's.
public enum FieldRefMatch: String, Sendable, Hashable {
    case equals, contains, startswith, endswith
}
