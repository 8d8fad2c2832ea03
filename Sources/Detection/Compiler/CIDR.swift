// IPv4 and IPv6 networks for `|cidr`. Addresses are kept as 16 bytes (IPv4 as ::ffff:a.b.c.d) so
// one comparison serves both families; an IPv4 network never matches an IPv6 address and back.

public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let address: [UInt8]   // 16 bytes, host bits cleared
    public let prefix: Int         // 0…128 over the 16-byte form
    public let isV4: Bool
    public let text: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addr = CIDR.parseIP(String(parts[0])) else { return nil }
        let v4 = CIDR.isV4Mapped(addr) && !parts[0].contains(":")
        var bits = v4 ? 32 : 128
        if parts.count == 2 {
            guard let b = Int(parts[1]), b >= 0, b <= bits else { return nil }
            bits = b
        }
        let prefix = v4 ? bits + 96 : bits
        var masked = addr
        for i in 0..<16 {
            let keep = max(0, min(8, prefix - i * 8))
            masked[i] &= keep == 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        self.address = masked
        self.prefix = prefix
        self.isV4 = v4
        self.text = text
    }

    public var description: String { text }

    public func contains(_ ip: [UInt8]) -> Bool {
        guard ip.count == 16 else { return false }
        if isV4 != CIDR.isV4Mapped(ip) { return false }
        var bits = prefix
        var i = 0
        while bits >= 8 {
            if ip[i] != address[i] { return false }
            bits -= 8; i += 1
        }
        if bits > 0 {
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if ip[i] & mask != address[i] { return false }
        }
        return true
    }

    static func isV4Mapped(_ a: [UInt8]) -> Bool {
        a[0..<10].allSatisfy { $0 == 0 } && a[10] == 0xFF && a[11] == 0xFF
    }

    /// Parses an IPv4 or IPv6 address (zone ids and brackets stripped; IPv4 `a.b.c.d:port` accepted).
    public static func parseIP(_ s0: String) -> [UInt8]? {
        var s = Substring(s0.trimmingCharacters(in: " \t"))
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            s = s[s.index(after: s.startIndex)..<close]
        }
        if let pct = s.firstIndex(of: "%") { s = s[..<pct] }
        if !s.contains(":") || (s.filter({ $0 == ":" }).count == 1 && s.contains(".")) {
            if let colon = s.firstIndex(of: ":") { s = s[..<colon] }
            guard let v4 = parseV4(s) else { return nil }
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4
        }
        return parseV6(s)
    }

    static func parseV4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let v = Int(p), v <= 255 else { return nil }
            out.append(UInt8(v))
        }
        return out
    }

    static func parseV6(_ s: Substring) -> [UInt8]? {
        var head: [UInt16] = [], tail: [UInt16] = []
        var sawGap = false
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        if halves.count == 2 { sawGap = true }
        func groups(_ t: String, allowV4: Bool) -> [UInt16]? {
            if t.isEmpty { return [] }
            var out: [UInt16] = []
            let parts = t.split(separator: ":", omittingEmptySubsequences: false)
            for (i, p) in parts.enumerated() {
                if allowV4, i == parts.count - 1, p.contains(".") {
                    guard let v4 = parseV4(p) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard !p.isEmpty, p.count <= 4, let v = UInt16(p, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let h = groups(halves[0], allowV4: !sawGap) else { return nil }
        head = h
        if sawGap {
            guard let t = groups(halves[1], allowV4: true) else { return nil }
            tail = t
        }
        let total = head.count + tail.count
        if sawGap { guard total < 8 else { return nil } } else { guard total == 8 else { return nil } }
        let all = head + Array(repeating: 0, count: 8 - total) + tail
        var out: [UInt8] = []
        for g in all { out.append(UInt8(g >> 8)); out.append(UInt8(g & 0xFF)) }
        return out
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
