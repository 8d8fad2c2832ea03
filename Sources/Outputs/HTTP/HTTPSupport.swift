// Small pieces the HTTP client and the sinks share: wall clock, Retry-After, gzip, HMAC,
// random ids, form and URL encoding.
import CCrypto
import CZlib
import EventModel
import Glibc

/// Seconds since the Unix epoch, from the real-time clock.
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

public enum RetryAfter {
    /// `Retry-After` as seconds from `now`: delta-seconds (`120`) or an HTTP-date
    /// (`Wed, 21 Oct 2015 07:28:00 GMT`, also RFC 850 and asctime forms). Past dates give 0.
    public static func parse(_ value: String, now: Double) -> Double? {
        let v = value.trimmedASCII
        if let n = Double(v), n.isFinite, n >= 0 { return n }
        guard let date = httpDate(v) else { return nil }
        return max(0, date - now)
    }

    /// Seconds since the epoch for an HTTP-date (RFC 9110 §5.6.7), or nil.
    public static func httpDate(_ text: String) -> Double? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        // Tokens split on space, comma and dash: "Sun, 06 Nov 1994 08:49:37 GMT",
        // "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994".
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map { String($0).lowercased() }
        var day: Int64?, month: Int64?, year: Int64?, hms: (Int64, Int64, Int64)?
        for t in tokens {
            if let m = months.firstIndex(of: String(t.prefix(3))), t.count >= 3, t.first!.isLetter, month == nil,
               !["sun", "mon", "tue", "wed", "thu", "fri", "sat"].contains(String(t.prefix(3))) {
                month = Int64(m + 1)
            } else if t.contains(":") {
                let parts = t.split(separator: ":").compactMap { Int64($0) }
                guard parts.count == 3 else { return nil }
                hms = (parts[0], parts[1], parts[2])
            } else if let n = Int64(t) {
                if day == nil && n <= 31 && t.count <= 2 { day = n } else { year = n < 100 ? (n < 70 ? 2000 + n : 1900 + n) : n }
            }
        }
        guard let d = day, let m = month, let y = year, let (h, mi, s) = hms, (1...31).contains(d) else { return nil }
        let days = EventTime.daysFromCivil(y, m, d)
        return Double(days * 86_400 + h * 3600 + mi * 60 + s)
    }
}

public enum Gzip {
    /// Compresses `bytes` into one gzip member.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        // zlib keeps a back pointer to the stream, so it must not move: heap-allocate it.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { deflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
        guard czlib_deflate_init_gzip(stream, level) == Z_OK else { fatalError("deflateInit2 failed") }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(bytes.count))) + 32)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                stream.pointee.next_in = inBuf.baseAddress
                stream.pointee.avail_in = uInt(inBuf.count)
                stream.pointee.next_out = outBuf.baseAddress
                stream.pointee.avail_out = uInt(outBuf.count)
                let r = deflate(stream, Z_FINISH)
                precondition(r == Z_STREAM_END, "deflate with deflateBound output must finish")
                return outBuf.count - Int(stream.pointee.avail_out)
            }
        }
        out.removeSubrange(produced...)
        return out
    }

    /// Decompresses gzip data (all members). Nil when the input is not valid gzip.
    public static func decompress(_ bytes: [UInt8]) -> [UInt8]? {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { inflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
        guard czlib_inflate_init_gzip(stream) == Z_OK else { return nil }
        var input = bytes
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let ok: Bool = input.withUnsafeMutableBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = uInt(inBuf.count)
            while true {
                let (r, n) = chunk.withUnsafeMutableBufferPointer { c -> (Int32, Int) in
                    stream.pointee.next_out = c.baseAddress
                    stream.pointee.avail_out = uInt(c.count)
                    let r = inflate(stream, Z_NO_FLUSH)
                    return (r, c.count - Int(stream.pointee.avail_out))
                }
                result.append(contentsOf: chunk[0..<n])
                if r == Z_STREAM_END {
                    if stream.pointee.avail_in == 0 { return true }
                    inflateReset(stream)
                } else if r != Z_OK {
                    return false
                }
            }
        }
        return ok ? result : nil
    }
}

public enum HMACSHA256 {
    /// HMAC-SHA256 of `message` under `key` (libcrypto's one-shot `HMAC`).
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
            }
        }
        return Array(out[0..<Int(length)])
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        s.reserveCapacity(bytes.count * 2)
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }
}

public enum RandomID {
    /// A random (version 4) UUID string, for request ids.
    public static func uuid() -> String {
        var g = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let h = Array(HMACSHA256.hex(bytes))
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }
}

public enum FormEncoding {
    /// RFC 3986 percent-encoding of everything but unreserved characters.
    public static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let d = Array("0123456789ABCDEF")
                out.append("%"); out.append(d[Int(b >> 4)]); out.append(d[Int(b & 15)])
            }
        }
        return out
    }

    /// `application/x-www-form-urlencoded` body from ordered pairs.
    public static func form(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&").utf8)
    }
}
