import StateStore
import Testing
import TestSupport

/// `BaselineWriterLock`: shared holders (run, tail, replay) keep the exclusive one (baseline learn)
/// out and the other way round; the lock goes with its holder.
@Suite struct BaselineWriterLockTests {
    @Test func sharedHoldersAndTheExclusiveOneExcludeEachOther() throws {
        let dir = TemporaryFolder()
        let state = dir.path("state.db")
        var first: BaselineWriterLock? = try BaselineWriterLock(statePath: state, mode: .shared)
        var second: BaselineWriterLock? = try BaselineWriterLock(statePath: state, mode: .shared)
        #expect(throws: BaselineWriterLock.Busy.self) { try BaselineWriterLock(statePath: state, mode: .exclusive) }
        first = nil
        #expect(throws: BaselineWriterLock.Busy.self) { try BaselineWriterLock(statePath: state, mode: .exclusive) }
        second = nil
        let learn = try BaselineWriterLock(statePath: state, mode: .exclusive)
        #expect(throws: BaselineWriterLock.Busy.self) { try BaselineWriterLock(statePath: state, mode: .shared) }
        #expect(learn.path == state + ".baselines.lock")
        _ = (first, second)
    }

    /// Without a lock file (or `flock`), the lock says why and the caller goes on without it.
    @Test func aLockFileThatCannotBeMadeLeavesTheLockUnavailable() throws {
        let lock = try BaselineWriterLock(statePath: "/proc/vigil-no-such/state.db", mode: .shared)
        #expect(lock.unavailable?.contains("/proc/vigil-no-such/state.db.baselines.lock") == true)
        let dir = TemporaryFolder()
        let held = try BaselineWriterLock(statePath: dir.path("state.db"), mode: .shared)
        #expect(held.unavailable == nil)
    }
}
