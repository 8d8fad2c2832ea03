#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventModel
import FastJSON

/// Byte-level helpers the normalisers use to turn record values into typed fields without
/// building intermediate strings.
enum FieldText {
    /// Non-empty text of a value: strings as they are, numbers spelled out, and the `value` of a
    /// localized `{value, localizedValue}` pair. Empty strings, null, booleans and other
    /// containers give nil (an empty `resourceId` is no resource id).
    static func text(_ v: JSONValue) -> String? {
        switch v.type {
        case .string:
            return v.withStringBytes { $0.isEmpty ? nil : String(decoding: $0, as: UTF8.self) }
        case .int, .uint, .double:
            return v.scalarText
        case .object:
            return localizedValue(v).flatMap(text)
        default:
            return nil
        }
    }

    /// `x.value` of an Activity Log REST `{value, localizedValue}` pair.
    static func localizedValue(_ v: JSONValue) -> JSONValue? {
        guard v.type == .object else { return nil }
        return ValueKeys.table.withScan(v) { $0[.value] }
    }

    /// The string value unwrapped from a `{value: …}` pair when it is one.
    static func unwrapped(_ v: JSONValue) -> JSONValue {
        v.type == .object ? (localizedValue(v) ?? v) : v
    }

    /// Whether `v` is a string (or `{value: string}`) equal to one of `candidates`, ignoring
    /// ASCII case. Candidates must be lower-case.
    static func equalsAny(_ v: JSONValue?, _ candidates: [StaticString]) -> Bool {
        guard let v else { return false }
        return unwrapped(v).withStringBytes { bytes in candidates.contains { equalFolded(bytes, $0) } }
    }

    static func equalFolded(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for i in 0..<bytes.count where JSONPathLookup.fold(bytes[i]) != l[i] { return false }
        return true
    }

    static func hasPrefixFolded(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        guard bytes.count >= lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for i in 0..<lower.utf8CodeUnitCount where JSONPathLookup.fold(bytes[i]) != l[i] { return false }
        return true
    }

    static func hasSuffixFolded(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        let n = lower.utf8CodeUnitCount
        guard bytes.count >= n else { return false }
        let l = lower.utf8Start
        let base = bytes.count - n
        for i in 0..<n where JSONPathLookup.fold(bytes[base + i]) != l[i] { return false }
        return true
    }

    static func containsFolded(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        let n = lower.utf8CodeUnitCount
        guard n > 0, bytes.count >= n else { return n == 0 }
        let l = lower.utf8Start
        var start = 0
        let first = l[0]
        let firstIsLetter = (first &- 97) < 26
        while start + n <= bytes.count {
            // A first byte that is not a letter has one spelling: jump to it with memchr.
            if !firstIsLetter {
                guard let hit = memchr(bytes.baseAddress! + start, Int32(first), bytes.count - n + 1 - start) else { return false }
                start = bytes.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            var j = 0
            while j < n, JSONPathLookup.fold(bytes[start + j]) == l[j] { j += 1 }
            if j == n { return true }
            start += 1
        }
        return false
    }

    /// ASCII-lower-cased copy made in one allocation (no Unicode case mapping: Azure names are
    /// ASCII, and any other byte is kept as it is).
    static func lowercasedASCII(_ s: String) -> String {
        var copy = s
        let lowered: String? = copy.withUTF8 { src in
            if !src.contains(where: { ($0 &- 65) < 26 }) { return nil }
            return String(unsafeUninitializedCapacity: src.count) { dst in
                for i in 0..<src.count { dst[i] = JSONPathLookup.fold(src[i]) }
                return src.count
            }
        }
        return lowered ?? s
    }

    /// The first value in `candidates` that holds a parseable time. Strings are parsed in place.
    static func time(_ v: JSONValue?) -> EventTime? {
        guard let v else { return nil }
        switch v.type {
        case .string:
            return v.withStringBytes { $0.isEmpty ? nil : EventTime.parse($0) }
        default:
            return nil
        }
    }

    /// `level` as Azure writes it, normalised: `Information` → `Informational`, and the numeric
    /// levels of Entra and Log Analytics (1 Critical … 5 Verbose) spelled out.
    static func level(_ v: JSONValue?) -> String? {
        guard let v else { return nil }
        if let n = v.int64 { return numericLevel(n) }
        return v.withStringBytes { bytes -> String? in
            if bytes.isEmpty { return nil }
            if equalFolded(bytes, "information") || equalFolded(bytes, "informational") { return "Informational" }
            if bytes.count == 1, bytes[0] >= 48, bytes[0] <= 57 { return numericLevel(Int64(bytes[0] - 48)) }
            return String(decoding: bytes, as: UTF8.self)
        } ?? text(v)
    }

    private static func numericLevel(_ n: Int64) -> String {
        switch n {
        case 0: return "LogAlways"
        case 1: return "Critical"
        case 2: return "Error"
        case 3: return "Warning"
        case 4: return "Informational"
        case 5: return "Verbose"
        default: return String(n)
        }
    }

    /// An address without the `:port` Storage logs append (`1.2.3.4:5678`, `[::1]:443`). IPv6
    /// without brackets is left alone.
    static func address(_ text: String?) -> String? {
        guard let text, !isNullWord(text) else { return nil }
        var s = text
        let stripped: String? = s.withUTF8 { b -> String? in
            if let first = b.first, first == UInt8(ascii: "["), let close = b.firstIndex(of: UInt8(ascii: "]")) {
                return String(decoding: UnsafeBufferPointer(rebasing: b[1..<close]), as: UTF8.self)
            }
            var colons = 0, last = -1
            for i in 0..<b.count where b[i] == UInt8(ascii: ":") { colons += 1; last = i }
            if colons == 1, last > 0 { return String(decoding: UnsafeBufferPointer(rebasing: b[0..<last]), as: UTF8.self) }
            return nil
        }
        return stripped ?? text
    }

    /// `value` when it is an object, or the object a string holding JSON text decodes to (exports
    /// and Log Analytics cells sometimes carry `identity` or `properties` so).
    static func object(_ value: JSONValue?) -> JSONValue? {
        guard let value else { return nil }
        if value.type == .object { return value }
        if value.type == .string, let inner = value.innerJSON, inner.type == .object { return inner }
        return nil
    }

    /// Empty, or a placeholder some exports write for no value (Entra audit exports:
    /// `"callerIpAddress": "<null>"`): no value, so a fallback (`initiatedBy.user.ipAddress`) can fill it.
    static func isNullWord(_ text: String) -> Bool {
        switch text.utf8.count {
        case 0: return true
        case 4, 6:
            var text = text
            return text.withUTF8 { equalFolded($0, "null") || equalFolded($0, "<null>") }
        default: return false
        }
    }

    /// A resource id when the text looks like one (an ARM path starting with `/`), shared with the
    /// other events that name it (`ResourceIDCache`).
    static func resource(_ text: String?) -> ResourceID? {
        guard let text, text.utf8.first == UInt8(ascii: "/") else { return nil }
        return ResourceIDCache.shared.resource(text)
    }
}

enum ValueKeys: Int, FieldKey {
    case value
    static let table = KeyTable<ValueKeys>()
}
