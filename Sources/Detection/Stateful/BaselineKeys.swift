// The keys anomaly baselines are stored under: space, scope and subject joined by "|", each part
// escaped ("%" → "%25", "|" → "%7C"), so a part holding "|" cannot make one baseline's key another's
// (subject "b|c" in scope "a" against subject "c" in scope "a|b"). Resource ids, user names and
// object ids hold neither character, so their keys read as before; a scope taken from a record path
// may. Keys stored before parts were escaped are moved once (`migrate`), by what each stored value
// says it is.
enum BaselineKeys {
    static func profile(space: String, scope: String, subject: String) -> String {
        part(space) + "|" + part(scope) + "|" + part(subject)
    }

    static func scope(space: String, scope: String) -> String { part(space) + "|" + part(scope) }

    static func part(_ text: String) -> String { percentEscaped(text, separator: "|") }

    /// `text` with "%" and `separator` (ASCII) written as "%XX", so the separator can join it with
    /// others unambiguously; unchanged (the same string) when it holds neither.
    static func percentEscaped(_ text: String, separator: Unicode.Scalar) -> String {
        let sep = UInt8(separator.value)
        var plain = text   // (a native string: contiguous UTF-8, scanned without the view's iterator)
        let clean = plain.withUTF8 { bytes in !bytes.contains { $0 == UInt8(ascii: "%") || $0 == sep } }
        guard !clean else { return text }
        let code = "%" + String(separator.value, radix: 16, uppercase: true)
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for c in text.unicodeScalars {
            switch c {
            case "%": out += "%25"
            case separator: out += code
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Where a store says its keys are escaped (written once it holds baselines).
    static let formatNamespace = "anomaly.meta"
    static let formatKey = "keys"
    static let escaped = Array("escaped".utf8)

    /// Moves the baselines stored under keys written before parts were escaped to their escaped
    /// keys, once per store, in one transaction. Only a key that escaping could change is read (one
    /// holding "%", or more "|" than its parts): its stored value names its space, scope and
    /// subject. Where two baselines had shared a key, the one stored there (the last written) moves.
    /// Returns the number moved.
    static func migrate(_ store: BaselineStore) throws -> Int {
        if try store.baselineValue(namespace: formatNamespace, key: formatKey) == escaped { return 0 }
        let profileKeys = try store.baselineKeys(namespace: AnomalyDetector.profileNamespace)
        let scopeKeys = try store.baselineKeys(namespace: AnomalyDetector.scopeNamespace)
        guard !profileKeys.isEmpty || !scopeKeys.isEmpty else { return 0 }   // a fresh store: nothing to say yet
        return try store.transaction {
            var moved = 0
            func move(_ namespace: String, _ keys: [String], parts: Int, key escapedKey: ([UInt8]) -> String?) throws {
                // Bytes, not characters: "|" followed by a combining mark is one character.
                for key in keys where key.utf8.contains(UInt8(ascii: "%")) || key.utf8.count(where: { $0 == UInt8(ascii: "|") }) != parts - 1 {
                    guard let bytes = try store.baselineValue(namespace: namespace, key: key), let target = escapedKey(bytes),
                          target != key else { continue }
                    if try store.baselineValue(namespace: namespace, key: target) == nil {
                        try store.setBaselineValue(bytes, namespace: namespace, key: target)
                    }
                    _ = try store.removeBaselineValue(namespace: namespace, key: key)
                    moved += 1
                }
            }
            try move(AnomalyDetector.profileNamespace, profileKeys, parts: 3) { bytes in
                AccessProfile.decode(bytes).map { profile(space: $0.space, scope: $0.scope, subject: $0.subject.lowercased()) }
            }
            try move(AnomalyDetector.scopeNamespace, scopeKeys, parts: 2) { bytes in
                ScopeRecord.decode(bytes).map { scope(space: $0.space, scope: $0.scope) }
            }
            try store.setBaselineValue(escaped, namespace: formatNamespace, key: formatKey)
            return moved
        }
    }
}
