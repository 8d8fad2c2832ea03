/// The network range an address falls in, as CIDR text: `203.0.113.0/24`, `2001:db8:1::/48`.
/// IPv4-mapped IPv6 (`::ffff:203.0.113.7`) counts as IPv4. Nil for text that is not an address.
public enum IPRange {
    public static func of(_ address: String, ipv4Prefix: Int = 24, ipv6Prefix: Int = 48) -> String? {
        if let v4 = plainIPv4(address) { return format4(v4, ipv4Prefix) }
        var text = Substring(address)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { text = text[text.index(after: text.startIndex)..<close] }
        if let pct = text.firstIndex(of: "%") { text = text[..<pct] }
        if let v4 = ipv4(text) { return format4(v4, ipv4Prefix) }
        guard let v6 = ipv6(text) else { return nil }
        if v6[0..<5].allSatisfy({ $0 == 0 }), v6[5] == 0xFFFF {
            return format4(UInt32(v6[6]) << 16 | UInt32(v6[7]), ipv4Prefix)
        }
        return format6(v6, ipv6Prefix)
    }

    /// Fast path for the common case, a bare dotted quad, read from its UTF-8 bytes (this runs
    /// for every event the anomaly rules see). Anything else goes the general way.
    static func plainIPv4(_ address: String) -> UInt32? {
        var address = address
        return address.withUTF8 { b -> UInt32? in
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
    }

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
