import Testing
@testable import Ingest

@Suite struct CheckpointTests {
    @Test func latestKeepsFurthestPerKey() {
        let entries = [
            Checkpoint(key: "a", offset: 10), Checkpoint(key: "a", offset: 30), Checkpoint(key: "a", offset: 20),
            Checkpoint(key: "b", offset: 99, generation: 0), Checkpoint(key: "b", offset: 5, generation: 1),
        ]
        let latest = Checkpoint.latest(entries)
        #expect(latest == [Checkpoint(key: "a", offset: 30), Checkpoint(key: "b", offset: 5, generation: 1)])
    }

    @Test func inMemoryStoreRoundTrips() throws {
        let store = InMemoryCheckpointStore()
        try store.save([Checkpoint(key: "k", offset: 7)])
        #expect(try store.load("k") == Checkpoint(key: "k", offset: 7))
        #expect(try store.load("missing") == nil)
    }
}
