@testable import Detection
import Testing

/// `RecentLearning` keeps the ids of one lateness window and writes them as a `LearnedMark`;
/// `AlreadyLearned` reads the mark back.
@Suite struct LearnedMarkTests {
    static let second: Int64 = 1_000_000_000
    static let t0: Int64 = 1_740_000_000 * second

    @Test func theMarkListsTheWindowAndReadsBack() throws {
        var recent = RecentLearning(window: 60 * Self.second)
        let events: [(Int64, UInt64)] = [(Self.t0, 0x1), (Self.t0 + 30 * Self.second, 0xdead_beef_0000_0001),
                                         (Self.t0 + 90 * Self.second + 123_456_789, .max), (Self.t0 + 100 * Self.second, 0)]
        for (t, id) in events { recent.learned(time: t, id: id) }
        let mark = try #require(recent.mark)
        // One window before the newest: the first two are older, the last two are listed.
        #expect(mark.floor == Self.t0 + 40 * Self.second)
        let listed = LearnedEntry.parse(mark.recent, base: mark.floor, after: true)
        #expect(listed.map(\.id) == [0xffff_ffff, 0])   // the low 32 bits
        #expect(listed.map(\.time) == [Self.t0 + 90 * Self.second + 123_000_000, Self.t0 + 100 * Self.second])
        #expect(mark.recent == "50123.ffffffff 60000.0")
        // The window below the floor is listed too, by milliseconds before it.
        #expect(mark.older == "40000.1 10000.1")

        var skip = AlreadyLearned(mark, window: 60 * Self.second)
        let c1 = skip.covers(Self.t0, id: 0x1)                                   // before the floor
        #expect(c1)
        let c2 = skip.covers(Self.t0 + 50 * Self.second, id: 7)                // in the window, unseen
        #expect(!c2)
        let c3 = skip.covers(Self.t0 + 90 * Self.second + 123_456_789, id: .max)  // listed
        #expect(c3)
        let c4 = skip.covers(Self.t0 + 100 * Self.second, id: 0)
        #expect(c4)
        // A listed id can come again up to a window after the newest listed time (an operation's
        // later records share its key); an unlisted one is new.
        let c5 = skip.covers(Self.t0 + 150 * Self.second, id: 0)
        #expect(c5)
        let c6 = skip.covers(Self.t0 + 150 * Self.second, id: 5)
        #expect(!c6)
        let c7 = skip.covers(Self.t0 + 161 * Self.second, id: 0)               // past the mark
        #expect(!c7)
        let c8 = skip.covers(Self.t0 + 150 * Self.second, id: .max)            // and it stays past it
        #expect(!c8)

        // Carried on in a later run, the list keeps its entries and the floor.
        var continued = RecentLearning(window: 60 * Self.second, continuing: mark)
        continued.learned(time: Self.t0 + 95 * Self.second, id: 42)
        #expect(continued.mark?.floor == mark.floor)
        #expect(continued.mark.map { Set($0.entries.map(\.id)) } == [0xffff_ffff, 0, 42, 1])
    }

    @Test func pastTheCapTheFloorMovesAboveWhatIsNoLongerListed() throws {
        var recent = RecentLearning(window: 3_600 * Self.second)
        let n = RecentLearning.cap + 10
        for i in 0..<n { recent.learned(time: Self.t0 + Int64(i) * Self.second, id: UInt64(i)) }
        let mark = try #require(recent.mark)
        #expect(LearnedEntry.parse(mark.recent, base: mark.floor, after: true).count == RecentLearning.cap)
        #expect(mark.entries.count == n)   // the ten below the floor as `older`
        #expect(mark.floor == Self.t0 + 9 * Self.second + 1_000_000)
        var skip = AlreadyLearned(mark, window: 0)
        let c7 = skip.covers(Self.t0 + 9 * Self.second, id: 9)     // dropped from the list, below the floor
        #expect(c7)
        let c8 = skip.covers(Self.t0 + 10 * Self.second, id: 10)   // listed
        #expect(c8)
    }

