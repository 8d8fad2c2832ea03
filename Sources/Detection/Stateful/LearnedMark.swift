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
// Below the floor, a mark knows stretches of event time: from `since` (the first event of the
// stretch the floor ends) on, every event read was learned, as were those in the `earlier`
// stretches ([first, last] each). An event below the floor outside all of them was never read:
// history older than what the baseline learned (`vigil baseline learn` priming baselines a live
// run started, a backfill of an earlier month). It is learned, and its stretch kept. Within one
// window of a stretch's edges the ids of the events learned there are kept too (`head`, `tail`;
// at most `RecentLearning.edgeCap` each): an event there is told by id, not by time, so an
// operation whose records straddle the edge is learned once, and events at the edge's instant
// split by a stop are told apart. A gap inside one stretch is not told from an identity's quiet
// days. Stretches follow what runs read: a run reads every event from its first on, so stretches
// whose gap it read through are one (a backfill written back at the memory bound stays one), and a
// run that started reading past what a stored mark speaks for starts a new one, so a period
// skipped over between runs (days 11-19 after 1-10 and 20-31) is learned when it is read.
//
// Per baseline, not one mark for the whole store: a baseline of a rule added later, or of an
// identity another process learned until a rebalance, learns its history when that is read. A
// baseline written back at the memory bound and read again in the same run carries this run's ids,
// so nothing of this run is skipped.

/// The stored form, `{"earlier": […], "floor": …, "head": "…", "headUntil": …, "recent": "…",
/// "since": …, "source": "…"}` in a profile's `learnedBySource` (times in nanoseconds since the
/// epoch; one mark per source of events, `SourceMarks`). A mark stored before sources were told
/// apart is the profile's `learned`, without `source`.
public struct LearnedMark: Codable, Sendable, Hashable {
    /// Every event read before it, in a stretch, is learned.
    public var floor: Int64
    /// The events learned at `floor` or later: "<milliseconds after floor>.<id's low 32 bits in hex>",
    /// space-separated.
    public var recent: String
    /// The first event of the stretch of learning that reaches the floor. nil in marks written
    /// before it was kept: the profile's `firstSeen` stands for it.
    public var since: Int64?
    /// The events learned in the window below `floor` ("<ms before floor>.<id>"): an operation,
    /// listed by its key, may be met again by a record up to a window after the one it was learned
    /// from, above the floor (a later blob holding its Success).
    public var older: String?
    /// The events learned from `since` on, all of them before `headUntil` ("<ms after since>.<id>").
    public var head: String?
    public var headUntil: Int64?
    /// Older stretches learned, ascending (history read after later events were learned).
    public var earlier: [LearnedStretch]?
    /// The source of the events it speaks for (`LearningSource`: "activity",
    /// "resourceLog/amldatastoreevent", …); nil in marks stored before sources were told apart,
    /// which speak for every source (`SourceMarks`).
    public var source: String?

    public init(floor: Int64, recent: String, older: String? = nil, since: Int64? = nil, head: String? = nil, headUntil: Int64? = nil,
                earlier: [LearnedStretch]? = nil, source: String? = nil) {
        self.floor = floor
        self.recent = recent
        self.older = older
        self.since = since
        self.head = head
        self.headUntil = headUntil
        self.earlier = earlier
        self.source = source
    }

    /// The stretches of event time it speaks for (nanoseconds, both ends included), ascending: the
    /// earlier ones, then the one `since` starts, up to the newest event listed. (A mark without
    /// `since` speaks from the profile's first event, which it does not know: its last stretch
    /// starts at nil.)
    public var stretches: [(first: Int64?, last: Int64)] {
        let newest = entries.map(\.time).max() ?? floor
        return (earlier ?? []).map { (Optional($0.first), $0.last) } + [(since, newest)]
    }

    /// (time in nanoseconds, to the millisecond; id) of each listed event, `older` ones included.
    var entries: [LearnedEntry] {
        LearnedEntry.parse(older ?? "", base: floor, after: false) + LearnedEntry.parse(recent, base: floor, after: true)
    }
}

