import Detection
import Foundation
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// Through real replays: history replayed after a later period, with an operation of the reader
/// whose Start closes the first file and whose Success opens the second. The reader goes on for
/// hours in the second file, so its floor is far past the operation when the history is replayed;
/// the operation's key, listed near `since`, keeps it from being learned twice.
@Suite struct ReplayBackfillTests {
    @Test func anOperationStraddlingSinceIsLearnedOnceByAReplayedBackfill() throws {
        let dir = TemporaryFolder(prefix: "vigil-backfill-straddle")
        let rules = try ReplayBaselineResumeTests.rules(in: dir)
        let paths = [dir.path("a.json"), dir.path("b.json")]
        let start = MergeFixture.read(399, tag: "span").replacingOccurrences(of: #""resultType": "Success""#, with: #""resultType": "Start""#)
            .replacingOccurrences(of: "r-span-399", with: "r-span")
        let success = MergeFixture.read(401, tag: "span").replacingOccurrences(of: "r-span-401", with: "r-span")
        try MergeFixture.write(MergeFixture.lines(from: 0, to: 399, step: 1, tag: "a", extra: [(399, start)]), to: paths[0])
        try MergeFixture.write(MergeFixture.lines(from: 402, to: 800, step: 1, tag: "b", extra: [(401, success)]), to: paths[1])

        let clean = try ReplayBaselineResumeTests.replay(paths, rules: rules, state: dir.path("clean.db"))
        _ = try ReplayBaselineResumeTests.replay([paths[1]], rules: rules, state: dir.path("later.db"))
        let backfill = try ReplayBaselineResumeTests.replay(paths, rules: rules, state: dir.path("later.db"))
        #expect(backfill.counts == clean.counts, "the reader's operation learned twice: \(backfill.counts) vs \(clean.counts)")
        // (Alerts differ by nature: the run over the later file alone raised the reader's first access there.)
    }
}
