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
    /// What this baseline has learned (`LearnedMark`), one mark per source of events
    /// (`SourceMarks`): nil in baselines stored before marks existed, and in those only
    /// `AccessProfile.learn` made.
    public var learnedBySource: [LearnedMark]?
    /// A mark stored before sources were told apart (no `source`): it speaks for every source.
    public var learned: LearnedMark?

    /// The mark of one source of events ("activity", "resourceLog/amldatastoreevent", …).
    public func mark(from source: String) -> LearnedMark? { learnedBySource?.first { $0.source == source } }

    /// The profile without its marks: what it learned, not which events it learned (bookkeeping).
    public var withoutMarks: AccessProfile {
        var p = self
        p.learned = nil
        p.learnedBySource = nil
        return p
    }

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
        learnTime(time)
        if let range {
            if let i = ipRanges.index(forKey: range) { ipRanges.values[i] += 1 } else if ipRanges.count < Self.maxRanges {
                ipRanges[range] = 1
            }
        }
        if let operation {
            if let first = operations[operation] { operations[operation] = min(first, s) } else if keepOperation || operations.count < Self.maxOperations {
                operations[operation] = s
            }
        }
    }

    /// What `learn` records of the event's time: first and last seen, events, active days, hours.
    mutating func learnTime(_ time: EventTime) {
        let s = time.seconds
        firstSeen = min(firstSeen, s)
        lastSeen = max(lastSeen, s)
        events += 1
        let day = Self.day(s)
        if activeDays.last == day {
            // The common case: another event on the latest active day.
        } else if activeDays.last.map({ $0 < day }) ?? true {
            activeDays.append(day)
            if activeDays.count > Self.maxDays { activeDays.removeFirst(activeDays.count - Self.maxDays) }
        } else if !activeDays.contains(day) {
            let i = activeDays.firstIndex { $0 > day } ?? activeDays.count
            activeDays.insert(day, at: i)
            if activeDays.count > Self.maxDays { activeDays.removeFirst() }
        }
        hours[time.hourOfWeek] += 1
    }

    /// Adds one to today's count for `rule`; returns (today's count, busiest and mean previous day
    /// over `historyDays`). A day before the newest one counted (history read after later days)
    /// is counted but returns a count of 0: the days before it that a run in time order would have
    /// weighed it against may be gone, so it is judged by nobody rather than against less.
    mutating func count(rule: String, day: Int32, historyDays: Int) -> (today: Int, busiest: Int, mean: Double) {
        var today = 0, busiest = 0, sum = 0
        // In place: one lookup, no copy of the day list (this runs for every event a volume rule counts).
        modify(&daily[rule, default: []]) { days in
            // Days older than the history before the newest day kept go (history read after later
            // days: its own day may be one of them, and is then not counted).
            let newest = max(day, days.last?.day ?? day), kept = newest - Int32(historyDays)
            if let first = days.first, first.day < kept { days.removeAll { $0.day < kept } }
            guard day >= kept else { return }
            if let i = days.lastIndex(where: { $0.day == day }) { days[i].count += 1 } else {
                let at = days.firstIndex { $0.day > day } ?? days.count
                days.insert(DayCount(day: day, count: 1), at: at)
            }
            guard day == newest else { return }
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

    /// An event at `seconds` was seen in the scope; returns whether that changed the record.
    @discardableResult
    mutating func saw(_ seconds: Int64) -> Bool {
        guard seconds < firstSeen || seconds > lastSeen else { return false }
        firstSeen = min(firstSeen, seconds)
        lastSeen = max(lastSeen, seconds)
        return true
    }
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
        encoded(ranges: ipRanges.map { ($0.key, Int64($0.value)) }, operations: operations.map { ($0.key, $0.value) })
    }

    /// The same JSON with the ranges and operations given apart (a `LiveProfile` keeps them by id).
    func encoded(ranges: [(String, Int64)], operations: [(String, Int64)]) -> [UInt8] {
        var w = StoredJSONBuffer(capacity: 700 + 24 * ranges.count + 96 * operations.count)
        w.raw("{\"activeDays\":[")
        w.ints(activeDays)
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
        w.ints(hours)
        w.raw("],\"ipRanges\":{")
        for (n, (k, v)) in ranges.sorted(by: { $0.0 < $1.0 }).enumerated() {
            if n > 0 { w.byte(44) }
            w.string(k); w.byte(58); w.int(v)
        }
        w.raw("},\"lastSeen\":"); w.int(lastSeen)
        if let learned { w.raw(",\"learned\":"); w.mark(learned) }
        if let marks = learnedBySource {
            w.raw(",\"learnedBySource\":[")
            for (n, mark) in marks.enumerated() {
                if n > 0 { w.byte(44) }
                w.mark(mark)
            }
            w.byte(93)
        }
        w.raw(",\"operations\":{")
        for (n, (k, v)) in operations.sorted(by: { $0.0 < $1.0 }).enumerated() {
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

extension StoredJSONBuffer {
    /// A `LearnedMark`, keys sorted.
    mutating func mark(_ learned: LearnedMark) {
        byte(123)
        if let earlier = learned.earlier {
            raw("\"earlier\":[")
            for (n, s) in earlier.enumerated() {
                raw(n > 0 ? ",{\"first\":" : "{\"first\":"); int(s.first)
                raw(",\"head\":"); string(s.head)
                raw(",\"headUntil\":"); int(s.headUntil)
                raw(",\"last\":"); int(s.last)
                raw(",\"tail\":"); string(s.tail)
                raw(",\"tailFrom\":"); int(s.tailFrom); byte(125)
            }
            raw("],")
        }
        raw("\"floor\":"); int(learned.floor)
        if let head = learned.head { raw(",\"head\":"); string(head) }
        if let until = learned.headUntil { raw(",\"headUntil\":"); int(until) }
        if let older = learned.older { raw(",\"older\":"); string(older) }
        raw(",\"recent\":"); string(learned.recent)
        if let since = learned.since { raw(",\"since\":"); int(since) }
        if let source = learned.source { raw(",\"source\":"); string(source) }
        byte(125)
    }
}

// MARK: - the in-memory form

/// An `AccessProfile` as the detector holds it while in use: the network ranges and operations
/// by the detector's small-integer ids (`AnomalyDetector` interns their texts), so learning an
/// event hashes integers instead of strings. `profile` keeps everything else, its `ipRanges` and
/// `operations` left empty. Turned back into the stored form (same JSON) only when saved or when
/// an alert is worded.
struct LiveProfile {
    var profile: AccessProfile
    /// What it learned lately, for its stored marks (one per source of events, `SourceMarks`), and
    /// the events the marks it was loaded with cover, skipped as they are read again.
    var marks: SourceMarks
    /// It raised an alert since the last save: it stays in memory until a save writes it in the
    /// transaction that commits the alert (`AnomalyDetector.unsavedAlerting`).
    var alertUnsaved = false
    /// Made in this run and not stored yet: its scope counts it (`AnomalyDetector.unstoredProfiles`).
    var neverStored = false
    /// Range id → events.
    var ranges = IdMap()
    /// Operation id → first time used (Unix seconds).
    var operations = IdMap()

    /// A profile just made (no ranges or operations yet); `window`: `RecentLearning.window`;
    /// `stored`: made over a stored one that could not be read (its scope counts it already).
    init(fresh profile: AccessProfile, window: Int64 = 0, stored: Bool = false) {
        self.profile = profile
        marks = SourceMarks(window: window)
        neverStored = !stored
    }

    /// `sourceId`, `rangeId`, `operationId`: the detector's interned ids of those texts.
    init(_ stored: AccessProfile, window: Int64 = 0, sourceId: (String) -> Int32, rangeId: (String) -> Int32, operationId: (String) -> Int32) {
        profile = stored
        marks = SourceMarks(stored: stored, window: window, sourceId: sourceId)
        profile.learned = nil   // kept in `marks` from here on
        profile.learnedBySource = nil
        for (text, n) in stored.ipRanges { ranges.set(rangeId(text), Int64(n)) }
        for (text, t) in stored.operations { operations.set(operationId(text), t) }
        profile.ipRanges = [:]
        profile.operations = [:]
    }

    /// The stored form, ranges and operations spelled out; `readTo`: how far the detector has read
    /// each source (`RecentLearning.mark(readTo:)`).
    func stored(rangeText: (Int32) -> String, operationText: (Int32) -> String, sourceName: (Int32) -> String,
                readTo: (Int32) -> Int64 = { _ in .min }) -> AccessProfile {
        var p = withMarks(sourceName: sourceName, readTo: readTo)
        p.ipRanges = Dictionary(uniqueKeysWithValues: ranges.pairs.map { (rangeText($0.key), Int($0.value)) })
        p.operations = Dictionary(uniqueKeysWithValues: operations.pairs.map { (operationText($0.key), $0.value) })
        return p
    }

    /// `stored(…)` as JSON (`AccessProfile.encoded`).
    func encoded(rangeText: (Int32) -> String, operationText: (Int32) -> String, sourceName: (Int32) -> String,
                 readTo: (Int32) -> Int64 = { _ in .min }) -> [UInt8] {
        withMarks(sourceName: sourceName, readTo: readTo)
            .encoded(ranges: ranges.pairs.map { (rangeText($0.key), $0.value) }, operations: operations.pairs.map { (operationText($0.key), $0.value) })
    }

    private func withMarks(sourceName: (Int32) -> String, readTo: (Int32) -> Int64) -> AccessProfile {
        var p = profile
        let (legacy, bySource) = marks.stored(readTo: readTo, sourceName: sourceName)
        p.learned = legacy
        p.learnedBySource = bySource.isEmpty ? nil : bySource
        return p
    }

    /// `AccessProfile.learn`, with the range and operation as ids.
    mutating func learn(time: EventTime, range: Int32?, operation: Int32?, keepOperation: Bool) {
        let s = time.seconds
        profile.learnTime(time)
        if let range { ranges.addOne(range, ifCountBelow: AccessProfile.maxRanges) }
        if let operation { operations.keepEarliest(operation, s, addingIf: keepOperation || operations.count < AccessProfile.maxOperations) }
    }
}

/// Int32 id → Int64, open addressing (ids are small non-negative integers, hashed by one
/// multiplication). Small: a profile's ranges and operations.
struct IdMap {
    private struct Slot {
        var key: Int32      // -1: empty
        var value: Int64
    }

    private var slots: [Slot] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// The slot holding `key`, or the empty one where it would go (the table is never full).
    @inline(__always)
    private func find(_ key: Int32) -> Int {
        slots.withUnsafeBufferPointer { s in
            let mask = s.count - 1
            var i = Int(truncatingIfNeeded: (UInt32(bitPattern: key) &* 0x9E37_79B1) >> 8) & mask
            while s[i].key != key && s[i].key != -1 { i = (i + 1) & mask }
            return i
        }
    }

    subscript(key: Int32) -> Int64? {
        guard count > 0 else { return nil }
        let i = find(key)
        return slots[i].key == key ? slots[i].value : nil
    }

    func contains(_ key: Int32) -> Bool { self[key] != nil }

    mutating func set(_ key: Int32, _ value: Int64) {
        growIfNeeded()
        let i = find(key)
        if slots[i].key != key { slots[i].key = key; count += 1 }
        slots[i].value = value
    }

    /// Adds one to `key`'s value; a new key (value 1) only while fewer than `limit` are held.
    mutating func addOne(_ key: Int32, ifCountBelow limit: Int) {
        if count > 0 {
            let i = find(key)
            if slots[i].key == key { slots[i].value += 1; return }
        }
        guard count < limit else { return }
        set(key, 1)
    }

    /// Sets a held `key` to `value` when that is smaller (an operation's first use: history read
    /// after later events were learned moves it back); adds a new one when `adding`.
    mutating func keepEarliest(_ key: Int32, _ value: Int64, addingIf adding: Bool = true) {
        if count > 0 {
            let i = find(key)
            if slots[i].key == key { slots[i].value = min(slots[i].value, value); return }
        }
        if adding { set(key, value) }
    }

    var pairs: [(key: Int32, value: Int64)] {
        var out: [(key: Int32, value: Int64)] = []
        out.reserveCapacity(count)
        for s in slots where s.key != -1 { out.append((s.key, s.value)) }
        return out
    }

    private mutating func growIfNeeded() {
        guard (count + 1) * 2 > slots.count else { return }
        let old = pairs
        slots = Array(repeating: Slot(key: -1, value: 0), count: max(8, slots.count * 2))
        count = 0
        for (k, v) in old { set(k, v) }
    }
}

/// Writes `value` in decimal at `p`; returns how many bytes (at most 20). Shared by the baseline
/// encoders and the assembled-operation id, which write numbers without making strings.
@inline(__always)
func writeDecimal(_ value: UInt64, to p: UnsafeMutableRawPointer) -> Int {
    var count = 1
    var v = value
    while v >= 10 { v /= 10; count += 1 }
    v = value
    for i in stride(from: count - 1, through: 0, by: -1) {
        p.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10), toByteOffset: i, as: UInt8.self)
        v /= 10
    }
    return count
}

/// `writeDecimal` with a leading "-" for a negative value (at most 21 bytes).
@inline(__always)
func writeSignedDecimal(_ value: Int64, to p: UnsafeMutableRawPointer) -> Int {
    guard value < 0 else { return writeDecimal(UInt64(value), to: p) }
    p.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self)
    return 1 + writeDecimal(value.magnitude, to: p + 1)
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
        if v >= 0, v < 10 { bytes.append(UInt8(48 + v)); return }   // most hours and counts
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // sign and up to 20 digits, on the stack
        withUnsafeMutableBytes(of: &digits) { d in
            let n = writeSignedDecimal(v, to: d.baseAddress!)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[0..<n]))
        }
    }

    /// `a,b,c`: the list written into a stack buffer, then appended in one go (168 hours per
    /// profile at every save: one append per number and comma was most of the encoding).
    mutating func ints<T: BinaryInteger>(_ values: [T]) {
        guard !values.isEmpty else { return }
        withUnsafeTemporaryAllocation(byteCount: values.count * 22, alignment: 1) { buf in
            let p = buf.baseAddress!
            var n = 0
            for (i, v) in values.enumerated() {
                if i > 0 { p.storeBytes(of: 44, toByteOffset: n, as: UInt8.self); n += 1 }
                n += writeSignedDecimal(Int64(v), to: p + n)
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
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