/// A stretch a baseline learned, as stored: every event read from `first` to `last` was learned;
/// near the edges, the ones listed.
public struct LearnedStretch: Codable, Sendable, Hashable {
    public var first: Int64
    public var last: Int64
    /// The events learned from `first` on, all of them before `headUntil` ("<ms after first>.<id>").
    public var head: String
    public var headUntil: Int64
    /// The events learned up to `last`, all of them from `tailFrom` on ("<ms before last>.<id>").
    public var tail: String
    public var tailFrom: Int64

    public init(first: Int64, last: Int64, head: String, headUntil: Int64, tail: String, tailFrom: Int64) {
        self.first = first
        self.last = last
        self.head = head
        self.headUntil = headUntil
        self.tail = tail
        self.tailFrom = tailFrom
    }
}

/// A learned event as marks list it: its time (to the millisecond) and its id.
struct LearnedEntry: Equatable {
    var time: Int64
    var id: UInt64

    private static let millisecond: Int64 = 1_000_000

    /// "<ms>.<hex id>" items, space-separated: milliseconds after `base` (`after`) or before it.
    /// Unreadable items are left out.
    static func parse(_ text: String, base: Int64, after: Bool) -> [LearnedEntry] {
        text.split(separator: " ").compactMap { item in
            let parts = item.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let ms = Int64(parts[0]), ms >= 0, let id = UInt64(parts[1], radix: 16) else { return nil }
            return LearnedEntry(time: after ? base &+ ms &* millisecond : base &- ms &* millisecond, id: id)
        }
    }

