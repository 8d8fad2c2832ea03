/// An Azure Resource Manager id, split. Comparison is case-insensitive (Azure's casing varies), so
/// `normalized` is lower-cased.
///   /subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{subtype}/{subname}…]
public struct ResourceID: Sendable, Hashable, Codable {
    public var raw: String
    public var subscription: String?
    public var resourceGroup: String?
    /// Resource provider namespace, e.g. `Microsoft.MachineLearningServices`.
    public var provider: String?
    /// Full type, e.g. `Microsoft.MachineLearningServices/workspaces/computes`.
    public var type: String?
    /// Name of the last (innermost) resource, e.g. the compute's name.
    public var name: String?

    public var normalized: String { raw.lowercased() }

    public init(raw: String) {
        self.raw = raw
        // Byte-level split: this runs for every event, so no per-segment strings or case mapping;
        // only the fields kept are materialised.
        var text = raw
        text.withUTF8 { b in
            withUnsafeTemporaryAllocation(of: (Int, Int).self, capacity: b.count / 2 + 1) { seg in
                var n = 0, i = 0
                while i < b.count {
                    while i < b.count, b[i] == UInt8(ascii: "/") { i += 1 }
                    let start = i
                    while i < b.count, b[i] != UInt8(ascii: "/") { i += 1 }
                    if i > start { seg[n] = (start, i); n += 1 }
                }
                func str(_ k: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[seg[k].0..<seg[k].1]), as: UTF8.self) }
                func isWord(_ k: Int, _ word: StaticString) -> Bool {
                    let (s, e) = seg[k]
                    guard e - s == word.utf8CodeUnitCount else { return false }
                    let w = word.utf8Start
                    for j in 0..<(e - s) where (b[s + j] &- 65) < 26 ? (b[s + j] | 0x20) != w[j] : b[s + j] != w[j] { return false }
                    return true
                }
                // The type is the provider's segment and the type names after it, every other
                // segment (`providers/NS/type/name/type/name…`): kept as where it starts and how many.
                var typeAt = -1, typeNames = 0
                var k = 0
                while k < n {
                    if isWord(k, "subscriptions"), k + 1 < n, subscription == nil {
                        subscription = str(k + 1); k += 2
                    } else if isWord(k, "resourcegroups"), k + 1 < n, resourceGroup == nil {
                        resourceGroup = str(k + 1); k += 2
                    } else if isWord(k, "providers"), k + 1 < n {
                        provider = str(k + 1)
                        typeAt = k + 1
                        typeNames = 0
                        k += 2
                        var nameAt = -1
                        while k + 1 < n, !isWord(k, "providers") {
                            typeNames += 1
                            nameAt = k + 1
                            k += 2
                        }
                        if nameAt >= 0 { name = str(nameAt) }
                        if k < n, !isWord(k, "providers") { typeNames += 1; k += 1 }
                    } else {
                        k += 1
                    }
                }
                if typeAt >= 0 {
                    // Part j of the type: the provider, then the segments after it, every other one.
                    func part(_ j: Int) -> (Int, Int) { seg[j == 0 ? typeAt : typeAt + 2 * j - 1] }
                    // The parts joined by "/", written straight into one string (valid UTF-8: whole
                    // segments of valid UTF-8, cut at "/").
                    var length = typeNames
                    for j in 0...typeNames { length += part(j).1 - part(j).0 }
                    type = String(unsafeUninitializedCapacity: length) { out in
                        var w = 0
                        for j in 0...typeNames {
                            if j > 0 { out[w] = UInt8(ascii: "/"); w += 1 }
                            let (start, end) = part(j)
                            for i in start..<end { out[w] = b[i]; w += 1 }
                        }
                        return w
                    }
                }
            }
        }
        if provider == nil, let rg = resourceGroup, name == nil { name = rg; type = "resourceGroups" }
        if provider == nil, resourceGroup == nil, let sub = subscription { name = sub; type = "subscriptions" }
    }
}
