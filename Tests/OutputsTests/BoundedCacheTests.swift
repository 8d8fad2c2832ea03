import Testing
@testable import Outputs

@Suite struct BoundedCacheTests {
    @Test func neverHoldsMoreThanItsCapacity() {
        var cache = BoundedCache<Int, String>(capacity: 10)
        for n in 0..<1_000 {
            cache.insert("v\(n)", for: n)
            #expect(cache.count <= 10)
        }
        #expect(cache.value(for: 999) == "v999")
        #expect(cache.value(for: 0) == nil)                // forgotten: the caller fetches it again
    }

    @Test func aRecentlyReadEntrySurvivesARotation() {
        var cache = BoundedCache<String, Int>(capacity: 4)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")                         // rotation: a, b become old
        #expect(cache.value(for: "a") == 1)               // read: a moves back to the young half
        cache.insert(3, for: "c")                         // rotation: a, c old; b forgotten
        #expect(cache.value(for: "a") == 1)
        #expect(cache.value(for: "b") == nil)
        cache.removeValue(for: "a")
        #expect(cache.value(for: "a") == nil)
    }
}
