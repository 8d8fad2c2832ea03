// A linear-time regular-expression engine for Sigma's `|re` (ReDoS-safe by construction).
//
// Patterns compile to a Thompson NFA that a Pike VM simulates: every input position is visited
// once with at most one thread per instruction, so matching costs O(pattern × input) whatever the
// pattern. Supported (the RE2-compatible subset Sigma rules use): literals and escapes, `.`,
// classes `[...]` with ranges, negation and `\d \w \s \D \W \S`, alternation, groups `( )`,
// `(?: )`, named groups, quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy; the answer is
// match/no-match so both behave the same), anchors `^ $ \A \z \Z \b \B`, flags i/m/s (from the
// modifiers or inline `(?i)`/`(?i: )`). Rejected with the position and the feature's name:
// backreferences, lookahead/lookbehind, atomic groups, possessive quantifiers, `\p{…}`.
//
// Matching is on Unicode scalars; the search is unanchored (Sigma semantics).

public struct RegexFlags: Sendable, Hashable {
    public var caseInsensitive = false
    public var multiline = false
    public var dotAll = false
    public init(caseInsensitive: Bool = false, multiline: Bool = false, dotAll: Bool = false) {
        self.caseInsensitive = caseInsensitive
        self.multiline = multiline
        self.dotAll = dotAll
    }
}

public struct RegexError: Error, Sendable, CustomStringConvertible {
    /// `rule.bad-regex` for syntax, `rule.unsupported-feature` for a construct we refuse.
    public var code: String
    public var message: String
    /// 0-based character offset in the pattern.
    public var offset: Int
    public var description: String { "\(message) (at offset \(offset))" }
}

public struct SafeRegex: Sendable, CustomStringConvertible {
    enum Inst: Sendable {
        case char(UInt32)
        case charFold(UInt32)          // compares folded input to folded char
        case any                       // any scalar but \n
        case anyAll                    // any scalar
        case set(Int)                  // index into classes
        case split(Int, Int)
        case jmp(Int)
        case bol, eol                  // ^ $ (multiline aware through flags at compile time)
        case bolText, eolText, eolTextNewline   // \A \z \Z ($ without m)
        case wordBoundary(Bool)
        case match
    }

    struct CharSet: Sendable {
        var ranges: [(UInt32, UInt32)]
        var negated: Bool
        var fold: Bool
        func contains(_ c: UInt32) -> Bool {
            var hit = ranges.contains { c >= $0.0 && c <= $0.1 }
            if !hit, fold {
                let l = SafeRegex.fold(c), u = SafeRegex.upper(c)
                hit = ranges.contains { (l >= $0.0 && l <= $0.1) || (u >= $0.0 && u <= $0.1) }
            }
            return hit != negated
        }
    }

    let program: [Inst]
    let classes: [CharSet]
    public let pattern: String
    public let flags: RegexFlags

    public var description: String { "/\(pattern)/" + (flags.caseInsensitive ? "i" : "") + (flags.multiline ? "m" : "") + (flags.dotAll ? "s" : "") }
    public var instructionCount: Int { program.count }

    static let maxInstructions = 20_000

    public init(_ pattern: String, flags: RegexFlags = RegexFlags()) throws(RegexError) {
        var parser = RegexParser(pattern: Array(pattern.unicodeScalars).map(\.value), flags: flags)
        let ast = try parser.parseAll()
        var c = RegexCompiler()
        try c.emit(ast)
        c.program.append(.match)
        self.program = c.program
        self.classes = c.classes
        self.pattern = pattern
        self.flags = flags
    }

    @inline(__always) static func fold(_ c: UInt32) -> UInt32 {
        if c < 128 { return (c &- 65) < 26 ? c | 0x20 : c }
        guard let s = Unicode.Scalar(c) else { return c }
        let l = s.properties.lowercaseMapping.unicodeScalars
        return l.count == 1 ? l.first!.value : c
    }

    static func upper(_ c: UInt32) -> UInt32 {
        if c < 128 { return (c &- 97) < 26 ? c & ~0x20 : c }
        guard let s = Unicode.Scalar(c) else { return c }
        let u = s.properties.uppercaseMapping.unicodeScalars
        return u.count == 1 ? u.first!.value : c
    }

