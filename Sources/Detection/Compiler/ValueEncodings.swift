// Value transformations Sigma modifiers apply before matching: base64, base64offset, UTF-16
// encodings and windash. They run once, at compile time.

enum ValueEncodings {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 61]
        }
        return out
    }

    /// The three encodings of `bytes` at offsets 0, 1, 2 inside a longer base64 text, trimmed to
    /// the characters that do not depend on the neighbours (pySigma's algorithm).
    static func base64Offsets(_ bytes: [UInt8]) -> [[UInt8]] {
        let start = [0, 2, 3]
        let endTrim: [Int?] = [nil, 3, 2]
        var out: [[UInt8]] = []
        for i in 0..<3 {
            let enc = base64(Array(repeating: 0x20, count: i) + bytes)
            let trim = endTrim[(bytes.count + i) % 3] ?? 0
            let lo = start[i], hi = enc.count - trim
            if hi > lo { out.append(Array(enc[lo..<hi])) }
        }
        return out
    }

    enum UTF16Kind { case le, be, leWithBOM }

    static func utf16(_ s: [UInt8], _ kind: UTF16Kind) -> [UInt8] {
        var out: [UInt8] = kind == .leWithBOM ? [0xFF, 0xFE] : []
        for unit in String(decoding: s, as: UTF8.self).utf16 {
            let lo = UInt8(unit & 0xFF), hi = UInt8(unit >> 8)
            if kind == .be { out += [hi, lo] } else { out += [lo, hi] }
        }
        return out
    }

    /// Every variant of a command line where each option dash (`-` or `/` at the start or after a
    /// space) is any of `-`, `/`, en dash, em dash, horizontal bar. Capped at 4096 variants.
    static func windash(_ s: String) -> [String] {
        let dashes = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]
        var variants: [String] = [""]
        var prev: Character = " "
        for c in s {
            if (c == "-" || c == "/") && prev == " " && variants.count * dashes.count <= 4096 {
                variants = variants.flatMap { v in dashes.map { v + $0 } }
            } else {
                variants = variants.map { $0 + String(c) }
            }
            prev = c
        }
        return variants
    }
}
