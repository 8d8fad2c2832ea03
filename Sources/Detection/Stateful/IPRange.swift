/// The network range an address falls in, as CIDR text: `203.0.113.0/24`, `2001:db8:1::/48`.
/// IPv4-mapped IPv6 (`::ffff:203.0.113.7`) counts as IPv4. Nil for text that is not an address.
public enum IPRange {
    public static func of(_ address: String, ipv4Prefix: Int = 24, ipv6Prefix: Int = 48) -> String? {
        IPAddress(address).map { $0.network(ipv4Prefix: ipv4Prefix, ipv6Prefix: ipv6Prefix).text }
    }

    /// Fast path for the common case, a bare dotted quad, read from its UTF-8 bytes.
    static func plainIPv4(_ b: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard b.count >= 7, b.count <= 15 else { return nil }
        var v: UInt32 = 0, part: UInt32 = 0, digits = 0, dots = 0
        for c in b {
            if c >= 48, c <= 57 {
                part = part * 10 + UInt32(c - 48)
                digits += 1
                guard digits <= 3, part <= 255 else { return nil }
            } else if c == 46 {
                guard digits > 0 else { return nil }
                v = v << 8 | part; part = 0; digits = 0; dots += 1
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return v << 8 | part
    }

    /// IPv6 text made only of hex digits, colons and dots (how Azure writes caller addresses),
    /// read from its bytes: eight groups, or fewer around one `::`, the last group of either side
    /// optionally a dotted quad. Nil when the text has any other byte, or is not an address
    /// (the same answers `ipv6` gives on such text, without splitting into substrings).
    static func plainIPv6(_ b: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        var groups: (UInt64, UInt64) = (0, 0)   // 8 groups of 16 bits, hi then lo
        var head = 0                            // groups before `::`
        // Groups after `::`, as a 128-bit shift register (hi, lo): each new group enters at the
        // low end, so at the end they sit in the last `count` positions, where they belong.
        var tail: (UInt64, UInt64) = (0, 0)
        func push(_ g: UInt16) {
            tail.0 = tail.0 << 16 | tail.1 >> 48
            tail.1 = tail.1 << 16 | UInt64(g)
        }
        var count = 0                           // groups on the current side
        var doubleColon = false
        var i = 0
        let n = b.count
        func put(_ g: UInt16, _ k: Int) {
            if k < 4 { groups.0 |= UInt64(g) << UInt64(48 - 16 * k) } else { groups.1 |= UInt64(g) << UInt64(48 - 16 * (k - 4)) }
        }
        guard n >= 2 else { return nil }
        // One side: items separated by single colons, ending at `::` or the end.
        while true {
            if i + 1 < n, b[i] == 58, b[i + 1] == 58 {
                if doubleColon { return nil }                  // a second `::`
                if i + 2 < n, b[i + 2] == 58 { return nil }    // `:::`
                doubleColon = true
                head = count
                count = 0
                i += 2
                if i == n { break }
                continue
            }
            // One item: up to the next colon or the end.
            var j = i
            var value: UInt32 = 0
            var dots = 0
            while j < n, b[j] != 58 {
                let c = b[j]
                switch c {
                case 48...57: value = value &* 16 &+ UInt32(c - 48)
                case 97...102: value = value &* 16 &+ UInt32(c - 87)
                case 65...70: value = value &* 16 &+ UInt32(c - 55)
                case 46: dots += 1
                default: return nil
                }
                j += 1
            }
            let len = j - i
            guard len > 0 else { return nil }                  // empty item (`:1`, `1:`, `1::2:`)
            let last = j == n || (j + 1 < n && b[j + 1] == 58)
            if dots > 0 {
                guard last, let v4 = plainIPv4(UnsafeBufferPointer(rebasing: b[i..<j])) else { return nil }
                for g in [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)] {
                    guard count < 8 else { return nil }
                    if doubleColon { push(g) } else { put(g, count) }
                    count += 1
                }
            } else {
                guard len <= 4 else { return nil }
                guard count < 8 else { return nil }
                if doubleColon { push(UInt16(value)) } else { put(UInt16(value), count) }
                count += 1
            }
            if j == n { break }
            i = j + 1                                          // past a single colon (a `::` is seen above)
            if i == n { return nil }                           // trailing single colon
            if b[i] == 58 { i = j }                            // `::` next: handled at the top
        }
        if doubleColon {
            guard 8 - head - count >= 1 else { return nil }
            return (groups.0 | tail.0, groups.1 | tail.1)
        }
        return count == 8 ? groups : nil
    }

    // MARK: the general way (brackets, zone ids, anything unusual)

    static func ipv4(_ s: Substring) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, let b = UInt32(p), b <= 255 else { return nil }
            v = v << 8 | b
        }
        return v
    }

    static func ipv6(_ s: Substring) -> [UInt16]? {
        guard s.contains(":") else { return nil }
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        let halves = s.splitOnDoubleColon()
        guard halves.count <= 2 else { return nil }
        func parse(_ part: Substring, into out: inout [UInt16]) -> Bool {
            guard !part.isEmpty else { return true }
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if i == items.count - 1, item.contains("."), let v4 = ipv4(item) {
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard !item.isEmpty, item.count <= 4, let g = UInt16(item, radix: 16) else { return false }
                out.append(g)
            }
            return true
        }
        guard parse(halves[0], into: &groups) else { return nil }
        if halves.count == 2 {
            guard parse(halves[1], into: &tail) else { return nil }
            let fill = 8 - groups.count - tail.count
            guard fill >= 1 else { return nil }
            groups += Array(repeating: 0, count: fill) + tail
        }
        return groups.count == 8 ? groups : nil
    }

    static func format4(_ v: UInt32, _ prefix: Int) -> String {
        let p = max(0, min(32, prefix))
        let mask: UInt32 = p == 0 ? 0 : ~UInt32(0) << (32 - p)
        let n = v & mask
        // Built byte by byte: string interpolation of five integers dominated this function.
        return String(unsafeUninitializedCapacity: 19) { out in
            var k = 0
            func put(_ x: UInt32) {
                if x >= 100 { out[k] = UInt8(48 + x / 100); k += 1 }
                if x >= 10 { out[k] = UInt8(48 + x / 10 % 10); k += 1 }
                out[k] = UInt8(48 + x % 10); k += 1
            }
            put(n >> 24); out[k] = 46; k += 1
            put(n >> 16 & 255); out[k] = 46; k += 1
            put(n >> 8 & 255); out[k] = 46; k += 1
            put(n & 255); out[k] = 47; k += 1
            put(UInt32(p))
            return k
        }
    }

    static func format6(_ g: [UInt16], _ prefix: Int) -> String {
        let p = max(0, min(128, prefix))
        var masked = g
        for i in 0..<8 {
            let bitsBefore = i * 16
            if bitsBefore >= p { masked[i] = 0 } else if bitsBefore + 16 > p {
                masked[i] &= ~UInt16(0) << (16 - (p - bitsBefore))
            }
        }
        var kept = (p + 15) / 16
        while kept > 0, masked[kept - 1] == 0 { kept -= 1 }
        let head = masked[0..<kept].map { String($0, radix: 16) }.joined(separator: ":")
        return kept == 8 ? "\(head)/\(p)" : "\(head)::/\(p)"
    }
}

