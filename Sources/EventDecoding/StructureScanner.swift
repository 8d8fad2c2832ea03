// A resumable scan of one JSON document's structure: strings, escapes and nesting depth only,
// no values. It finds where the document ends and cuts out the byte span of every element of
//  - a root array `[…]`, or
//  - the array under a root-level `records` or `value` key (`{"records":[…]}` envelopes, REST lists),
// so a 3 GB pretty-printed envelope is parsed one element at a time, never whole.
//
// Feed it the bytes in order, in as many pieces as needed; positions are indices into the piece
// being scanned. It does not validate: the elements it cuts out are parsed (and rejected) later.
struct StructureScanner {
    enum Mark: Equatable {
        case elementStart(Int)
        /// One past the element's last byte.
        case elementEnd(Int)
        /// One past the document's last byte.
        case documentEnd(Int)
    }

    private enum KeyState { case none, expectKey, inKey, afterKey, afterColon }

    private(set) var depth = 0
    private var inString = false
    private var escaped = false
    private var rootIsObject = false
    private var keyState = KeyState.none
    private var key: UInt64 = 0
    private var keyLength = 0
    /// Depth whose direct children are cut out as elements (1 root array, 2 envelope); 0 = none yet.
    private var elementDepth = 0
    private var inScalarElement = false
    private var inStringElement = false
    private(set) var elementOpen = false
    /// True once a root array or an envelope's array was found: the document is read element by
    /// element and nothing before the current element needs to be kept.
    private(set) var splits = false
    /// Line breaks passed so far.
    private(set) var newlines = 0
    /// Line breaks passed before the first raw control character inside a string (invalid JSON,
    /// e.g. a string wrapped across lines), or nil.
    private(set) var firstRawControl: Int?

    // "records" and "value", ASCII-folded, packed little-endian.
    private static let recordsKey: UInt64 = pack("records")
    private static let valueKey: UInt64 = pack("value")

    private static func pack(_ s: StaticString) -> UInt64 {
        var v: UInt64 = 0
        let p = s.utf8Start
        for i in 0..<s.utf8CodeUnitCount { v |= UInt64(p[i]) << (8 * UInt64(i)) }
        return v
    }

    /// Scans from `i` up to `end`, stopping at the next mark. Returns nil when it needs more bytes.
    /// A mark may be returned without consuming the byte that produced it (a scalar element ends
    /// at the `,` or `]` that is then scanned again).
    mutating func next(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) -> Mark? {
        while i < end {
            let b = p[i]
            if inString {
                if escaped {
                    escaped = false
                } else if b == 0x5C {
                    escaped = true
                } else if b == 0x22 {
                    inString = false
                    i += 1
                    if keyState == .inKey { keyState = .afterKey }
                    if inStringElement {
                        inStringElement = false
                        elementOpen = false
                        return .elementEnd(i)
                    }
                    continue
                } else if b < 0x20 {
                    if firstRawControl == nil { firstRawControl = newlines }
                    if b == 0x0A { newlines += 1 }
                } else if keyState == .inKey {
                    if keyLength < 8 { key |= UInt64(b | (b &- 65 < 26 ? 0x20 : 0)) << (8 * UInt64(keyLength)) }
                    keyLength += 1
                }
                i += 1
                continue
            }
            if inScalarElement {
                if b == 0x2C || b == 0x5D || b == 0x7D || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 {
                    inScalarElement = false
                    elementOpen = false
                    return .elementEnd(i)
                }
                i += 1
                continue
            }
            switch b {
            case 0x22: // "
                inString = true
                i += 1
                if elementDepth > 0, depth == elementDepth, !elementOpen {
                    elementOpen = true
                    inStringElement = true
                    return .elementStart(i - 1)
                }
                if depth == 1, rootIsObject {
                    if keyState == .expectKey {
                        keyState = .inKey
                        key = 0
                        keyLength = 0
                    } else if keyState == .afterColon {
                        keyState = .none
                    }
                }
            case 0x7B, 0x5B: // { [
                var mark: Mark?
                if elementDepth > 0, depth == elementDepth, !elementOpen {
                    elementOpen = true
                    mark = .elementStart(i)
                }
                if depth == 0 {
                    rootIsObject = b == 0x7B
                    if rootIsObject { keyState = .expectKey } else { elementDepth = 1; splits = true }
                } else if depth == 1, rootIsObject, keyState == .afterColon {
                    if b == 0x5B, !splits, keyLength <= 8, key == Self.recordsKey || key == Self.valueKey {
                        elementDepth = 2
                        splits = true
                    }
                    keyState = .none
                }
                depth += 1
                i += 1
                if let mark { return mark }
            case 0x7D, 0x5D: // } ]
                i += 1
                if depth == 0 { return .documentEnd(i) }   // stray closer: let the parser report it
                depth -= 1
                if elementDepth > 0 {
                    if depth == elementDepth, elementOpen {
                        elementOpen = false
                        return .elementEnd(i)
                    }
                    if depth == elementDepth - 1 { elementDepth = 0 }   // the split array closed
                }
                if depth == 0 { return .documentEnd(i) }
            case 0x3A: // :
                if depth == 1, keyState == .afterKey { keyState = .afterColon }
                i += 1
            case 0x2C: // ,
                if depth == 1, rootIsObject { keyState = .expectKey }
                i += 1
            case 0x0A:
                newlines += 1
                i += 1
            case 0x20, 0x0D, 0x09:
                i += 1
            default:
                if elementDepth > 0, depth == elementDepth, !elementOpen {
                    elementOpen = true
                    inScalarElement = true
                    i += 1
                    return .elementStart(i - 1)
                }
                if depth == 1, keyState == .afterColon { keyState = .none }
                i += 1
            }
        }
        return nil
    }

    /// Line breaks passed inside the current string element or scalar are counted already; this
    /// is for callers that need to know whether the scan stopped inside a string.
    var isInsideString: Bool { inString }
}