    /// The text `parse` reads; written digit by digit (every baseline an event touched is encoded
    /// at every save).
    static func encode<C: Collection>(_ entries: C, base: Int64, after: Bool) -> String where C.Element == LearnedEntry {
        var text: [UInt8] = []
        text.reserveCapacity(entries.count * 24)
        for e in entries {
            if !text.isEmpty { text.append(32) }
            appendDecimal(UInt64(max(0, (after ? e.time &- base : base &- e.time) / millisecond)), to: &text)
            text.append(46)
            appendHex(UInt64(RecentLearning.short(e.id)), to: &text)
        }
        return String(decoding: text, as: UTF8.self)
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

/// The events learned near the start of a stretch: all of them before `until` (the end of the
/// first window, or where the list filled up), and those of a second window while there is room
/// (`reach`): an operation learned there, by its key, may have a record in the first.
struct HeadIds: Equatable {
    var entries: [LearnedEntry] = []
    var until: Int64
    var reach: Int64

    init(entries: [LearnedEntry] = [], until: Int64, reach: Int64) {
        self.entries = entries
        self.until = until
        self.reach = reach
    }

    /// A head starting at `first`: complete for one window, listing a second.
    init(first: Int64, window: Int64) {
        self.init(until: first &+ window, reach: first &+ 2 &* window)
    }

    mutating func add(_ e: LearnedEntry) {
        guard e.time < reach else { return }
        if entries.count < RecentLearning.edgeCap { entries.append(e) } else { until = min(until, e.time) }
    }

    /// The head of a stretch joined with `later`'s, which starts no earlier: its events inside this
    /// head's windows are added; where its own list stopped short, this one stops too.
    func joined(with later: HeadIds, startingAt start: Int64) -> HeadIds {
        guard start < reach else { return self }
        var out = self
        if start < until { out.until = min(until, later.until) }
        for e in later.entries where e.time < out.reach { out.add(e) }
        return out
    }
}

/// The events learned near the end of a stretch: all of them from `from` on (one window before the
/// newest, or past what the list had to drop), and those of the window before while there is room
/// (an operation learned there may have a record in the last window).
struct TailIds: Equatable {
    var entries: [LearnedEntry] = []
    var from: Int64

    mutating func add(_ e: LearnedEntry, window: Int64) {
        entries.append(e)
        while let first = entries.first, first.time < e.time &- 2 &* window { entries.removeFirst() }
        if entries.count > RecentLearning.edgeCap { from = max(from, entries.removeFirst().time &+ 1) }
        from = max(from, e.time &- window)
    }

    /// The tail of a stretch joined with `other`'s, which ends `otherLast`, no later: its events
    /// from a window before this tail's start on are added (an operation listed there may have a
    /// record in this tail's window); where its own list started late inside this tail's window,
    /// this one does too.
    func joined(with other: TailIds, endingAt otherLast: Int64, window: Int64) -> TailIds {
        let reach = from &- window
        guard otherLast >= reach else { return self }
        var out = self
        if otherLast >= from { out.from = max(from, other.from) }
        out.entries = (entries + other.entries.filter { $0.time >= reach }).sorted { $0.time < $1.time }
        while out.entries.count > RecentLearning.edgeCap {
            let dropped = out.entries.removeFirst()
            if dropped.time >= out.from { out.from = dropped.time &+ 1 }
        }
        return out
    }
}

/// A stretch of event time (nanoseconds, both ends included) over which a baseline learned every
/// event read, with the ids near its edges.
struct Stretch: Equatable {
    var first: Int64
    var last: Int64
    var head: HeadIds
    var tail: TailIds

    /// A stretch starting at `e`.
    init(starting e: LearnedEntry, window: Int64) {
        first = e.time
        last = e.time
        head = HeadIds(first: e.time, window: window)
        tail = TailIds(from: .min)
        add(e, window: window)
    }

    init(first: Int64, last: Int64, head: HeadIds, tail: TailIds) {
        self.first = first
        self.last = last
        self.head = head
        self.tail = tail
    }

    init(_ s: LearnedStretch, window: Int64) {
        first = s.first
        last = s.last
        head = HeadIds(entries: LearnedEntry.parse(s.head, base: s.first, after: true), until: s.headUntil,
                       reach: s.first &+ 2 &* window)
        tail = TailIds(entries: LearnedEntry.parse(s.tail, base: s.last, after: false), from: s.tailFrom)
    }

    var stored: LearnedStretch {
        LearnedStretch(first: first, last: last, head: LearnedEntry.encode(head.entries, base: first, after: true), headUntil: head.until,
                       tail: LearnedEntry.encode(tail.entries, base: last, after: false), tailFrom: tail.from)
    }

    /// The next event learned in it, in time order.
    mutating func add(_ e: LearnedEntry, window: Int64) {
        first = min(first, e.time)   // (the detector meets events in time order; a direct caller may not)
        last = max(last, e.time)
        head.add(e)
        tail.add(e, window: window)
    }

    /// At most `cap` stretches, ascending: overlapping ones joined, then, past the cap, the two with
    /// the shortest gap between them (what lay in that gap is from then on taken as learned),
    /// except across gaps ending after `open` (a run may still be reading them: past the cap it
    /// keeps more, up to twice the cap). A joined stretch keeps the ids both listed near its edges.
    static func merged(_ stretches: [Stretch], cap: Int, open: Int64 = .max, window: Int64 = 0) -> [Stretch] {
        var out: [Stretch] = []
        for s in stretches.sorted(by: { $0.first < $1.first }) {
            // Overlapping, not touching: two stretches meeting at one instant may each have met
            // only some of its events, which their edges' ids tell apart.
            if let last = out.last, s.first < last.last { out[out.count - 1] = last.joined(with: s, window: window) } else { out.append(s) }
        }
        func gap(after i: Int) -> Int64 { out[i + 1].first &- out[i].last }
        while out.count > max(1, cap) {
            let candidates = (0..<(out.count - 1)).filter { out.count > 2 * cap || out[$0 + 1].first <= open }
            guard let i = candidates.min(by: { gap(after: $0) < gap(after: $1) }) else { break }
            out[i] = out[i].joined(with: out[i + 1], window: window)
            out.remove(at: i + 1)
        }
        return out
    }

    /// Joined with `later`, which starts no earlier.
    private func joined(with later: Stretch, window: Int64) -> Stretch {
        let (end, other) = later.last >= last ? (later, self) : (self, later)
        return Stretch(first: first, last: end.last, head: head.joined(with: later.head, startingAt: later.first),
                       tail: end.tail.joined(with: other.tail, endingAt: other.last, window: window))
    }
}

/// A stored mark read once, for both `RecentLearning` (which carries it on) and `AlreadyLearned`
/// (which skips what it covers): the listed ids, the stretch `since` starts with the ids near it,
/// and the earlier stretches.
struct ReadMark {
    let floor: Int64
    let entries: [LearnedEntry]
    /// `LearnedMark.since`, or the fallback standing for it in a mark written before it was kept
    /// (the profile's first event; its head then lists nothing: told by time).
    let since: Int64
    let sinceHead: HeadIds
    let earlier: [Stretch]

    init(_ mark: LearnedMark, window: Int64, since fallbackSince: Int64 = .min) {
        let window = max(0, window)
        floor = mark.floor
        entries = mark.entries
        since = mark.since ?? fallbackSince
        if let s = mark.since {
            sinceHead = HeadIds(entries: LearnedEntry.parse(mark.head ?? "", base: s, after: true), until: mark.headUntil ?? s,
                                reach: mark.headUntil == nil ? s : s &+ 2 &* window)
        } else {
            sinceHead = HeadIds(until: since, reach: since)
        }
        earlier = (mark.earlier ?? []).map { Stretch($0, window: window) }
    }
}

/// The events a baseline learned in the last lateness window before its newest one, kept as it
/// learns, with the stretches below, for its mark.
struct RecentLearning {
    /// How far back from the newest event learned the ids are kept (nanoseconds).
    let window: Int64
    /// Most ids kept at or above the floor: past it, the oldest go and the floor moves above them.
    /// One identity in one scope learning more than ~17 events a minute lists less than the whole
    /// window, and a later run takes unseen events older than what is listed as learned. The window
    /// below the floor is listed too (`LearnedMark.older`), within the same room: `2 × cap` in all,
    /// the oldest dropped first. Across all baselines the lists hold at most the events of two
    /// windows, each as 16 bytes; a baseline's mark of one source stores at most ~8 KB of them
    /// (`SourceMarks`: one mark per source of events, at most 65).
    static let cap = 256
    /// Most ids kept at each edge of a stretch below the floor; past it, the rest of the edge's
    /// window is told by time.
    static let edgeCap = 64
    /// Most older stretches kept: past it the two closest are joined, unless the gap between them
    /// may still be read by this run (`Stretch.merged`'s `open`; then up to twice as many).
    static let maxEarlier = 8
    private static let millisecond: Int64 = 1_000_000

    /// Ids are listed by their low 32 bits (8 hex digits, not 16): telling one of a baseline's
    /// unseen events from the few hundred it listed, a mix-up is one in ~17 million.
    static func short(_ id: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: id) }

    /// (time, id) of the events learned lately, in time order from `head`.
    private var learned: [LearnedEntry] = []
    private var head = 0
    private var newest = Int64.min
    /// The floor carried from a stored mark, and the one the cap pushed up.
    private var carriedFloor = Int64.min
    private var cappedFloor = Int64.min
    /// The first event of the stretch the floor ends (`LearnedMark.since`), and the ids near it.
    private var since = Int64.min
    private var sinceHead = HeadIds(until: .min, reach: .min)
    /// The older stretches carried, and this run's learning below the carried floor (history
    /// older than the mark knew: `AlreadyLearned` let it through).
    private var earlier: [Stretch] = []
    private var backfill: Stretch?
    /// This run started reading past what the carried mark speaks for: the first event it learns
    /// starts a stretch of its own, the carried one ending at `carriedLast`.
    private var splitPending = false
    private var carriedLast = Int64.min
    /// The next event learned starts the stretch `since` names (nothing learned yet, or a split).
    private var startsStretch: Bool
    /// The first event time this run met (`AnomalyDetector`): from it on, it read every event.
    private let readingSince: Int64

    init(window: Int64, continuing mark: LearnedMark? = nil, since fallbackSince: Int64 = .min, readingSince: Int64 = .min) {
        self.init(window: window, continuing: mark.map { ReadMark($0, window: window, since: fallbackSince) },
                  since: fallbackSince, readingSince: readingSince)
    }

    /// `init(window:continuing:since:readingSince:)` with the mark already read (`ReadMark`, shared
    /// with `AlreadyLearned`). `fallbackSince`: where a profile stored without a mark started (its
    /// first event). `readingSince`: the first event time this run met (`AnomalyDetector`), which
    /// tells whether it read on from the carried mark, and which gaps between stretches it read
    /// through.
    init(window: Int64, continuing read: ReadMark?, since fallbackSince: Int64 = .min, readingSince: Int64 = .min) {
        self.window = max(0, window)
        self.readingSince = readingSince
        since = read?.since ?? fallbackSince
        startsStretch = since == .min && read == nil
        sinceHead = read?.sinceHead ?? HeadIds(until: since, reach: since)   // no ids known near it: told by time
        guard let read else { return }
        carriedFloor = read.floor
        earlier = read.earlier
        learned = read.entries.sorted { $0.time < $1.time }
        newest = learned.last?.time ?? .min
        // Listed times are kept to the millisecond: the newest may lie anywhere in its millisecond.
        let listed = newest == .min ? read.floor : newest
        carriedLast = listed &+ Self.millisecond &- 1
        // Past `AlreadyLearned.until`: between the mark's newest and where this run started lies
        // time this baseline's runs may never have read (days 20-31 replayed after days 1-10).
        // (A mark that knows no `since` keeps none: all below its floor stays learned.)
        splitPending = since != .min && readingSince > listed &+ Self.millisecond &+ self.window
    }

    /// Every event before it is learned: one window before the newest learned, or higher past the
    /// cap; on a whole millisecond, the precision listed times are kept to, so an event listed
    /// stays at or after it when read back.
    var floor: Int64 {
        let f = max(carriedFloor, newest == .min ? .min : newest &- window, cappedFloor)
        return f == .min ? f : f - ((f % Self.millisecond) + Self.millisecond) % Self.millisecond
    }

    mutating func learned(time: Int64, id: UInt64) {
        let entry = LearnedEntry(time: time, id: id)
        if carriedFloor != .min, time < carriedFloor {
            // History below the carried floor, never read before: a stretch of its own.
            if backfill == nil { backfill = Stretch(starting: entry, window: window) } else { backfill!.add(entry, window: window) }
            return
        }
        if splitPending {
            var tail = TailIds(from: carriedFloor)
            for e in learned[head...] { tail.add(e, window: window) }
            earlier.append(Stretch(first: min(since, carriedLast), last: carriedLast, head: sinceHead, tail: tail))
            splitPending = false
            startsStretch = true
        }
        if startsStretch {
            since = time
            sinceHead = HeadIds(first: time, window: window)
            startsStretch = false
        } else if since != .min, time < since {
            since = time   // a young stretch reaching back: an unlisted event in the carried window
        }
        // (A mark that knows no `since` keeps none: all below its floor stays learned.)
        if since != .min { sinceHead.add(entry) }
        // Events come in time order, but a run carrying a mark may learn one older than some listed.
        if let last = learned.last, time < last.time {
            var lo = head, hi = learned.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if learned[mid].time <= time { lo = mid + 1 } else { hi = mid }
            }
            learned.insert(entry, at: lo)
        } else {
            learned.append(entry)
        }
        newest = max(newest, time)
        // At most `cap` at or above the floor: past it the oldest of them goes below, the floor
        // moving past its millisecond (the others in it go too).
        let above = firstIndex(atOrAfter: floor)
        if learned.count - above > Self.cap { cappedFloor = max(cappedFloor, learned[above].time &+ Self.millisecond) }
        // Below the floor, one window more is kept, within `2 × cap` in all.
        let keepFrom = floor &- window
        while head < learned.count, learned[head].time < keepFrom || learned.count - head > 2 * Self.cap { head += 1 }
        if head > Self.cap / 4 {
            learned = Array(learned[head...])   // a new buffer, sized to what is left
            head = 0
        }
    }

