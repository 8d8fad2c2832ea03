// Anomaly rules: Vigil's own rule type (`vigil_rule: anomaly`), not Sigma. docs/anomaly-rules.md
// describes the format; AnomalyRuleParser reads it with line:column in every error.
import EventModel

/// One parsed anomaly rule.
public struct AnomalyRule: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case firstAccess = "first_access"
        case firstSensitiveOperation = "first_sensitive_operation"
        case newIPRange = "new_ip_range"
        case unusualHour = "unusual_hour"
        case volumeSpike = "volume_spike"
    }

    /// What baselines are keyed by, beside the subject: the Azure ML workspace an event touches
    /// (derived from its resource id), any event path, or nothing (one baseline per subject).
    public enum Scope: Sendable, Hashable, CustomStringConvertible {
        case workspace
        case path(String)
        case global

        public var description: String {
            switch self {
            case .workspace: return "workspace"
            case .path(let p): return p
            case .global: return "global"
            }
        }
    }

    public struct Thresholds: Sendable, Hashable {
        /// new_ip_range: prefix lengths that make a "range".
        public var ipv4Prefix: Int = 24
        public var ipv6Prefix: Int = 48
        /// unusual_hour: an hour of the week is unusual when the subject's share of activity in it
        /// (and `toleranceHours` either side) is at most `maxShare`, once it has `minEvents` events.
        public var maxShare: Double = 0
        public var toleranceHours: Int = 1
        public var minEvents: Int = 50
        /// volume_spike: today's count must exceed max(`minimum`, `factor` × the largest daily
        /// count of the previous `historyDays` days).
        public var factor: Double = 3
        public var minimum: Int = 50
        public var historyDays: Int = 14

        public init() {}
    }

    public var id: String
    public var title: String
    public var description: String?
    public var level: Severity
    public var tags: [String]
    public var kind: Kind
    /// Event path naming who (`vigil.caller`).
    public var subject: String
    public var scope: Scope
    public var learningDays: Int
    /// Lower-cased operation names (a `*` matches any run of characters); empty = any operation.
    public var operations: [String]
    /// Lower-cased categories (resource-log categories or Log Analytics tables); empty = any.
    public var categories: [String]
    /// Event kinds the rule looks at.
    public var eventKinds: Set<EventKind>
    public var thresholds: Thresholds
    /// Alert entities: kind → event path.
    public var entities: [(kind: Entity.Kind, path: String)]
    public var baselineArea: String?
    public var baselineControls: [String]
    public var file: String
    public var location: SourceLocation

    public static let defaultEventKinds: Set<EventKind> = [.operation, .resourceLog]

    public var tactics: [String] {
        tags.compactMap { t in
            let l = t.lowercased()
            guard l.hasPrefix("attack."), !Self.isTechnique(l) else { return nil }
            return String(l.dropFirst(7))
        }
    }

    public var techniques: [String] {
        tags.compactMap { t in
            let l = t.lowercased()
            guard Self.isTechnique(l) else { return nil }
            return String(l.dropFirst(7)).uppercased()
        }
    }

    static func isTechnique(_ tag: String) -> Bool {
        guard tag.hasPrefix("attack.t"), tag.count > 9 else { return false }
        let c = tag[tag.index(tag.startIndex, offsetBy: 8)]
        return c.isNumber
    }

    public static func == (a: AnomalyRule, b: AnomalyRule) -> Bool { a.id == b.id && a.file == b.file && a.location == b.location }
    public func hash(into h: inout Hasher) { h.combine(id); h.combine(file) }
}

/// Matches lower-cased names against patterns where `*` stands for any run of characters.
struct NamePatterns: Sendable, Hashable {
    var exact: Set<String> = []
    /// `prefix*suffix` patterns, the common case, matched without splitting.
    var affixes: [(prefix: String, suffix: String)] = []
    var globs: [[Substring]] = []

    init(_ patterns: [String]) {
        for p in patterns {
            let parts = p.split(separator: "*", omittingEmptySubsequences: false)
            if parts.count == 1 { exact.insert(p) } else if parts.count == 2 {
                affixes.append((String(parts[0]), String(parts[1])))
            } else { globs.append(parts) }
        }
    }

    var isEmpty: Bool { exact.isEmpty && affixes.isEmpty && globs.isEmpty }

    static func == (a: NamePatterns, b: NamePatterns) -> Bool {
        a.exact == b.exact && a.globs == b.globs && a.affixes.map { $0.prefix + "*" + $0.suffix } == b.affixes.map { $0.prefix + "*" + $0.suffix }
    }

    func hash(into h: inout Hasher) { h.combine(exact) }

    func matches(_ name: String) -> Bool {
        if exact.contains(name) { return true }
        for (prefix, suffix) in affixes where name.utf8.count >= prefix.utf8.count + suffix.utf8.count
            && name.hasPrefix(prefix) && name.hasSuffix(suffix) { return true }
        for parts in globs where Self.glob(parts, name) { return true }
        return false
    }

    static func glob(_ parts: [Substring], _ name: String) -> Bool {
        var rest = Substring(name)
        for (i, part) in parts.enumerated() {
            if i == 0 {
                guard rest.hasPrefix(part) else { return false }
                rest = rest.dropFirst(part.count)
            } else if i == parts.count - 1 {
                return part.isEmpty || rest.hasSuffix(part)
            } else if !part.isEmpty {
                guard let end = Self.endOfFirst(part, in: rest) else { return false }
                rest = rest[end...]
            }
        }
        return rest.isEmpty
    }

    static func endOfFirst(_ needle: Substring, in hay: Substring) -> Substring.Index? {
        var i = hay.startIndex
        while i < hay.endIndex {
            if hay[i...].hasPrefix(needle) { return hay.index(i, offsetBy: needle.count) }
            i = hay.index(after: i)
        }
        return nil
    }
}