    /// The cap drops the oldest by time, not the first listed: a run carrying a full list that
    /// learns an older unseen event does not push the floor past events it has not met yet.
    @Test func theCapDropsTheOldestByTime() throws {
        let t = Self.t0 + 2_000 * Self.second
        var first = RecentLearning(window: 1_000 * Self.second)
        for i in 0..<RecentLearning.cap { first.learned(time: t - Self.second + Int64(i) * 1_000, id: UInt64(i)) }
        var second = RecentLearning(window: 1_000 * Self.second, continuing: try #require(first.mark))
        second.learned(time: t - 800 * Self.second, id: 0xabc)
        let mark = try #require(second.mark)
        #expect(mark.floor <= t - 700 * Self.second)
        var skip = AlreadyLearned(mark, window: 0)
        let unseen = skip.covers(t - 700 * Self.second, id: 0xdef)
        #expect(!unseen)
    }

    /// Floors sit on whole milliseconds, as listed times do: an event listed in one run's mark is
    /// still listed when a later run moves the floor within its millisecond.
    @Test func aListedEventStaysListedWhenTheFloorMovesWithinItsMillisecond() throws {
        var first = RecentLearning(window: Self.second)
        first.learned(time: Self.t0 + 700_000, id: 1)
        first.learned(time: Self.t0 + Self.second + 200_000, id: 2)
        var second = RecentLearning(window: Self.second, continuing: try #require(first.mark))
        second.learned(time: Self.t0 + Self.second + 500_000, id: 3)
        let mark = try #require(second.mark)
        #expect(mark.floor % 1_000_000 == 0)
        var skip = AlreadyLearned(mark, window: 0)
        let again = skip.covers(Self.t0 + 700_000, id: 1)
        #expect(again)
    }

    /// Below the floor a mark knows stretches: from `since` on everything read was learned (within
    /// a window of `since`, the events listed); an event older than that is history never read,
    /// learned and kept as a stretch of its own, and the gap between the two stays unread.
    @Test func historyOlderThanTheFirstEventIsLearnedAsAStretch() throws {
        let s = Self.second
        func at(_ t: Int) -> Int64 { Self.t0 + Int64(t) * s }
        var recent = RecentLearning(window: 60 * s)
        for t in [100, 200, 300] { recent.learned(time: at(t), id: UInt64(t)) }
        let mark = try #require(recent.mark)
        #expect(mark.since == at(100) && mark.floor == at(240) && mark.earlier == nil)
        #expect(mark.head == "0.64 100000.c8" && mark.headUntil == at(160))   // two windows listed, complete for one
        var skip = AlreadyLearned(mark, window: 60 * s)
        let probes: [(Int, UInt64)] = [(50, 1), (100, 9), (100, 100), (200, 2)]
        // Older: never read. At `since`, an unlisted event: never read. Listed: learned. Inside: learned.
        #expect(probes.map { skip.covers(at($0.0), id: $0.1) } == [false, false, true, true])

        var later = RecentLearning(window: 60 * s, continuing: mark)
        later.learned(time: at(50), id: 50)
        later.learned(time: at(60), id: 60)
        let primed = try #require(later.mark)
        #expect(primed.floor == mark.floor && primed.since == mark.since && primed.recent == mark.recent && primed.head == mark.head)
        #expect(primed.earlier?.map { [$0.first, $0.last] } == [[at(50), at(60)]])
        var again = AlreadyLearned(primed, window: 60 * s)
        let checks: [(Int, UInt64)] = [(40, 9), (45, 60), (50, 50), (55, 9), (60, 60), (70, 9), (100, 100)]
        // An event near the stretch whose id it lists (an operation's other record) is learned;
        // an unlisted one at its edges is not, nor in the gap.
        #expect(checks.map { again.covers(at($0.0), id: $0.1) } == [false, true, true, false, true, false, true])
    }

    /// An operation learned at `since` from its later record, listed by its key: its Start, read
    /// later just before `since` (priming after a live run met the operation mid-way), is not
    /// learned again, long after the floor has moved on.
    @Test func anOperationStraddlingSinceIsLearnedOnce() throws {
        let s = Self.second, key: UInt64 = 0xfeed_0000_1234
        var live = RecentLearning(window: 60 * s)
        live.learned(time: Self.t0 + 100 * s, id: key)
        for t in stride(from: 110, through: 1_000, by: 10) { live.learned(time: Self.t0 + Int64(t) * s, id: UInt64(t)) }
        var skip = AlreadyLearned(try #require(live.mark), window: 60 * s)
        let start = skip.covers(Self.t0 + 98 * s, id: key), other = skip.covers(Self.t0 + 98 * s, id: 7)
        #expect(start && !other)
    }

    /// A run whose reading started past what its carried mark speaks for starts a stretch of its
    /// own: the time between (never read by this baseline's runs) is not taken as learned. A run
    /// that read on from the mark continues its stretch.
    @Test func aRunReadingFromPastTheCarriedMarkStartsANewStretch() throws {
        let s = Self.second, ms: Int64 = 1_000_000
        func at(_ t: Int) -> Int64 { Self.t0 + Int64(t) * s }
        var first = RecentLearning(window: 60 * s)
        for t in [100, 200, 300] { first.learned(time: at(t), id: UInt64(t)) }
        let carried = try #require(first.mark)

        var gap = RecentLearning(window: 60 * s, continuing: carried, readingSince: at(900))
        gap.learned(time: at(1_000), id: 1_000)
        let mark = try #require(gap.mark)
        #expect(mark.since == at(1_000))
        #expect(mark.earlier?.map { [$0.first, $0.last] } == [[at(100), at(300) + ms - 1]])
        var skip = AlreadyLearned(mark, window: 60 * s)
        let probes: [(Int, UInt64)] = [(200, 7), (300, 300), (300, 7), (500, 7), (950, 7)]
        #expect(probes.map { skip.covers(at($0.0), id: $0.1) } == [true, true, false, false, false])

        var on = RecentLearning(window: 60 * s, continuing: carried, readingSince: at(330))
        on.learned(time: at(330), id: 330)
        on.learned(time: at(1_000), id: 1_000)
        #expect(on.mark?.since == at(100) && on.mark?.earlier == nil)
    }

    /// A backfill written back at the memory bound and read again in the same run goes on with
    /// its stretch: one stretch, not one per write-back, and an event at the instant the
    /// write-back split is told by id.
    @Test func aRunsOwnStretchGoesOnAcrossItsWriteBacks() throws {
        let s = Self.second
        func at(_ t: Int) -> Int64 { Self.t0 + Int64(t) * s }
        var live = RecentLearning(window: 60 * s)
        live.learned(time: at(1_000), id: 1)
        var mark = try #require(live.mark)
        for (n, t) in [10, 20, 20, 500].enumerated() {
            var run = RecentLearning(window: 60 * s, continuing: mark, readingSince: at(10))
            var skip = AlreadyLearned(mark, window: 60 * s)
            let seen = skip.covers(at(t), id: UInt64(100 + n))
            #expect(!seen)
            run.learned(time: at(t), id: UInt64(100 + n))
            mark = try #require(run.mark(readTo: at(t) + 1))   // the run read past the instant
        }
        #expect(mark.earlier?.map { [$0.first, $0.last] } == [[at(10), at(500)]])
        // Both events at 20 are listed near the stretch's start: read again, neither is learned.
        var again = AlreadyLearned(mark, window: 60 * s)
        let both = [again.covers(at(20), id: 101), again.covers(at(20), id: 102), again.covers(at(20), id: 7)]
        #expect(both == [true, true, false])
        // Read on up to `since`, the stretch joins the one `since` starts.
        var joining = RecentLearning(window: 60 * s, continuing: mark, readingSince: at(10))
        joining.learned(time: at(600), id: 600)
        let joined = try #require(joining.mark(readTo: at(1_000) + 1))
        #expect(joined.since == at(10) && joined.earlier == nil)
    }

    /// A mark written before `since` was kept stands on the profile's first event.
    @Test func aMarkWithoutSinceStandsOnTheFirstEvent() {
        let mark = LearnedMark(floor: Self.t0 + 100 * Self.second, recent: "")
        var skip = AlreadyLearned(mark, window: 0, since: Self.t0)
        let before = skip.covers(Self.t0 - 1, id: 1), after = skip.covers(Self.t0, id: 1)
        #expect(!before && after)
        var old = AlreadyLearned(mark, window: 0)   // nothing to stand on: all below the floor
        let any = old.covers(Self.t0 - 1_000 * Self.second, id: 1)
        #expect(any)
    }

    @Test func stretchesJoinWhenTheyOverlapAndPastTheCapAcrossTheShortestGap() {
        func st(_ first: Int64, _ last: Int64) -> Stretch {
            Stretch(first: first, last: last, head: HeadIds(until: first, reach: first), tail: TailIds(from: last))
        }
        let a = st(0, 10), b = st(5, 20), c = st(100, 110), d = st(113, 120), e = st(200, 210)
        #expect(Stretch.merged([c, b, a], cap: 8) == [st(0, 20), c])
        #expect(Stretch.merged([a, c, d, e], cap: 3) == [a, st(100, 120), e])
        #expect(Stretch.merged([a, c, e], cap: 1) == [st(0, 210)])
        // Stored and read back, a stretch keeps its edges' ids.
        var f = Stretch(starting: LearnedEntry(time: Self.t0, id: 0xabc), window: 60 * Self.second)
        f.add(LearnedEntry(time: Self.t0 + 90 * Self.second, id: 0xdef), window: 60 * Self.second)
        #expect(Stretch(f.stored, window: 60 * Self.second) == f)
    }

    @Test func anUnreadableListIsReadAsNoEntries() {
        let mark = LearnedMark(floor: Self.t0, recent: "x.1 5.zz -3.4 7.a")
        #expect(mark.entries.map(\.id) == [0xa])
    }
}