    static func isWord(_ c: UInt32) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }

    /// True when the pattern matches somewhere in `text`.
    public func matches(_ text: String) -> Bool {
        var scalars: [UInt32] = []
        scalars.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars { scalars.append(u.value) }
        return matches(scalars: scalars)
    }

    public func matches(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        matches(String(decoding: bytes, as: UTF8.self))
    }

    /// Pike VM over scalars: O(program × input) time, O(program) space.
    func matches(scalars input: [UInt32]) -> Bool {
        let n = program.count
        var clist = ThreadList(capacity: n)
        var nlist = ThreadList(capacity: n)
        var stack: [Int] = []
        stack.reserveCapacity(16)
        let count = input.count
        for i in 0...count {
            // Unanchored search: a new thread starts at every position.
            addThread(&clist, 0, at: i, input, &stack)
            if clist.count == 0 { continue }
            let c: UInt32 = i < count ? input[i] : 0
            let cf = i < count ? SafeRegex.fold(c) : c
            nlist.clear()
            var k = 0
            while k < clist.count {
                let pc = clist.dense[k]
                k += 1
                switch program[pc] {
                case .match:
                    return true
                case .char(let x):
                    if i < count, c == x { addThread(&nlist, pc + 1, at: i + 1, input, &stack) }
                case .charFold(let x):
                    if i < count, cf == x { addThread(&nlist, pc + 1, at: i + 1, input, &stack) }
                case .any:
                    if i < count, c != 10 { addThread(&nlist, pc + 1, at: i + 1, input, &stack) }
                case .anyAll:
                    if i < count { addThread(&nlist, pc + 1, at: i + 1, input, &stack) }
                case .set(let s):
                    if i < count, classes[s].contains(c) { addThread(&nlist, pc + 1, at: i + 1, input, &stack) }
                default:
                    break
                }
            }
            swap(&clist, &nlist)
            if i == count { break }
        }
        return false
    }

    struct ThreadList {
        var dense: [Int]
        var sparse: [Int]
        var count = 0
        init(capacity: Int) {
            dense = Array(repeating: 0, count: capacity)
            sparse = Array(repeating: 0, count: capacity)
        }
        @inline(__always) func contains(_ pc: Int) -> Bool {
            let s = sparse[pc]
            return s < count && dense[s] == pc
        }
        @inline(__always) mutating func insert(_ pc: Int) {
            sparse[pc] = count
            dense[count] = pc
            count += 1
        }
        mutating func clear() { count = 0 }
    }

    /// Follows jumps, splits and assertions from `pc` at position `i`, adding consuming states.
    private func addThread(_ list: inout ThreadList, _ start: Int, at i: Int, _ input: [UInt32], _ stack: inout [Int]) {
        stack.append(start)
        while let pc = stack.popLast() {
            if list.contains(pc) { continue }
            list.insert(pc)
            switch program[pc] {
            case .jmp(let t): stack.append(t)
            case .split(let a, let b): stack.append(b); stack.append(a)
            case .bol:
                if i == 0 || input[i - 1] == 10 { stack.append(pc + 1) }
            case .eol:
                if i == input.count || input[i] == 10 { stack.append(pc + 1) }
            case .bolText:
                if i == 0 { stack.append(pc + 1) }
            case .eolText:
                if i == input.count { stack.append(pc + 1) }
            case .eolTextNewline:
                if i == input.count || (i == input.count - 1 && input[i] == 10) { stack.append(pc + 1) }
            case .wordBoundary(let want):
                let before = i > 0 && SafeRegex.isWord(input[i - 1])
                let after = i < input.count && SafeRegex.isWord(input[i])
                if (before != after) == want { stack.append(pc + 1) }
            default:
                break
            }
        }
    }
}

// MARK: - Parsing

indirect enum RegexNode {
    case empty
    case char(UInt32, fold: Bool)
    case any(dotAll: Bool)
    case set(SafeRegex.CharSet)
    case concat([RegexNode])
    case alt([RegexNode])
    case repeatNode(RegexNode, min: Int, max: Int?)   // max nil = unbounded
    case assert(SafeRegex.Inst)
}