    /// The position of the first listed event at or after `t` (binary search: the list is in time order).
    private func firstIndex(atOrAfter t: Int64) -> Int {
        var lo = head, hi = learned.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if learned[mid].time < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The stored form; nil when nothing was learned.
    var mark: LearnedMark? { mark(readTo: .min) }

    /// The stored form, when this run has read every event from `readingSince` to `readTo`: two
    /// stretches with the gap between them inside that span are one (the gap was read, and what
    /// this baseline met there learned), so a backfill written back at the memory bound stays one
    /// stretch, and one that reads on up to `since` joins the stretch `since` starts.
    func mark(readTo: Int64) -> LearnedMark? {
        guard newest != .min || carriedFloor != .min else { return nil }
        let floor = floor
        var stretches = Stretch.merged(earlier + (backfill.map { [$0] } ?? []), cap: .max, window: window)
        // Strictly before `readTo`: events at that very instant may not all have been released yet.
        func read(from a: Int64, to b: Int64) -> Bool { readingSince != .min && a >= readingSince && b < readTo }
        var i = 0
        while i + 1 < stretches.count {
            if read(from: stretches[i].last, to: stretches[i + 1].first) {
                stretches[i] = Stretch.merged([stretches[i], stretches[i + 1]], cap: 1, window: window)[0]
                stretches.remove(at: i + 1)
            } else {
                i += 1
            }
        }
        var since = since, sinceHead = sinceHead
        if since != .min, let last = stretches.last, last.last < since, read(from: last.last, to: since) {
            sinceHead = last.head.joined(with: sinceHead, startingAt: since)
            since = last.first
            stretches.removeLast()
        }
        // Past the cap, never across a gap this run may still read (one ending after it started).
        stretches = Stretch.merged(stretches, cap: Self.maxEarlier, open: readingSince == .min ? .max : readingSince, window: window)
        let known = since != .min
        let above = firstIndex(atOrAfter: floor)
        return LearnedMark(floor: floor, recent: LearnedEntry.encode(learned[above...], base: floor, after: true),
                           older: above > head ? LearnedEntry.encode(learned[head..<above], base: floor, after: false) : nil,
                           since: known ? since : nil, head: known ? LearnedEntry.encode(sinceHead.entries, base: since, after: true) : nil,
                           headUntil: known ? sinceHead.until : nil, earlier: stretches.isEmpty ? nil : stretches.map(\.stored))
    }
}

/// Which of a baseline's events a run skips because its stored mark says they are learned.
struct AlreadyLearned {
    private var floor = Int64.min
    /// Past it, nothing listed can come again.
    private var until = Int64.min
    private var ids: Set<UInt32> = []
    private var active = false
    /// Below the floor: the stretch `since` starts (up to the floor) and the earlier ones.
    private var stretches: [Check] = []
    private var window: Int64 = 0

