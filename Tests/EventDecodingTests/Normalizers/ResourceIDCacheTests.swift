@testable import EventDecoding
import EventModel
import Testing

/// `ResourceIDCache`: events that name the same resource share one split id; what it hands out is
/// what splitting the text gives; it stays within its bound.
@Suite struct ResourceIDCacheTests {
    static let workspace = "/subscriptions/4f8d2c1a-6b3e-4a9f-8c7d-2e1b0a9f8d6c/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"

    @Test func aKnownIdIsTheSplitOfItsText() {
        let cache = ResourceIDCache()
        let first = cache.resource(Self.workspace)
        let again = cache.resource(String(Self.workspace.utf8.map { Character(UnicodeScalar($0)) }))   // equal text, other storage
        #expect(first == ResourceID(raw: Self.workspace) && again == first)
        #expect(again.name == "mlw-prod" && again.type == "Microsoft.MachineLearningServices/workspaces")
        // Another casing is another text: kept as written (the split keeps casing).
        let upper = cache.resource(Self.workspace.uppercased())
        #expect(upper == ResourceID(raw: Self.workspace.uppercased()) && upper.name == "MLW-PROD")
        #expect(cache.count == 2)
    }

    @Test func itStartsOverAtItsLimit() {
        let cache = ResourceIDCache()
        for i in 0..<(ResourceIDCache.limit + 10) {
            let text = Self.workspace + "/computes/c\(i)"
            #expect(cache.resource(text).name == "c\(i)")
        }
        #expect(cache.count <= ResourceIDCache.limit && cache.count >= 10)
    }

    /// Through the normaliser: two records on one resource give the same id as a fresh split.
    @Test func recordsNamingOneResourceGetItsSplit() throws {
        let line = #"{"time":"2026-11-03T10:00:00Z","resourceId":"\#(Self.workspace)/computes/gpu1","operationName":"Microsoft.MachineLearningServices/workspaces/computes/write","category":"Administrative","resultType":"Success","caller":"alice@contoso.example"}"#
        let result = try read(Array((line + "\n" + line.replacingOccurrences(of: "10:00:00", with: "10:00:05") + "\n").utf8))
        #expect(result.events.count == 2)
        #expect(result.events.allSatisfy { $0.resource == ResourceID(raw: Self.workspace + "/computes/gpu1") })
        #expect(result.events.first?.resource?.name == "gpu1")
    }
}