/// A parsed caller address: IPv4 (IPv4-mapped IPv6 included) in the low 32 bits of `lo`, or
/// IPv6 as two 64-bit halves. Parsed once per event; each baseline space masks it to its prefix.
struct IPAddress: Hashable {
    var hi: UInt64
    var lo: UInt64
    var isV4: Bool

    init(v4: UInt32) { hi = 0; lo = UInt64(v4); isV4 = true }

    init(v6 hi: UInt64, _ lo: UInt64) {
        let mapped = hi == 0 && lo >> 32 == 0xFFFF   // ::ffff:a.b.c.d
        self.hi = hi
        self.lo = mapped ? lo & 0xFFFF_FFFF : lo
        isV4 = mapped
    }

    init?(_ address: String) {
        var address = address
        let fast: IPAddress?? = address.withUTF8 { b in
            if let v4 = IPRange.plainIPv4(b) { return .some(IPAddress(v4: v4)) }
            var colon = false
            for c in b {
                switch c {
                case 58: colon = true
                case 46, 48...57, 97...102, 65...70: continue
                default: return nil                     // brackets, zone ids, …: the general way
                }
            }
            guard colon else { return nil }
            return .some(IPRange.plainIPv6(b).map { IPAddress(v6: $0.0, $0.1) })
        }
        if let fast {
            guard let fast else { return nil }
            self = fast
            return
        }
        var text = Substring(address)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { text = text[text.index(after: text.startIndex)..<close] }
        if let pct = text.firstIndex(of: "%") { text = text[..<pct] }
        if let v4 = IPRange.ipv4(text) { self.init(v4: v4); return }
        guard let g = IPRange.ipv6(text) else { return nil }
        let hi = g[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let lo = g[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        self.init(v6: hi, lo)
    }

    /// The range this address falls in for the given prefix lengths.
    func network(ipv4Prefix: Int, ipv6Prefix: Int) -> IPNet {
        if isV4 {
            let p = max(0, min(32, ipv4Prefix))
            let mask: UInt64 = p == 0 ? 0 : UInt64(~UInt32(0) << UInt32(32 - p))
            return IPNet(hi: 0, lo: lo & mask, prefix: UInt8(p), isV4: true)
        }
        let p = max(0, min(128, ipv6Prefix))
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - bits) }
        return IPNet(hi: hi & mask(p), lo: lo & mask(p - 64), prefix: UInt8(p), isV4: false)
    }
}

/// A network (address masked to its prefix): the key of a range, turned into text only when a
/// range is first met.
struct IPNet: Hashable {
    var hi: UInt64
    var lo: UInt64
    var prefix: UInt8
    var isV4: Bool

    var hash64: UInt64 {
        mixHash(hi &* 0xFF51_AFD7_ED55_8CCD ^ lo ^ UInt64(prefix) << 56 ^ (isV4 ? 1 << 55 : 0))
    }

    var text: String {
        if isV4 { return IPRange.format4(UInt32(truncatingIfNeeded: lo), Int(prefix)) }
        let groups = (0..<8).map { k -> UInt16 in
            UInt16(truncatingIfNeeded: (k < 4 ? hi : lo) >> UInt64(48 - 16 * (k % 4)))
        }
        return IPRange.format6(groups, Int(prefix))
    }
}

extension Substring {
    /// Splits on the first `::` (an IPv6 address has at most one).
    fileprivate func splitOnDoubleColon() -> [Substring] {
        var i = startIndex
        while i < endIndex {
            let j = index(after: i)
            if j < endIndex, self[i] == ":", self[j] == ":" {
                let rest = self[index(after: j)...]
                if rest.hasPrefix(":") { return [self, self, self] }   // ":::" is not an address
                return [self[startIndex..<i], rest]
            }
            i = j
        }
        return [self]
    }
}
