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
        #expect(mark.entries.map(\.id) == [0xffff_ffff, 0])   // the low 32 bits
        #expect(mark.entries.map(\.time) == [Self.t0 + 90 * Self.second + 123_000_000, Self.t0 + 100 * Self.second])
        #expect(mark.recent == "50123.ffffffff 60000.0")

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
        #expect(continued.mark.map { Set($0.entries.map(\.id)) } == [0xffff_ffff, 0, 42])
    }

    @Test func pastTheCapTheFloorMovesAboveWhatIsNoLongerListed() throws {
        var recent = RecentLearning(window: 3_600 * Self.second)
        let n = RecentLearning.cap + 10
        for i in 0..<n { recent.learned(time: Self.t0 + Int64(i) * Self.second, id: UInt64(i)) }
        let mark = try #require(recent.mark)
        #expect(mark.entries.count == RecentLearning.cap)
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

    /// Below the floor a mark knows stretches: from `since` on everything read was learned; an
    /// event older than that is history never read, learned and kept as a stretch of its own,
    /// and the gap between the two stays unread.
    @Test func historyOlderThanTheFirstEventIsLearnedAsAStretch() throws {
        let s = Self.second
        var recent = RecentLearning(window: 60 * s)
        for t in [100, 200, 300] { recent.learned(time: Self.t0 + Int64(t) * s, id: UInt64(t)) }
        let mark = try #require(recent.mark)
        #expect(mark.since == Self.t0 + 100 * s && mark.floor == Self.t0 + 240 * s && mark.earlier == nil)
        var skip = AlreadyLearned(mark, window: 60 * s)
        let older = skip.covers(Self.t0 + 50 * s, id: 1), between = skip.covers(Self.t0 + 150 * s, id: 2)
        #expect(!older && between)

        var later = RecentLearning(window: 60 * s, continuing: mark)
        later.learned(time: Self.t0 + 50 * s, id: 50)
        later.learned(time: Self.t0 + 60 * s, id: 60)
        let primed = try #require(later.mark)
        #expect(primed.floor == mark.floor && primed.since == mark.since && primed.recent == mark.recent)
        #expect(primed.earlier == [[Self.t0 + 50 * s, Self.t0 + 60 * s]])
        var again = AlreadyLearned(primed, window: 60 * s)
        let c = [40, 50, 55, 60, 70, 100].map { again.covers(Self.t0 + Int64($0) * s, id: 9) }
        #expect(c == [false, true, true, true, false, true])
    }

    /// A run whose first event learned lies past what its carried mark speaks for starts a
    /// stretch of its own: the time between (never read by this baseline's runs) is not taken as
    /// learned. A run that reads on from the mark continues its stretch.
    @Test func aRunLearningPastTheCarriedMarkStartsANewStretch() throws {
        let s = Self.second, ms: Int64 = 1_000_000
        var first = RecentLearning(window: 60 * s)
        for t in [100, 200, 300] { first.learned(time: Self.t0 + Int64(t) * s, id: UInt64(t)) }
        let carried = try #require(first.mark)

        var gap = RecentLearning(window: 60 * s, continuing: carried)
        gap.learned(time: Self.t0 + 1_000 * s, id: 1_000)
        let mark = try #require(gap.mark)
        #expect(mark.since == Self.t0 + 1_000 * s)
        #expect(mark.earlier == [[Self.t0 + 100 * s, Self.t0 + 300 * s + ms - 1]])
        var skip = AlreadyLearned(mark, window: 60 * s)
        let c = [150, 300, 500, 950].map { skip.covers(Self.t0 + Int64($0) * s, id: 7) }
        #expect(c == [true, true, false, false])

        var on = RecentLearning(window: 60 * s, continuing: carried)
        on.learned(time: Self.t0 + 330 * s, id: 330)       // within a window of the newest
        on.learned(time: Self.t0 + 1_000 * s, id: 1_000)   // this run read on: its stretch goes on
        #expect(on.mark?.since == Self.t0 + 100 * s && on.mark?.earlier == nil)
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
        let a = Stretch(first: 0, last: 10), b = Stretch(first: 5, last: 20), c = Stretch(first: 100, last: 110)
        let d = Stretch(first: 113, last: 120), e = Stretch(first: 200, last: 210)
        #expect(Stretch.merged([c, b, a], cap: 8) == [Stretch(first: 0, last: 20), c])
        #expect(Stretch.merged([a, c, d, e], cap: 3) == [a, Stretch(first: 100, last: 120), e])
        #expect(Stretch.merged([a, c, e], cap: 1) == [Stretch(first: 0, last: 210)])
    }

    @Test func anUnreadableListIsReadAsNoEntries() {
        let mark = LearnedMark(floor: Self.t0, recent: "x.1 5.zz -3.4 7.a")
        #expect(mark.entries.map(\.id) == [0xa])
    }
}
