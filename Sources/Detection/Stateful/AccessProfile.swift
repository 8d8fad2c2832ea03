// What Vigil has learned about one identity in one scope (an Azure ML workspace, a subscription,
// or everything): when it was active, from where, at which hours, with which operations, how much.
// Stored as JSON in the `baselines` table (namespace `anomaly.profile`), so `vigil baseline show`
// and a person with sqlite3 can read it.
import EventModel
import FastJSON
import Foundation

public struct AccessProfile: Codable, Sendable, Hashable {
    /// Bounds on what one profile keeps.
    static let maxDays = 90
    static let maxRanges = 64
    static let maxOperations = 256

    /// Which baseline space (`workspace`, `global`, `vigil.resource.subscription`, …).
    public var space: String
    public var subject: String
    public var scope: String
    /// Display name of the scope (the workspace name).
    public var scopeName: String
    /// Event time, Unix seconds.
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var events: Int
    /// Days (since the epoch, UTC) with activity, ascending, the last `maxDays` of them.
    public var activeDays: [Int32]
    /// Network range → events.
    public var ipRanges: [String: Int]
    /// Events per hour of the week (168 slots, Monday 00:00 UTC first).
    public var hours: [Int]
    /// Operation (lower-cased) → first time used (Unix seconds).
    public var operations: [String: Int64]
    /// Per volume rule: events per day, recent days only.
    public var daily: [String: [DayCount]]

    public struct DayCount: Codable, Sendable, Hashable {
        public var day: Int32
        public var count: Int
    }

    public init(space: String, subject: String, scope: String, scopeName: String, time: Int64) {
        self.space = space
        self.subject = subject
        self.scope = scope
        self.scopeName = scopeName
        firstSeen = time
        lastSeen = time
        events = 0
        activeDays = []
        ipRanges = [:]
        hours = Array(repeating: 0, count: 168)
        operations = [:]
        daily = [:]
    }

    // MARK: learning

    mutating func learn(time: EventTime, range: String?, operation: String?, keepOperation: Bool) {
        let s = time.seconds
        firstSeen = min(firstSeen, s)
        lastSeen = max(lastSeen, s)
        events += 1
        let day = Self.day(s)
        if activeDays.last.map({ $0 < day }) ?? true {
            activeDays.append(day)
            if activeDays.count > Self.maxDays { activeDays.removeFirst(activeDays.count - Self.maxDays) }
        } else if !activeDays.contains(day) {
            let i = activeDays.firstIndex { $0 > day } ?? activeDays.count
            activeDays.insert(day, at: i)
            if activeDays.count > Self.maxDays { activeDays.removeFirst() }
        }
        if let range {
            if ipRanges[range] != nil || ipRanges.count < Self.maxRanges { ipRanges[range, default: 0] += 1 }
        }
        hours[time.hourOfWeek] += 1
        if let operation, operations[operation] == nil, keepOperation || operations.count < Self.maxOperations {
            operations[operation] = s
        }
    }

    /// Adds one to today's count for `rule`; returns (today's count, busiest and mean previous day
    /// over `historyDays`).
    mutating func count(rule: String, day: Int32, historyDays: Int) -> (today: Int, busiest: Int, mean: Double) {
        var days = daily[rule] ?? []
        let oldest = day - Int32(historyDays)
        days.removeAll { $0.day < oldest }
        if let i = days.firstIndex(where: { $0.day == day }) { days[i].count += 1 } else {
            days.append(DayCount(day: day, count: 1))
            days.sort { $0.day < $1.day }
        }
        daily[rule] = days
        let previous = days.filter { $0.day < day }
        let today = days.first { $0.day == day }?.count ?? 0
        let busiest = previous.map(\.count).max() ?? 0
        // Days of the history the profile existed for count, silent ones as zero.
        let known = max(1, min(historyDays, Int(day - Self.day(firstSeen))))
        return (today, busiest, Double(previous.map(\.count).reduce(0, +)) / Double(known))
    }

    // MARK: reading

