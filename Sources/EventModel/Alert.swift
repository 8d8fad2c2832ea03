import FastJSON

/// One rule firing. Its id is derived from the rule and the event(s) that caused it, so replaying
/// the same input yields the same ids and dedup works across restarts.
public struct Alert: Sendable, Codable, Hashable {
    public var id: String
    public var ruleId: String
    public var ruleTitle: String
    public var severity: Severity
    /// ATT&CK tactics (`credential-access`) and techniques (`T1555.006`), as tagged.
    public var tactics: [String]
    public var techniques: [String]
    public var entities: [Entity]
    /// When it happened (event time of the matching or last contributing event).
    public var time: EventTime
    public var position: SourcePosition
    /// Short explanation for people ("first listsecrets by X on workspace W …").
    public var description: String?
    /// Record ids of the contributing events and, bounded, their JSON text.
    public var eventIds: [String]
    public var evidence: [String]
    /// Which entity kinds must match for this alert to join an incident ("any" when empty).
    public var groupBy: [Entity.Kind]
    /// Whether every kind in `groupBy` must match (`all`) or one is enough (`any`).
    public var groupByAll: Bool
    /// Baseline area and control ids the rule guards (for coverage and labels).
    public var baselineControls: [String]

    public init(id: String, ruleId: String, ruleTitle: String, severity: Severity, tactics: [String] = [],
                techniques: [String] = [], entities: [Entity] = [], time: EventTime, position: SourcePosition,
                description: String? = nil, eventIds: [String] = [], evidence: [String] = [],
                groupBy: [Entity.Kind] = [], groupByAll: Bool = false, baselineControls: [String] = []) {
        self.id = id
        self.ruleId = ruleId
        self.ruleTitle = ruleTitle
        self.severity = severity
        self.tactics = tactics
        self.techniques = techniques
        self.entities = entities
        self.time = time
        self.position = position
        self.description = description
        self.eventIds = eventIds
        self.evidence = evidence
        self.groupBy = groupBy
        self.groupByAll = groupByAll
        self.baselineControls = baselineControls
    }

    /// Deterministic alert id: a UUID-shaped digest of the rule id and the contributing event ids.
    public static func makeId(ruleId: String, eventIds: [String]) -> String {
        StableID.uuid(from: ([ruleId] + eventIds).joined(separator: "|"))
    }
}

/// Deterministic UUID-shaped ids from text (two independent 64-bit hashes, version 8 bits set).
public enum StableID {
    public static func uuid(from text: String) -> String {
        let a = fastHash64(text, seed: 0x5649_4749_4C00_0001)
        let b = fastHash64(text, seed: 0x5649_4749_4C00_0002)
        let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_8000      // version 8 (custom)
        let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000      // RFC 4122 variant
        // 8-4-4-4-12: the first three groups are `hi`, the last two `lo`, written in place.
        return String(unsafeUninitializedCapacity: 36) { buf in
            let p = buf.baseAddress!
            HexText.write(hi >> 32, digits: 8, into: p)
            p[8] = UInt8(ascii: "-")
            HexText.write(hi >> 16, digits: 4, into: p + 9)
            p[13] = UInt8(ascii: "-")
            HexText.write(hi, digits: 4, into: p + 14)
            p[18] = UInt8(ascii: "-")
            HexText.write(lo >> 48, digits: 4, into: p + 19)
            p[23] = UInt8(ascii: "-")
            HexText.write(lo, digits: 12, into: p + 24)
            return 36
        }
    }
}