struct RegexParser {
    let p: [UInt32]
    var i = 0
    var flags: RegexFlags

    init(pattern: [UInt32], flags: RegexFlags) {
        self.p = pattern
        self.flags = flags
    }

    func fail(_ message: String, _ at: Int? = nil) -> RegexError {
        RegexError(code: "rule.bad-regex", message: message, offset: at ?? i)
    }

    func unsupported(_ feature: String, _ at: Int) -> RegexError {
        RegexError(code: "rule.unsupported-feature", message: "\(feature) is not supported by the linear-time regex engine", offset: at)
    }

    var peek: UInt32? { i < p.count ? p[i] : nil }

    func isChar(_ c: Character) -> Bool { peek == c.unicodeScalars.first!.value }

    mutating func parseAll() throws(RegexError) -> RegexNode {
        let n = try parseAlt(depth: 0)
        if i < p.count {
            throw fail(isChar(")") ? "unmatched ')'" : "unexpected character")
        }
        return n
    }

    mutating func parseAlt(depth: Int) throws(RegexError) -> RegexNode {
        guard depth < 200 else { throw fail("groups nested too deeply") }
        var alts = [try parseConcat(depth: depth)]
        while isChar("|") {
            i += 1
            alts.append(try parseConcat(depth: depth))
        }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    mutating func parseConcat(depth: Int) throws(RegexError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek, c != 0x7C /* | */, c != 0x29 /* ) */ {
            // Inline flags on their own, `(?i)`, change the rest of this group.
            if c == 0x28, i + 2 < p.count, p[i + 1] == 0x3F, let end = inlineFlagsEnd(), p[end] == 0x29 {
                try applyFlags(from: i + 2, to: end)
                i = end + 1
                continue
            }
            let atomStart = i
            var atom = try parseAtom(depth: depth)
            atom = try parseQuantifiers(atom, atomStart: atomStart)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    /// Index of the `)` or `:` ending an inline flag group `(?ims-ims`, if this is one.
    func inlineFlagsEnd() -> Int? {
        var j = i + 2
        while j < p.count, let s = Unicode.Scalar(p[j]), "imsU-".unicodeScalars.contains(s) { j += 1 }
        guard j > i + 2, j < p.count, p[j] == 0x29 || p[j] == 0x3A else { return nil }
        return j
    }

    mutating func applyFlags(from a: Int, to b: Int) throws(RegexError) {
        var on = true
        for j in a..<b {
            switch p[j] {
            case 0x2D: on = false
            case 0x69: flags.caseInsensitive = on
            case 0x6D: flags.multiline = on
            case 0x73: flags.dotAll = on
            case 0x55: break   // ungreedy: irrelevant for match/no-match
            default: throw fail("unknown inline flag", j)
            }
        }
    }

    mutating func parseQuantifiers(_ atom: RegexNode, atomStart: Int) throws(RegexError) -> RegexNode {
        var node = atom
        while let c = peek {
            let qStart = i
            var minR = 0, maxR: Int? = nil
            if c == 0x2A { minR = 0; maxR = nil; i += 1 }
            else if c == 0x2B { minR = 1; maxR = nil; i += 1 }
            else if c == 0x3F { minR = 0; maxR = 1; i += 1 }
            else if c == 0x7B, let (a, b, end) = counted() {
                guard a <= (b ?? a), a <= 1000, (b ?? 0) <= 1000 else { throw fail("bad repetition count (at most 1000)", qStart) }
                minR = a; maxR = b; i = end
            } else { break }
            if case .assert = node { throw fail("nothing to repeat", qStart) }
            if case .empty = node { throw fail("nothing to repeat", qStart) }
            if isChar("?") { i += 1 }                         // lazy: same answer
            else if isChar("+") { throw unsupported("possessive quantifier", i) }
            node = .repeatNode(node, min: minR, max: maxR)
        }
        _ = atomStart
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}` at `i`: (min, max, index after `}`); nil when it is a literal `{`.
    func counted() -> (Int, Int?, Int)? {
        var j = i + 1
        func num() -> Int? {
            var v = 0, any = false
            while j < p.count, p[j] >= 48, p[j] <= 57 { v = min(v * 10 + Int(p[j] - 48), 100_000); j += 1; any = true }
            return any ? v : nil
        }
        guard let a = num() else { return nil }
        if j < p.count, p[j] == 0x7D { return (a, a, j + 1) }
        guard j < p.count, p[j] == 0x2C else { return nil }
        j += 1
        if j < p.count, p[j] == 0x7D { return (a, nil, j + 1) }
        guard let b = num(), j < p.count, p[j] == 0x7D else { return nil }
        return (a, b, j + 1)
    }

    mutating func parseAtom(depth: Int) throws(RegexError) -> RegexNode {
        let start = i
        let c = p[i]
        switch c {
        case 0x28: // (
            i += 1
            let saved = flags
            if isChar("?") {
                guard i + 1 < p.count else { throw fail("unterminated group", start) }
                let k = p[i + 1]
                switch k {
                case 0x3A: i += 2                                        // (?:
                case 0x3D: throw unsupported("lookahead '(?='", start)
                case 0x21: throw unsupported("negative lookahead '(?!'", start)
                case 0x3E: throw unsupported("atomic group '(?>'", start)
                case 0x3C: // (?<name> or lookbehind
                    if i + 2 < p.count, p[i + 2] == 0x3D { throw unsupported("lookbehind '(?<='", start) }
                    if i + 2 < p.count, p[i + 2] == 0x21 { throw unsupported("negative lookbehind '(?<!'", start) }
                    try skipGroupName(close: 0x3E, from: i + 2)
                case 0x50: // (?P<name> or (?P=name)
                    if i + 2 < p.count, p[i + 2] == 0x3D { throw unsupported("backreference '(?P=name)'", start) }
                    guard i + 2 < p.count, p[i + 2] == 0x3C else { throw fail("bad group syntax", start) }
                    try skipGroupName(close: 0x3E, from: i + 3)
                case 0x27: try skipGroupName(close: 0x27, from: i + 2)     // (?'name'
                case 0x23: throw unsupported("comment group '(?#'", start)
                default:
                    i = start
                    guard let end = inlineFlagsEnd(), p[end] == 0x3A else { throw fail("unknown group syntax '(?\(String(Unicode.Scalar(k).map { Character($0) } ?? "?"))'", start) }
                    try applyFlags(from: start + 2, to: end)
                    i = end + 1
                }
            }
            let inner = try parseAlt(depth: depth + 1)
            guard isChar(")") else { throw fail("missing ')' for the group opened here", start) }
            i += 1
            flags = saved
            return inner
        case 0x5B: return try parseClass()
        case 0x2E: i += 1; return .any(dotAll: flags.dotAll)
        case 0x5E: i += 1; return .assert(flags.multiline ? .bol : .bolText)
        case 0x24: i += 1; return .assert(flags.multiline ? .eol : .eolTextNewline)
        case 0x5C: return try parseEscape(inClass: false)
        case 0x2A, 0x2B, 0x3F: throw fail("nothing to repeat")
        case 0x7B:
            if counted() != nil { throw fail("nothing to repeat") }
            i += 1; return literal(c)
        default:
            i += 1
            return literal(c)
        }
    }

    mutating func skipGroupName(close: UInt32, from j0: Int) throws(RegexError) {
        var j = j0
        while j < p.count, p[j] != close { j += 1 }
        guard j < p.count, j > j0 else { throw fail("bad group name") }
        i = j + 1
    }

    func literal(_ c: UInt32) -> RegexNode {
        flags.caseInsensitive && SafeRegex.fold(c) != SafeRegex.upper(c) ? .char(SafeRegex.fold(c), fold: true) : .char(c, fold: false)
    }

    static let digit: [(UInt32, UInt32)] = [(48, 57)]
    static let word: [(UInt32, UInt32)] = [(48, 57), (65, 90), (97, 122), (95, 95)]
    static let space: [(UInt32, UInt32)] = [(9, 13), (32, 32)]

    static func complement(_ r: [(UInt32, UInt32)]) -> [(UInt32, UInt32)] {
        var out: [(UInt32, UInt32)] = []
        var next: UInt32 = 0
        for (a, b) in r.sorted(by: { $0.0 < $1.0 }) {
            if a > next { out.append((next, a - 1)) }
            next = max(next, b + 1)
        }
        if next <= 0x10FFFF { out.append((next, 0x10FFFF)) }
        return out
    }

    /// Escape at `i` (a backslash). Outside classes returns a node; inside, use `classEscape`.
    mutating func parseEscape(inClass: Bool) throws(RegexError) -> RegexNode {
        let start = i
        i += 1
        guard let c = peek else { throw fail("trailing backslash", start) }
        i += 1
        switch c {
        case 0x64: return .set(.init(ranges: Self.digit, negated: false, fold: false))        // d
        case 0x44: return .set(.init(ranges: Self.digit, negated: true, fold: false))         // D
        case 0x77: return .set(.init(ranges: Self.word, negated: false, fold: false))         // w
        case 0x57: return .set(.init(ranges: Self.word, negated: true, fold: false))          // W
        case 0x73: return .set(.init(ranges: Self.space, negated: false, fold: false))        // s
        case 0x53: return .set(.init(ranges: Self.space, negated: true, fold: false))         // S
        case 0x62: return .assert(.wordBoundary(true))                                         // b
        case 0x42: return .assert(.wordBoundary(false))                                        // B
        case 0x41: return .assert(.bolText)                                                    // A
        case 0x7A: return .assert(.eolText)                                                    // z
        case 0x5A: return .assert(.eolTextNewline)                                             // Z
        case 0x31...0x39: throw unsupported("backreference '\\\(Character(Unicode.Scalar(c)!))'", start)
        case 0x6B: throw unsupported("named backreference '\\k'", start)
        case 0x70, 0x50: throw unsupported("Unicode property class '\\\(Character(Unicode.Scalar(c)!)){…}'", start)
        case 0x47: throw unsupported("'\\G' anchor", start)
        case 0x4B: throw unsupported("'\\K' match reset", start)
        default:
            i -= 1
            return literal(try escapedChar(start))
        }
    }

    /// A single-character escape at `i` (after the backslash): \n \t \xHH \x{H…} \uHHHH \0 or a literal.
    mutating func escapedChar(_ start: Int) throws(RegexError) -> UInt32 {
        let c = p[i]
        i += 1
        switch c {
        case 0x6E: return 10
        case 0x72: return 13
        case 0x74: return 9
        case 0x66: return 12
        case 0x76: return 11
        case 0x61: return 7
        case 0x65: return 27
        case 0x30: return 0
        case 0x78: // x
            if isChar("{") {
                var j = i + 1, v: UInt32 = 0
                while j < p.count, p[j] != 0x7D { guard let d = hex(p[j]) else { throw fail("bad \\x{…} escape", start) }; v = v &* 16 &+ d; j += 1 }
                guard j < p.count, v <= 0x10FFFF else { throw fail("bad \\x{…} escape", start) }
                i = j + 1
                return v
            }
            guard i + 1 < p.count, let a = hex(p[i]), let b = hex(p[i + 1]) else { throw fail("bad \\x escape", start) }
            i += 2
            return a * 16 + b
        case 0x75: // u
            guard i + 3 < p.count else { throw fail("bad \\u escape", start) }
            var v: UInt32 = 0
            for k in 0..<4 { guard let d = hex(p[i + k]) else { throw fail("bad \\u escape", start) }; v = v * 16 + d }
            i += 4
            return v
        default:
            if (c >= 65 && c <= 90) || (c >= 97 && c <= 122) {
                throw fail("unknown escape '\\\(Character(Unicode.Scalar(c)!))'", start)
            }
            return c
        }
    }

    func hex(_ c: UInt32) -> UInt32? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    mutating func parseClass() throws(RegexError) -> RegexNode {
        let start = i
        i += 1
        var negated = false
        if isChar("^") { negated = true; i += 1 }
        var ranges: [(UInt32, UInt32)] = []
        var first = true
        while true {
            guard let c = peek else { throw fail("missing ']' for the class opened here", start) }
            if c == 0x5D, !first { i += 1; break }
            first = false
            if c == 0x5B, i + 1 < p.count, p[i + 1] == 0x3A {
                // POSIX class [:alpha:]
                var j = i + 2
                while j < p.count, p[j] != 0x3A { j += 1 }
                guard j + 1 < p.count, p[j + 1] == 0x5D else { throw fail("bad POSIX class", i) }
                let name = String(String.UnicodeScalarView(p[(i + 2)..<j].compactMap(Unicode.Scalar.init)))
                switch name {
                case "alpha": ranges += [(65, 90), (97, 122)]
                case "digit": ranges += Self.digit
                case "alnum": ranges += [(48, 57), (65, 90), (97, 122)]
                case "space": ranges += Self.space
                case "upper": ranges += [(65, 90)]
                case "lower": ranges += [(97, 122)]
                case "xdigit": ranges += [(48, 57), (65, 70), (97, 102)]
                case "word": ranges += Self.word
                case "punct": ranges += [(33, 47), (58, 64), (91, 96), (123, 126)]
                default: throw fail("unknown POSIX class '[:\(name):]'", i)
                }
                i = j + 2
                continue
            }
            var lo: UInt32
            if c == 0x5C {
                let escStart = i
                i += 1
                guard let e = peek else { throw fail("trailing backslash", escStart) }
                switch e {
                case 0x64: ranges += Self.digit; i += 1; continue
                case 0x44: ranges += Self.complement(Self.digit); i += 1; continue
                case 0x77: ranges += Self.word; i += 1; continue
                case 0x57: ranges += Self.complement(Self.word); i += 1; continue
                case 0x73: ranges += Self.space; i += 1; continue
                case 0x53: ranges += Self.complement(Self.space); i += 1; continue
                case 0x62: lo = 8; i += 1
                case 0x70, 0x50: throw unsupported("Unicode property class", escStart)
                default: lo = try escapedChar(escStart)
                }
            } else {
                lo = c
                i += 1
            }
            var hi = lo
            if isChar("-"), i + 1 < p.count, p[i + 1] != 0x5D {
                i += 1
                let hc = p[i]
                if hc == 0x5C {
                    let escStart = i
                    i += 1
                    hi = try escapedChar(escStart)
                } else {
                    hi = hc
                    i += 1
                }
                guard hi >= lo else { throw fail("class range out of order", i - 1) }
            }
            ranges.append((lo, hi))
        }
        return .set(.init(ranges: ranges, negated: negated, fold: flags.caseInsensitive))
    }
}

// MARK: - Compiling to the VM program

struct RegexCompiler {
    var program: [SafeRegex.Inst] = []
    var classes: [SafeRegex.CharSet] = []

    mutating func check() throws(RegexError) {
        if program.count > SafeRegex.maxInstructions {
            throw RegexError(code: "rule.bad-regex", message: "pattern too large after expanding repetitions (more than \(SafeRegex.maxInstructions) states)", offset: 0)
        }
    }

    mutating func emit(_ node: RegexNode) throws(RegexError) {
        try check()
        switch node {
        case .empty: break
        case .char(let c, let fold): program.append(fold ? .charFold(c) : .char(c))
        case .any(let all): program.append(all ? .anyAll : .any)
        case .set(let s):
            classes.append(s)
            program.append(.set(classes.count - 1))
        case .assert(let a): program.append(a)
        case .concat(let xs): for x in xs { try emit(x) }
        case .alt(let xs):
            // split L1, next; L1: x0; jmp end; next: split …
            var jumps: [Int] = []
            for (k, x) in xs.enumerated() {
                if k < xs.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, 0))
                    try emit(x)
                    jumps.append(program.count)
                    program.append(.jmp(0))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(x)
                }
            }
            for j in jumps { program[j] = .jmp(program.count) }
        case .repeatNode(let x, let minR, let maxR):
            for _ in 0..<minR { try emit(x) }
            if let maxR {
                // (x(x(x)?)?)? for the optional part
                var splits: [Int] = []
                for _ in minR..<maxR {
                    splits.append(program.count)
                    program.append(.split(0, 0))
                    try emit(x)
                }
                for s in splits { program[s] = .split(s + 1, program.count) }
            } else {
                let loop = program.count
                program.append(.split(0, 0))
                try emit(x)
                program.append(.jmp(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
    }
}