    static func day(_ seconds: Int64) -> Int32 {
        Int32(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    }

    /// Days with activity among the `window` days before `day`.
    public func activeDays(inLast window: Int, before day: Int32) -> Int {
        activeDays.filter { $0 < day && $0 >= day - Int32(window) }.count
    }

    /// "always from 203.0.113.0/24" or "from 3 ranges, mostly 203.0.113.0/24 (91%)".
    public var rangesSummary: String {
        let total = ipRanges.values.reduce(0, +)
        let sorted = ipRanges.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        guard let top = sorted.first else { return "with no recorded address" }
        if sorted.count == 1 { return "always from \(top.key)" }
        let share = Int((Double(top.value) / Double(max(1, total)) * 100).rounded())
        let others = sorted.dropFirst().prefix(3).map(\.key).joined(separator: ", ")
        return "from \(sorted.count) ranges, mostly \(top.key) (\(share)%; also \(others)\(sorted.count > 4 ? ", …" : ""))"
    }

    /// The busiest hours of the week: "Tue 09:00 (41), Wed 10:00 (38), Mon 09:00 (30)".
    public func busiestHours(_ n: Int = 3) -> String {
        let ranked = hours.enumerated().filter { $0.element > 0 }.sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
        if ranked.isEmpty { return "none" }
        return ranked.prefix(n).map { "\(Self.hourName($0.offset)) (\($0.element))" }.joined(separator: ", ")
    }

    static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// `Sun 03:00`.
    public static func hourName(_ hourOfWeek: Int) -> String {
        let h = hourOfWeek % 24
        return "\(weekdays[hourOfWeek / 24]) \(h < 10 ? "0" : "")\(h):00"
    }

    /// Events in the hours `hour ± tolerance` (wrapping around the week).
    func eventsNear(hour: Int, tolerance: Int) -> Int {
        var n = 0
        for d in -tolerance...tolerance { n += hours[((hour + d) % 168 + 168) % 168] }
        return n
    }

}

/// What Vigil knows about a scope (a workspace): since when it has been watched, how many
/// identities used it. Namespace `anomaly.scope`.
public struct ScopeRecord: Codable, Sendable, Hashable {
    public var space: String
    public var scope: String
    public var scopeName: String
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var subjects: Int
}

/// Values kept in the baselines table as sorted-key JSON.
protocol StoredJSON: Codable {
    func encoded() -> [UInt8]
}

extension StoredJSON {
    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    static func decode(_ bytes: [UInt8]) -> Self? {
        try? JSONDecoder().decode(Self.self, from: Data(bytes))
    }
}

extension AccessProfile: StoredJSON {
    /// The same sorted-key JSON `JSONEncoder` wrote (read back by the Codable decoder), written by
    /// hand: every profile an event touched is saved at every batch commit, and the Codable encoder
    /// was ~15 % of a full-pack replay.
    func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        var first = true
        func ints<S: Sequence>(_ xs: S) where S.Element: BinaryInteger {
            w.beginArray()
            var f = true
            for x in xs { if !f { w.comma() }; f = false; w.raw(String(x)) }
            w.endArray()
        }
        func intMap<V: BinaryInteger>(_ d: [String: V]) {
            w.beginObject()
            var f = true
            for (k, v) in d.sorted(by: { $0.key < $1.key }) { w.field(k, first: &f); w.raw(String(v)) }
            w.endObject()
        }
        w.beginObject()
        w.field("activeDays", first: &first); ints(activeDays)
        w.field("daily", first: &first)
        w.beginObject()
        var inner = true
        for (rule, days) in daily.sorted(by: { $0.key < $1.key }) {
            w.field(rule, first: &inner)
            w.beginArray()
            for (n, d) in days.enumerated() {
                if n > 0 { w.comma() }
                w.raw("{\"count\":\(d.count),\"day\":\(d.day)}")
            }
            w.endArray()
        }
        w.endObject()
        w.field("events", first: &first); w.raw(String(events))
        w.field("firstSeen", first: &first); w.raw(String(firstSeen))
        w.field("hours", first: &first); ints(hours)
        w.field("ipRanges", first: &first); intMap(ipRanges)
        w.field("lastSeen", first: &first); w.raw(String(lastSeen))
        w.field("operations", first: &first); intMap(operations)
        w.field("scope", first: &first); w.writeString(scope)
        w.field("scopeName", first: &first); w.writeString(scopeName)
        w.field("space", first: &first); w.writeString(space)
        w.field("subject", first: &first); w.writeString(subject)
        w.endObject()
        return w.bytes
    }
}
extension ScopeRecord: StoredJSON {}
