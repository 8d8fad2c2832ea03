// What one baseline (an identity in a scope) has learned, kept with it, so input read again is not
// learned twice. Learning is not idempotent (an event learned twice counts twice toward the
// identity's days, hours, ranges and volumes), yet input is read again all the time: `vigil replay`
// reads every file from its start on every run (the alerts table absorbs repeated alerts), `vigil
// run` re-reads from checkpoints kept behind what detection still held, `vigil baseline learn` may
// be pointed at history already learned.
//
// The detector meets a baseline's events in event-time order, so the mark is: every event before
// `floor` is learned (or came too late to be), and from `floor` on, exactly the events whose ids
// are listed. Event ids are hashes of the record's bytes, the same on every read. The list covers
// the last lateness window before the newest event learned (`RecentLearning.window`): there sit the
// events a later run may meet for the first time (a day's export blob holds records stamped in
// the previous day's last minutes; the end of a run learns what it still held, up to its newest
// event), and they are learned then, while those read again are skipped. Events older than that are
// taken as learned: a baseline learns forward in event time.
//
// Per baseline, not one mark for the whole store: a baseline of a rule added later, or of an
// identity another process learned until a rebalance, learns its history when that is read. A
// baseline written back at the memory bound and read again in the same run carries this run's ids,
// so nothing of this run is skipped.

/// The stored form, `"learned": {"floor": …, "recent": "…"}` in a profile.
public struct LearnedMark: Codable, Sendable, Hashable {
    /// Nanoseconds since the epoch: every event of the baseline before it is learned.
    public var floor: Int64
    /// The events learned at `floor` or later: "<milliseconds after floor>.<id in hex>",
    /// space-separated.
    public var recent: String

    public init(floor: Int64, recent: String) {
        self.floor = floor
        self.recent = recent
    }

    /// (time in nanoseconds, to the millisecond, never before `floor`; id) of each listed event.
    var entries: [(time: Int64, id: UInt64)] {
        recent.split(separator: " ").compactMap { item in
            let parts = item.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let ms = Int64(parts[0]), ms >= 0, let id = UInt64(parts[1], radix: 16) else { return nil }
            return (floor &+ ms &* 1_000_000, id)
        }
    }
}

/// The events a baseline learned in the last lateness window before its newest one, kept as it
/// learns, for its mark.
struct RecentLearning {
    /// How far back from the newest event learned the ids are kept (nanoseconds).
    let window: Int64
    /// Most ids kept: past it, the oldest go and the floor moves above them (a baseline learning
    /// hundreds of events a minute lists less than the whole window).
    static let cap = 256

    /// (time, id) of the events learned lately, oldest first, from `head`.
    private var learned: [(time: Int64, id: UInt64)] = []
    private var head = 0
    private var newest = Int64.min
    /// The floor carried from a stored mark, and the one the cap pushed up.
    private var carriedFloor = Int64.min
    private var cappedFloor = Int64.min

    init(window: Int64, continuing mark: LearnedMark? = nil) {
        self.window = max(0, window)
        guard let mark else { return }
        carriedFloor = mark.floor
        learned = mark.entries
        newest = learned.map(\.time).max() ?? .min
    }

    /// Every event before it is learned: one window before the newest learned, or higher.
    var floor: Int64 { max(carriedFloor, newest == .min ? .min : newest &- window, cappedFloor) }

    mutating func learned(time: Int64, id: UInt64) {
        learned.append((time, id))
        newest = max(newest, time)
        while head < learned.count {
            if learned.count - head > Self.cap {
                cappedFloor = max(cappedFloor, learned[head].time &+ 1)
            } else if learned[head].time >= floor {
                break
            }
            head += 1
        }
        if head > 64, head * 2 > learned.count {
            learned.removeFirst(head)
            head = 0
        }
    }

    /// The stored form; nil when nothing was learned.
    var mark: LearnedMark? {
        guard newest != .min else { return nil }
        let floor = floor
        // Written digit by digit: every baseline an event touched is encoded at every save.
        var text: [UInt8] = []
        text.reserveCapacity((learned.count - head) * 24)
        for e in learned[head...] where e.time >= floor {
            if !text.isEmpty { text.append(32) }
            Self.appendDecimal(UInt64((e.time - floor) / 1_000_000), to: &text)
            text.append(46)
            Self.appendHex(e.id, to: &text)
        }
        return LearnedMark(floor: floor, recent: String(decoding: text, as: UTF8.self))
    }

    private static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        let start = out.count
        var v = value
        repeat {
            out.append(UInt8(48 + v % 10))
            v /= 10
        } while v > 0
        out[start...].reverse()
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendHex(_ value: UInt64, to out: inout [UInt8]) {
        var shift = 60
        while shift > 0 && (value >> UInt64(shift)) == 0 { shift -= 4 }
        while shift >= 0 {
            out.append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }
}

/// Which of a baseline's events a run skips because its stored mark says they are learned.
struct AlreadyLearned {
    private var floor = Int64.min
    private var through = Int64.min
    private var ids: Set<UInt64> = []
    private var active = false

    static let none = AlreadyLearned(nil)

    init(_ mark: LearnedMark?) {
        guard let mark else { return }
        let entries = mark.entries
        floor = mark.floor
        through = entries.map(\.time).max() ?? mark.floor
        ids = Set(entries.map(\.id))
        active = true
    }

    /// Whether the baseline's next event, at `t` with `id`, was learned before.
    mutating func covers(_ t: Int64, id: UInt64) -> Bool {
        guard active else { return false }
        if t < floor { return true }
        // Listed times are kept to the millisecond: one in the newest listed millisecond may be later.
        if t < through &+ 1_000_000 { return ids.contains(id) }
        active = false   // past the mark: nothing later was learned
        ids = []
        return false
    }
}
