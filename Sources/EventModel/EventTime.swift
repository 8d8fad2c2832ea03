/// An instant in UTC, as nanoseconds since the Unix epoch. Parsing is lenient because Azure is:
/// ISO 8601 with 0–7 fractional digits, `Z`, an offset, or no zone (UTC assumed), and the US
/// style `1/9/2007 9:41:00 AM` seen in real exports.
public struct EventTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64) { self.nanoseconds = seconds * 1_000_000_000 }

    public static func < (a: EventTime, b: EventTime) -> Bool { a.nanoseconds < b.nanoseconds }

    public var seconds: Int64 { nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000 }

    /// Saturates at the ends of the Int64 range instead of trapping (a window past year 2262).
    public func adding(seconds s: Int64) -> EventTime {
        let (delta, o1) = s.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, o2) = nanoseconds.addingReportingOverflow(delta)
        if !o1 && !o2 { return EventTime(nanoseconds: sum) }
        return EventTime(nanoseconds: s >= 0 ? .max : .min)
    }

    public var description: String { iso8601 }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let t = EventTime(parsing: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad time \(s)"))
        }
        self = t
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso8601)
    }

    /// `2024-05-01T12:00:00.1234567Z`, trailing fractional zeros trimmed (none when whole seconds).
    public var iso8601: String {
        let secs = seconds
        let frac = nanoseconds - secs * 1_000_000_000
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let (y, m, d) = EventTime.civil(fromDays: days)
        // Written byte by byte (this runs per assembled operation and per alert): at most
        // 1 sign + 19 year digits + 36 other bytes.
        return String(unsafeUninitializedCapacity: 64) { buf in
            var p = 0
            func put(_ b: UInt8) { buf[p] = b; p += 1 }
            func pad(_ v: Int64, _ w: Int) {
                var mag = v.magnitude
                if v < 0 { put(UInt8(ascii: "-")) }
                var digits = 1
                var t = mag / 10
                while t > 0 { digits += 1; t /= 10 }
                if digits < w { for _ in 0..<(w - digits) { put(48) } }
                var i = p + digits - 1
                while i >= p { buf[i] = 48 + UInt8(mag % 10); mag /= 10; i -= 1 }
                p += digits
            }
            pad(y, 4); put(45); pad(m, 2); put(45); pad(d, 2); put(UInt8(ascii: "T"))
            pad(rem / 3600, 2); put(58); pad(rem / 60 % 60, 2); put(58); pad(rem % 60, 2)
            if frac != 0 {
                // 7 digits (100 ns), trailing zeros trimmed; nothing when they are all zero.
                var f = frac / 100
                var digits = 7
                while digits > 0, f % 10 == 0 { f /= 10; digits -= 1 }
                if digits > 0 {
                    put(46)
                    var i = p + digits - 1
                    while i >= p { buf[i] = 48 + UInt8(f % 10); f /= 10; i -= 1 }
                    p += digits
                }
            }
            put(UInt8(ascii: "Z"))
            return p
        }
    }

    public init?(parsing text: String) {
        var text = text
        guard let t = text.withUTF8({ EventTime.parse($0) }) else { return nil }
        self = t
    }

    /// Parses ISO 8601 (lenient) or US `M/D/YYYY h:mm:ss AM` from bytes.
    public static func parse(_ s: UnsafeBufferPointer<UInt8>) -> EventTime? {
        var p = 0
        let n = s.count
        while p < n, s[p] == 0x20 { p += 1 }
        func digits(_ count: Int) -> Int64? {
            guard p + count <= n else { return nil }
            var v: Int64 = 0
            for i in 0..<count {
                let c = s[p + i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            p += count
            return v
        }
        func varDigits(max: Int) -> Int64? {
            var v: Int64 = 0
            var k = 0
            while p < n, k < max, s[p] >= 48, s[p] <= 57 { v = v * 10 + Int64(s[p] - 48); p += 1; k += 1 }
            return k == 0 ? nil : v
        }
        func expect(_ c: UInt8) -> Bool { if p < n, s[p] == c { p += 1; return true }; return false }

        // US style: M/D/YYYY h:mm:ss [AM|PM]
        if let slash = (0..<min(n, 6)).first(where: { s[$0] == UInt8(ascii: "/") }), slash > 0 {
            _ = slash
            guard let mo = varDigits(max: 2), expect(47), let d = varDigits(max: 2), expect(47), let y = varDigits(max: 4) else { return nil }
            var h: Int64 = 0, mi: Int64 = 0, se: Int64 = 0, frac: Int64 = 0
            _ = expect(44)   // Log Analytics portal exports write `4/28/2021, 2:08:45.221 PM`
            if expect(0x20) {
                guard let hh = varDigits(max: 2), expect(58), let mm = digits(2) else { return nil }
                h = hh; mi = mm
                if expect(58) { guard let ss = digits(2) else { return nil }; se = ss }
                if expect(46) {
                    var scale: Int64 = 100_000_000
                    while p < n, s[p] >= 48, s[p] <= 57 { frac += Int64(s[p] - 48) * scale; scale /= 10; p += 1 }
                }
                while p < n, s[p] == 0x20 { p += 1 }
                if p + 1 < n {
                    let a = s[p] | 0x20
                    if a == UInt8(ascii: "p"), h < 12 { h += 12 }
                    if a == UInt8(ascii: "a"), h == 12 { h = 0 }
                }
            }
            return make(y, mo, d, h, mi, se, frac, 0)
        }

        guard let y = digits(4), expect(45), let mo = digits(2), expect(45), let d = digits(2) else { return nil }
        var h: Int64 = 0, mi: Int64 = 0, se: Int64 = 0, frac: Int64 = 0, offset: Int64 = 0
        if p < n, s[p] == UInt8(ascii: "T") || s[p] == UInt8(ascii: "t") || s[p] == 0x20 {
            p += 1
            guard let hh = digits(2), expect(58), let mm = digits(2) else { return nil }
            h = hh; mi = mm
            if expect(58) {
                guard let ss = digits(2) else { return nil }
                se = ss
                if expect(46) || expect(44) {
                    var scale: Int64 = 100_000_000
                    var k = 0
                    while p < n, s[p] >= 48, s[p] <= 57 {
                        if k < 9 { frac += Int64(s[p] - 48) * scale; scale /= 10 }
                        p += 1; k += 1
                    }
                    if k == 0 { return nil }
                }
            }
            if p < n {
                let c = s[p]
                if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
                    p += 1
                } else if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    p += 1
                    guard let oh = digits(2) else { return nil }
                    _ = expect(58)
                    let om = digits(2) ?? 0
                    offset = (oh * 3600 + om * 60) * (c == UInt8(ascii: "+") ? 1 : -1)
                }
            }
        }
        while p < n, s[p] == 0x20 { p += 1 }
        guard p == n else { return nil }
        return make(y, mo, d, h, mi, se, frac, offset)
    }

    private static func make(_ y: Int64, _ mo: Int64, _ d: Int64, _ h: Int64, _ mi: Int64, _ se: Int64, _ frac: Int64, _ offset: Int64) -> EventTime? {
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        let days = daysFromCivil(y, mo, d)
        let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset
        // Nanoseconds in Int64 span 1677-09-21…2262-04-11; a later or earlier date (9999-12-31 is
        // a common "never" value) is not a representable event time, not a crash.
        let (scaled, o1) = secs.multipliedReportingOverflow(by: 1_000_000_000)
        let (ns, o2) = scaled.addingReportingOverflow(frac)
        return o1 || o2 ? nil : EventTime(nanoseconds: ns)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Hour of the week, 0 = Monday 00:00 UTC … 167 = Sunday 23:00 UTC.
    public var hourOfWeek: Int {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let weekday = Int(((days % 7) + 7 + 3) % 7)   // 1970-01-01 was a Thursday (3 when Monday = 0)
        let hour = Int((seconds - days * 86_400) / 3600)
        return weekday * 24 + hour
    }
}
