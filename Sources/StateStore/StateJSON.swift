import EventModel

/// Hand-written sorted-key JSON for stored alert and incident bodies: the same text shape
/// `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`) gives for their `Codable` forms, so
/// `StateCodec.decode` reads both, without `JSONEncoder`'s per-value cost on the alert path.
/// (StateStore does not depend on FastJSON, so it has its own small writer.)
struct StateJSON {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `,"key":` (or `{"key":` when `first`); `key` must need no escaping.
    mutating func key(_ k: StaticString, first: Bool = false) {
        bytes.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        raw(k)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func int(_ v: some BinaryInteger) { bytes.append(contentsOf: String(v).utf8) }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { string($0) }
    }

    /// RFC 8259 escaping: `"`, `\` and control characters; `/` and non-ASCII as they are.
    mutating func string(_ s: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var run = 0
        var k = 0
        let n = s.count
        while k < n {
            let b = s[k]
            if b >= 0x20, b != UInt8(ascii: "\""), b != 92 { k += 1; continue }
            if run < k { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: s[run..<k])) }
            bytes.append(92)
            switch b {
            case UInt8(ascii: "\""), 92: bytes.append(b)
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            default:
                let hex = { (n: UInt8) -> UInt8 in n < 10 ? 48 + n : 87 + n }
                bytes.append(UInt8(ascii: "u")); bytes.append(48); bytes.append(48)
                bytes.append(hex(b >> 4)); bytes.append(hex(b & 15))
            }
            k += 1
            run = k
        }
        if run < n { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: s[run..<n])) }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (n, v) in values.enumerated() {
            if n > 0 { bytes.append(UInt8(ascii: ",")) }
            string(v)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func entities(_ values: [Entity]) {
        bytes.append(UInt8(ascii: "["))
        for (n, e) in values.enumerated() {
            if n > 0 { bytes.append(UInt8(ascii: ",")) }
            key("kind", first: true); string(e.kind.rawValue)
            key("value"); string(e.value)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func position(_ p: SourcePosition) {
        var first = true
        func next(_ k: StaticString, _ w: inout StateJSON) { w.key(k, first: first); first = false }
        if let v = p.enqueuedTime { next("enqueuedTime", &self); string(v.iso8601) }
        if let v = p.kafkaOffset { next("kafkaOffset", &self); int(v) }
        if let v = p.line { next("line", &self); int(v) }
        if let v = p.offset { next("offset", &self); int(v) }
        if let v = p.partition { next("partition", &self); int(v) }
        if let v = p.recordIndex { next("recordIndex", &self); int(v) }
        next("source", &self); string(p.source)
        bytes.append(UInt8(ascii: "}"))
    }

    /// Keys in `JSONEncoder`'s sorted order; `nil` optionals left out, as the synthesized `encode` does.
    mutating func alert(_ a: Alert) {
        key("baselineControls", first: true); strings(a.baselineControls)
        if let d = a.description { key("description"); string(d) }
        key("entities"); entities(a.entities)
        key("eventIds"); strings(a.eventIds)
        key("evidence"); strings(a.evidence)
        key("groupBy"); strings(a.groupBy.map(\.rawValue))
        key("groupByAll"); a.groupByAll ? raw("true") : raw("false")
        key("id"); string(a.id)
        key("position"); position(a.position)
        key("ruleId"); string(a.ruleId)
        key("ruleTitle"); string(a.ruleTitle)
        key("severity"); string(a.severity.rawValue)
        key("tactics"); strings(a.tactics)
        key("techniques"); strings(a.techniques)
        key("time"); string(a.time.iso8601)
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func incident(_ i: Incident) {
        key("alertIds", first: true); strings(i.alertIds)
        key("description"); string(i.description)
        key("entities"); entities(i.entities)
        key("firstActivity"); string(i.firstActivity.iso8601)
        key("id"); string(i.id)
        key("lastActivity"); string(i.lastActivity.iso8601)
        key("revision"); int(i.revision)
        key("ruleIds"); strings(i.ruleIds)
        key("severity"); string(i.severity.rawValue)
        key("status"); string(i.status.rawValue)
        key("tactics"); strings(i.tactics)
        key("techniques"); strings(i.techniques)
        key("title"); string(i.title)
        bytes.append(UInt8(ascii: "}"))
    }
}