    /// A stretch as a run checks it: inside it, an event is learned when it is listed, or, away
    /// from the edges' listed windows (`headUntil` ..< `tailFrom`), by its time. Near it, within
    /// a window, a listed id is learned (an operation whose first record lay inside).
    private struct Check {
        var first, last, headUntil, tailFrom: Int64
        var ids: Set<UInt32>
    }

    static let none = AlreadyLearned(nil, window: 0)

    /// `window`: `RecentLearning.window`. A listed id can come again up to a window after the
    /// newest listed time: an operation is listed by its key, which its later records share.
    /// `fallbackSince`: what stands for the mark's `since` when it has none (the profile's first event).
    init(_ mark: LearnedMark?, window: Int64, since fallbackSince: Int64 = .min) {
        self.init(mark.map { ReadMark($0, window: window, since: fallbackSince) }, window: window)
    }

    /// `init(_:window:since:)` with the mark already read (`ReadMark`, shared with `RecentLearning`).
    init(_ read: ReadMark?, window: Int64) {
        guard let read else { return }
        floor = read.floor
        self.window = max(0, window)
        // Listed times are kept to the millisecond: the newest may be up to one later.
        until = (read.entries.map(\.time).max() ?? read.floor) &+ 1_000_000 &+ self.window
        active = true
        func shortIds(_ entries: [LearnedEntry]) -> Set<UInt32> { Set(entries.map { RecentLearning.short($0.id) }) }
        ids = shortIds(read.entries)
        stretches = [Check(first: read.since, last: read.floor &- 1, headUntil: read.sinceHead.until, tailFrom: read.floor,
                           ids: shortIds(read.sinceHead.entries))]
        for s in read.earlier {
            stretches.append(Check(first: s.first, last: s.last, headUntil: s.head.until, tailFrom: s.tail.from,
                                   ids: shortIds(s.head.entries + s.tail.entries)))
        }
    }

    /// Whether the baseline's next event, at `t` with `id`, was learned before.
    mutating func covers(_ t: Int64, id: UInt64) -> Bool {
        guard active else { return false }
        if t < floor {
            let short = RecentLearning.short(id)
            for s in stretches where t >= s.first &- window && t <= s.last &+ window && s.ids.contains(short) { return true }
            for s in stretches where t >= s.first && t <= s.last && t >= s.headUntil && t < s.tailFrom { return true }
            return false
        }
        if t <= until { return ids.contains(RecentLearning.short(id)) }
        active = false   // past the mark: nothing later was learned
        ids = []
        return false
    }
}
