import Detection
import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// Joined stretches keep the ids near the edges they swallow, through real replays. (First
/// written as a probe by a fourth independent review.)
@Suite struct ReplayStretchJoinTests {
    typealias R = ReplayBaselineResumeTests
    typealias L = ReplayLearningTests

    /// A stretch E (09:00-10:00, hour h09) learned an operation from its Start at 09:58 (listed
    /// in E's tail); a later day split it off as an `earlier` stretch. History 08:00-10:20 is then
    /// replayed: E's events are skipped, and so is the operation's Success at 10:12 (E's tail ids,
    /// a window past E's end); the run learns 08:00-09:00 and 10:00-10:20 and its stretch (to 10:19)
    /// swallows E. The joined tail keeps E's ids from a window before its own `tailFrom` (10:04),
    /// so the operation's key stays listed for its Success (10:12), told by id there: replaying the
    /// 10:00 blob again does not learn it a second time.
    @Test func aStretchSwallowingAnotherKeepsTheIdsOfItsTail() throws {
        let dir = TemporaryFolder(prefix: "vigil-r4-tail-join")
        let rules = try R.rules(in: dir)
        let h08 = dir.path("h08.json"), h09 = dir.path("h09.json"), h10 = dir.path("h10.json"), later = dir.path("h13.json")
        try MergeFixture.write(MergeFixture.lines(from: 480, to: 540, step: 1, tag: "h08"), to: h08)
        try MergeFixture.write(MergeFixture.lines(from: 540, to: 600, step: 1, tag: "h09",
                                                  extra: [(598, L.lifecycle(598, correlationId: "long", result: "Start"))]), to: h09)
        try MergeFixture.write(MergeFixture.lines(from: 600, to: 620, step: 1, tag: "h10",
                                                  extra: [(612, L.lifecycle(612, correlationId: "long", result: "Success"))]), to: h10)
        try MergeFixture.write(MergeFixture.lines(from: 780, to: 840, step: 1, tag: "h13"), to: later)
        let clean = try R.replay([h08, h09, h10, later], rules: rules, state: dir.path("clean.db"))
        let state = dir.path("s.db")
        _ = try R.replay([h09], rules: rules, state: state)            // E
        _ = try R.replay([later], rules: rules, state: state)          // a later day: E becomes an earlier stretch
        let history = try R.replay([h08, h09, h10], rules: rules, state: state)
        #expect(L.readerCounts(history) == L.readerCounts(clean), "history: \(L.readerCounts(history)) vs \(L.readerCounts(clean))")
        let blob = try R.replay([h10], rules: rules, state: state)     // the 10:00 blob again
        #expect(L.readerCounts(blob) == L.readerCounts(clean), "blob again: \(L.readerCounts(blob)) vs \(L.readerCounts(clean))")
        let all = try R.replay([h08, h09, h10, later], rules: rules, state: state)
        #expect(L.readerCounts(all) == L.readerCounts(clean), "all again: \(L.readerCounts(all)) vs \(L.readerCounts(clean))")
    }
}

extension ReplayStretchJoinTests {
}
