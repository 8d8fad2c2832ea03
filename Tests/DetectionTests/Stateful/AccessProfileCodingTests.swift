@testable import Detection
import EventModel
import Foundation
import Testing

/// The hand-written baseline encoder must read back, through the Codable decoder, as the same
/// profile, and stay valid JSON for names that need escaping.
@Suite struct AccessProfileCodingTests {
    @Test func handWrittenEncodingRoundTrips() throws {
        var p = AccessProfile(space: "workspace", subject: "alice@contoso.com", scope: "/subscriptions/1/ws\"x",
                              scopeName: "ws\\1\n", time: 1_700_000_000)
        p.events = 42
        p.lastSeen = 1_700_086_400
        p.activeDays = [19675, 19676]
        p.ipRanges = ["203.0.113.0/24": 40, "2001:db8:1::/48": 2]
        p.hours[5] = 3
        p.operations = ["microsoft.machinelearningservices/workspaces/listkeys/action": 1_700_000_100]
        p.daily = ["d22-spike": [.init(day: 19675, count: 7), .init(day: 19676, count: 9)]]
        let bytes = p.encoded()
        let back = try #require(AccessProfile.decode(bytes))
        #expect(back == p)
        #expect(try JSONSerialization.jsonObject(with: Data(bytes)) is [String: Any])
        // Keys come out sorted, as JSONEncoder's .sortedKeys wrote them.
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("{\"activeDays\":[19675,19676],\"daily\":{\"d22-spike\":[{\"count\":7,\"day\":19675}"))
    }
}
