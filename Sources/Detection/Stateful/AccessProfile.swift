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
            if let i = ipRanges.index(forKey: range) { ipRanges.values[i] += 1 } else if ipRanges.count < Self.maxRanges {
                ipRanges[range] = 1
            }
        }
        hours[time.hourOfWeek] += 1
        if let operation, keepOperation || operations.count < Self.maxOperations, operations.index(forKey: operation) == nil {
            operations[operation] = s
        }
    }

    /// Adds one to today's count for `rule`; returns (today's count, busiest and mean previous day
    /// over `historyDays`).
    mutating func count(rule: String, day: Int32, historyDays: Int) -> (today: Int, busiest: Int, mean: Double) {
        let oldest = day - Int32(historyDays)
        var today = 0, busiest = 0, sum = 0
        // In place: one lookup, no copy of the day list (this runs for every event a volume rule counts).
        modify(&daily[rule, default: []]) { days in
            if let first = days.first, first.day < oldest { days.removeAll { $0.day < oldest } }
            if let i = days.lastIndex(where: { $0.day == day }) { days[i].count += 1 } else {
                let at = days.firstIndex { $0.day > day } ?? days.count
                days.insert(DayCount(day: day, count: 1), at: at)
            }
            for d in days {
                if d.day == day { today = d.count } else if d.day < day { busiest = max(busiest, d.count); sum += d.count }
            }
        }
        // Days of the history the profile existed for count, silent ones as zero.
        let known = max(1, min(historyDays, Int(day - Self.day(firstSeen))))
        return (today, busiest, Double(sum) / Double(known))
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
    /// Sorted-key JSON (read back by the Codable decoder), written by hand into one byte buffer:
    /// every profile an event touched is saved at every batch commit, and the Codable encoder was
    /// ~15 % of a full-pack replay. No allocation per field: numbers are written digit by digit.
    func encoded() -> [UInt8] {
        var w = StoredJSONBuffer(capacity: 700 + 24 * ipRanges.count + 96 * operations.count)
        w.raw("{\"activeDays\":[")
        for (n, d) in activeDays.enumerated() { if n > 0 { w.byte(44) }; w.int(Int64(d)) }
        w.raw("],\"daily\":{")
        for (n, rule) in daily.keys.sorted().enumerated() {
            if n > 0 { w.byte(44) }
            w.string(rule); w.raw(":[")
            for (k, d) in daily[rule, default: []].enumerated() {
                w.raw(k > 0 ? ",{\"count\":" : "{\"count\":"); w.int(Int64(d.count))
                w.raw(",\"day\":"); w.int(Int64(d.day)); w.byte(125)
            }
            w.byte(93)
        }
        w.raw("},\"events\":"); w.int(Int64(events))
        w.raw(",\"firstSeen\":"); w.int(firstSeen)
        w.raw(",\"hours\":[")
        for (n, h) in hours.enumerated() { if n > 0 { w.byte(44) }; w.int(Int64(h)) }
        w.raw("],\"ipRanges\":{")
        for (n, (k, v)) in ipRanges.sorted(by: { $0.key < $1.key }).enumerated() {
            if n > 0 { w.byte(44) }
            w.string(k); w.byte(58); w.int(Int64(v))
        }
        w.raw("},\"lastSeen\":"); w.int(lastSeen)
        w.raw(",\"operations\":{")
        for (n, (k, v)) in operations.sorted(by: { $0.key < $1.key }).enumerated() {
            if n > 0 { w.byte(44) }
            w.string(k); w.byte(58); w.int(v)
        }
        w.raw("},\"scope\":"); w.string(scope)
        w.raw(",\"scopeName\":"); w.string(scopeName)
        w.raw(",\"space\":"); w.string(space)
        w.raw(",\"subject\":"); w.string(subject)
        w.byte(125)
        return w.bytes
    }
}

/// The byte buffer behind the hand-written baseline encoders: integers digit by digit, strings
/// copied as they are unless they need escaping (then `JSONWriter` escapes them).
struct StoredJSONBuffer {
    var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func int(_ v: Int64) {
        if v < 0 { bytes.append(45) }
        var m = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // up to 20 digits, on the stack
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(48 + m % 10); m /= 10; n += 1 } while m > 0
            for k in stride(from: n - 1, through: 0, by: -1) { bytes.append(d[k]) }
        }
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { b in
            if b.contains(where: { $0 < 0x20 || $0 == 34 || $0 == 92 }) {
                var w = JSONWriter(capacity: b.count + 8)
                w.writeString(b)
                bytes.append(contentsOf: w.bytes)
            } else {
                bytes.append(34); bytes.append(contentsOf: b); bytes.append(34)
            }
        }
    }
}

extension ScopeRecord: StoredJSON {}

/// Runs `body` on `value` in place (binds a subscript's storage to a name).
private func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }
