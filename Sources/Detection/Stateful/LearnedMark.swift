// What one baseline (an identity in a scope) has learned, kept with it, so input read again is not
// learned twice. Learning is not idempotent (an event learned twice counts twice toward the
// identity's days, hours, ranges and volumes), yet input is read again all the time: `vigil replay`
// reads every file from its start on every run (the alerts table absorbs repeated alerts), `vigil
// run` re-reads from checkpoints kept behind what detection still held, `vigil baseline learn` may
// be pointed at history already learned.
//
// The detector meets a baseline's events in event-time order, so the mark is: every event before
// `floor` is learned (or came too late to be), and from `floor` on, exactly the events whose ids
// are listed (at most `RecentLearning.cap`; past it the floor moves up). Event ids hash the
// record's bytes, the same on every read; an Activity Log operation is listed by its
// `OperationOnce` key, which all its records share. The list covers the last lateness window
// before the newest event learned (`RecentLearning.window`): there sit the events a later run may
// meet for the first time (a day's export blob holds records stamped in the previous day's last
// minutes; the end of a run learns what it still held, up to its newest event), and they are
// learned then, while those read again are skipped.
//
// Below the floor, a mark knows stretches of event time, not ids: from `since` (the first event of
// the stretch the floor ends) on, every event read was learned, as were those in the `earlier`
// stretches ([first, last] each). An event below the floor outside all of them was never read:
// history older than what the baseline learned (`vigil baseline learn` priming baselines a live
// run started, a backfill of an earlier month). It is learned, and its stretch kept. A gap inside
// one stretch is not told from an identity's quiet days; a stretch never spans two runs, though:
// a run that learns past what a stored mark speaks for starts a new one, so a period skipped over
// between runs (days 11-19 after 1-10 and 20-31) is learned when it is read.
//
// Per baseline, not one mark for the whole store: a baseline of a rule added later, or of an
// identity another process learned until a rebalance, learns its history when that is read. A
// baseline written back at the memory bound and read again in the same run carries this run's ids,
// so nothing of this run is skipped.

/// The stored form, `"learned": {"earlier": [[…, …]], "floor": …, "recent": "…", "since": …}` in a
/// profile (times in nanoseconds since the epoch).
public struct LearnedMark: Codable, Sendable, Hashable {
    /// Every event read before it, from `since` on or in an `earlier` stretch, is learned.
    public var floor: Int64
    /// The events learned at `floor` or later: "<milliseconds after floor>.<id's low 32 bits in hex>",
    /// space-separated.
    public var recent: String
    /// The first event of the stretch of learning that reaches the floor. nil in marks written
    /// before it was kept: the profile's `firstSeen` stands for it.
    public var since: Int64?
    /// Older stretches learned, [first, last] event time each, ascending (history read after
    /// later events were learned); nil when there are none.
    public var earlier: [[Int64]]?

    public init(floor: Int64, recent: String, since: Int64? = nil, earlier: [[Int64]]? = nil) {
        self.floor = floor
        self.recent = recent
        self.since = since
        self.earlier = earlier
    }

    /// `earlier` as (first, last) pairs; malformed ones left out.
    var earlierStretches: [Stretch] {
        (earlier ?? []).compactMap { $0.count == 2 && $0[0] <= $0[1] ? Stretch(first: $0[0], last: $0[1]) : nil }
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

/// A stretch of event time (nanoseconds, both ends included) over which a baseline learned every
/// event read.
struct Stretch: Equatable {
    var first: Int64
    var last: Int64

    func contains(_ t: Int64) -> Bool { first <= t && t <= last }

    /// At most `cap` stretches, ascending: overlapping ones joined, then, past the cap, the two with
    /// the shortest gap between them (what lay in that gap is from then on taken as learned).
    static func merged(_ stretches: [Stretch], cap: Int) -> [Stretch] {
        var out: [Stretch] = []
        for s in stretches.sorted(by: { $0.first < $1.first }) {
            if let last = out.last, s.first <= last.last { out[out.count - 1].last = max(last.last, s.last) } else { out.append(s) }
        }
        func gap(after i: Int) -> Int64 { out[i + 1].first &- out[i].last }
        while out.count > max(1, cap) {
            var i = 0
            for j in 1..<(out.count - 1) where gap(after: j) < gap(after: i) { i = j }
            out[i].last = out[i + 1].last
            out.remove(at: i + 1)
        }
        return out
    }
}

/// The events a baseline learned in the last lateness window before its newest one, kept as it
/// learns, for its mark.
struct RecentLearning {
    /// How far back from the newest event learned the ids are kept (nanoseconds).
    let window: Int64
    /// Most ids kept: past it, the oldest go and the floor moves above them. One identity in one
    /// scope learning more than ~17 events a minute lists less than the whole window, and a later
    /// run takes unseen events older than what is listed as learned. Across all baselines the lists
    /// hold at most the events of one window, each as 16 bytes (what the event-time buffer holds
    /// whole); a baseline stores at most ~4 KB of them.
    static let cap = 256
    private static let millisecond: Int64 = 1_000_000

    /// Ids are listed by their low 32 bits (8 hex digits, not 16): telling one of a baseline's
    /// unseen events from the ≤ 256 it listed, a mix-up is one in ~17 million.
    static func short(_ id: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: id) }

    /// (time, id) of the events learned lately, in time order from `head`.
    private var learned: [(time: Int64, id: UInt64)] = []
    private var head = 0
    private var newest = Int64.min
    /// The floor carried from a stored mark, and the one the cap pushed up.
    private var carriedFloor = Int64.min
    private var cappedFloor = Int64.min
    /// The first event of the stretch the floor ends (`LearnedMark.since`).
    private var since = Int64.min
    /// The older stretches carried, and this run's learning below the carried floor (history
    /// older than the mark knew: `AlreadyLearned` let it through).
    private var earlier: [Stretch] = []
    private var backfill: Stretch?
    /// Most older stretches kept: past it the two closest are joined.
    static let maxEarlier = 8
    /// Past it, the carried mark's stretch has ended (as `AlreadyLearned.until`): when the first
    /// event this run learns lies past it, it starts a stretch of its own; `carriedLast` is where
    /// the carried one ends.
    private var carriedUntil = Int64.max
    private var carriedLast = Int64.min

    init(window: Int64, continuing mark: LearnedMark? = nil, since fallbackSince: Int64 = .min) {
        self.init(window: window, continuing: mark, entries: mark?.entries ?? [], since: fallbackSince)
    }

    /// `init(window:continuing:since:)` with the mark's `entries`, read once by the caller.
    /// `fallbackSince`: what stands for the mark's `since` when it has none (the profile's first event).
    init(window: Int64, continuing mark: LearnedMark?, entries: [(time: Int64, id: UInt64)], since fallbackSince: Int64 = .min) {
        self.window = max(0, window)
        since = mark?.since ?? fallbackSince
        guard let mark else { return }
        carriedFloor = mark.floor
        earlier = mark.earlierStretches
        learned = entries.sorted { $0.time < $1.time }
        newest = learned.last?.time ?? .min
        // Listed times are kept to the millisecond: the newest may lie anywhere in its millisecond.
        let listed = newest == .min ? mark.floor : newest
        carriedLast = listed &+ Self.millisecond &- 1
        carriedUntil = listed &+ Self.millisecond &+ self.window
    }

    /// Every event before it is learned: one window before the newest learned, or higher past the
    /// cap; on a whole millisecond, the precision listed times are kept to, so an event listed
    /// stays at or after it when read back.
    var floor: Int64 {
        let f = max(carriedFloor, newest == .min ? .min : newest &- window, cappedFloor)
        return f == .min ? f : f - ((f % Self.millisecond) + Self.millisecond) % Self.millisecond
    }

    mutating func learned(time: Int64, id: UInt64) {
        if carriedFloor != .min, time < carriedFloor {
            // History below the carried floor, never read before: a stretch of its own.
            backfill = Stretch(first: min(backfill?.first ?? time, time), last: max(backfill?.last ?? time, time))
            return
        }
        if time > carriedUntil, since != .min {
            // The first event this run learns is past what the carried mark speaks for: between
            // its newest and this event lies time this baseline's runs may never have read (days
            // 20-31 replayed after days 1-10), so the carried stretch ends at its newest and a new
            // one starts here. (A mark that knows no `since` keeps none: all below its floor
            // stays learned.)
            earlier.append(Stretch(first: min(since, carriedLast), last: carriedLast))
            since = time
        }
        // Only the first event learned tells: from it on, this run reads on without a gap.
        carriedUntil = .max
        // The stretch reaches back to the first event learned.
        if carriedFloor == .min || since != .min { since = since == .min ? time : min(since, time) }
        // Events come in time order, but a run carrying a mark may learn one older than some listed.
        if let last = learned.last, time < last.time {
            var lo = head, hi = learned.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if learned[mid].time <= time { lo = mid + 1 } else { hi = mid }
            }
            learned.insert((time, id), at: lo)
        } else {
            learned.append((time, id))
        }
        newest = max(newest, time)
        if learned.count - head > Self.cap {
            // The oldest goes; the floor moves past its millisecond (the others in it go too).
            cappedFloor = max(cappedFloor, learned[head].time &+ Self.millisecond)
        }
        let floor = floor
        while head < learned.count, learned[head].time < floor { head += 1 }
        if head > Self.cap / 4 {
            learned = Array(learned[head...])   // a new buffer, sized to what is left
            head = 0
        }
    }

    /// The stored form; nil when nothing was learned.
    var mark: LearnedMark? {
        guard newest != .min || carriedFloor != .min else { return nil }
        let floor = floor
        // Written digit by digit: every baseline an event touched is encoded at every save.
        var text: [UInt8] = []
        text.reserveCapacity((learned.count - head) * 24)
        for e in learned[head...] where e.time >= floor {
            if !text.isEmpty { text.append(32) }
            Self.appendDecimal(UInt64((e.time - floor) / Self.millisecond), to: &text)
            text.append(46)
            Self.appendHex(UInt64(Self.short(e.id)), to: &text)
        }
        let stretches = Stretch.merged(earlier + (backfill.map { [$0] } ?? []), cap: Self.maxEarlier)
        return LearnedMark(floor: floor, recent: String(decoding: text, as: UTF8.self), since: since == .min ? nil : since,
                           earlier: stretches.isEmpty ? nil : stretches.map { [$0.first, $0.last] })
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
    /// Below the floor, what is learned: from `since` on, and the `earlier` stretches.
    private var since = Int64.min
    private var earlier: [Stretch] = []
    /// Past it, nothing listed can come again.
    private var until = Int64.min
    private var ids: Set<UInt32> = []
    private var active = false

    static let none = AlreadyLearned(nil, window: 0)

    /// `window`: `RecentLearning.window`. A listed id can come again up to a window after the
    /// newest listed time: an operation is listed by its key, which its later records share.
    /// `fallbackSince`: what stands for the mark's `since` when it has none (the profile's first event).
    init(_ mark: LearnedMark?, window: Int64, since fallbackSince: Int64 = .min) {
        self.init(mark, entries: mark?.entries ?? [], window: window, since: fallbackSince)
    }

    /// `init(_:window:since:)` with the mark's `entries`, read once by the caller.
    init(_ mark: LearnedMark?, entries: [(time: Int64, id: UInt64)], window: Int64, since fallbackSince: Int64 = .min) {
        guard let mark else { return }
        floor = mark.floor
        since = mark.since ?? fallbackSince
        earlier = mark.earlierStretches
        // Listed times are kept to the millisecond: the newest may be up to one later.
        until = (entries.map(\.time).max() ?? mark.floor) &+ 1_000_000 &+ max(0, window)
        ids = Set(entries.map { RecentLearning.short($0.id) })
        active = true
    }

    /// Whether the baseline's next event, at `t` with `id`, was learned before.
    mutating func covers(_ t: Int64, id: UInt64) -> Bool {
        guard active else { return false }
        if t < floor { return t >= since || earlier.contains { $0.contains(t) } }
        if t <= until { return ids.contains(RecentLearning.short(id)) }
        active = false   // past the mark: nothing later was learned
        ids = []
        return false
    }
}
