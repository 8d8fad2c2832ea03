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

extension AccessProfileCodingTests {
    /// Byte for byte what `JSONEncoder` writes with sorted keys and unescaped slashes.
    @Test func handWrittenEncodingMatchesJSONEncoder() throws {
        var p = AccessProfile(space: "vigil.resource.subscription", subject: "Bob@Contoso.example", scope: "/subscriptions/1",
                              scopeName: "1", time: -86_401)
        p.lastSeen = 9_000_000_000
        p.events = 1_234_567
        p.activeDays = [-2, 0, 19_675]
        p.ipRanges = ["2001:db8:1::/48": 3, "198.18.0.0/24": 1, "203.0.113.0/24": 40]
        p.hours[0] = 10; p.hours[167] = 7; p.hours[100] = 123_456
        p.operations = ["microsoft.authorization/roleassignments/write": 1_700_000_100, "a": 0]
        p.daily = ["z-rule": [.init(day: 1, count: 2)], "a-rule": [.init(day: 19_675, count: 70), .init(day: 19_676, count: 0)]]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // With no mark, a mark as session 10 wrote it, and one with its stretches.
        let stretch = LearnedStretch(first: 1_600_000_000_000_000_000, last: 1_600_000_000_000_000_001, head: "0.a 1.\"b",
                                     headUntil: 1_600_000_900_000_000_000, tail: "", tailFrom: -7)
        for mark in [nil, LearnedMark(floor: -5, recent: "0.1 12.ab"),
                     LearnedMark(floor: 1_700_000_000_000_000_000, recent: "", since: 1_699_000_000_000_000_000, head: "3.ff",
                                 headUntil: 1_699_000_900_000_000_000, earlier: [stretch, stretch])] {
            p.learned = mark
            #expect(String(decoding: p.encoded(), as: UTF8.self) == String(decoding: try encoder.encode(p), as: UTF8.self))
            #expect(AccessProfile.decode(p.encoded()) == p)
        }
        // And one mark per source, beside a mark stored before sources were told apart.
        var activity = LearnedMark(floor: 1_700_000_000_000_000_000, recent: "5.1", since: 1_699_000_000_000_000_000, head: "",
                                   headUntil: 1_699_000_900_000_000_000, earlier: [stretch])
        activity.source = "activity"
        let dataPlane = LearnedMark(floor: 12, recent: "", source: "resourceLog/amldatastoreevent")
        p.learnedBySource = [activity, dataPlane]
        #expect(String(decoding: p.encoded(), as: UTF8.self) == String(decoding: try encoder.encode(p), as: UTF8.self))
        #expect(AccessProfile.decode(p.encoded()) == p)
        #expect(p.mark(from: "resourceLog/amldatastoreevent") == dataPlane && p.mark(from: "signIn") == nil)
        #expect(p.withoutMarks.learned == nil && p.withoutMarks.learnedBySource == nil)
    }

    /// Counting a volume rule's day in place keeps the days sorted, drops the ones past the history.
    @Test func dailyCountsStaySortedAndBounded() {
        var p = AccessProfile(space: "workspace", subject: "a", scope: "s", scopeName: "s", time: 0)
        for day: Int32 in [10, 12, 11, 12, 12, 13] { _ = p.count(rule: "r", day: day, historyDays: 14) }
        #expect(p.daily["r"]?.map(\.day) == [10, 11, 12, 13])
        let (today, busiest, mean) = p.count(rule: "r", day: 13, historyDays: 14)
        #expect(today == 2 && busiest == 3)
        #expect(abs(mean - 5.0 / 13.0) < 1e-9)
        _ = p.count(rule: "r", day: 26, historyDays: 14)
        #expect(p.daily["r"]?.map(\.day) == [12, 13, 26])
    }

    /// The number writer the encoders and the assembled-operation id share: every width, both signs.
    @Test func numbersAreWrittenInDecimal() {
        var w = StoredJSONBuffer(capacity: 64)
        for v: Int64 in [0, 7, 10, 99, 1_234_567, -5, -10, .max, .min] { w.int(v); w.byte(32) }
        w.ints([0, 12, -3, Int32.max])
        #expect(String(decoding: w.bytes, as: UTF8.self)
            == "0 7 10 99 1234567 -5 -10 9223372036854775807 -9223372036854775808 0,12,-3,2147483647")
    }
}
