import Testing
import EventModel
import FastJSON

@Suite struct EventTimeTests {
    @Test(arguments: [
        ("2019-01-21T22:14:26.9792776Z", "2019-01-21T22:14:26.9792776Z"),
        ("2019-01-21T22:14:26Z", "2019-01-21T22:14:26Z"),
        ("2019-01-21T22:14:26", "2019-01-21T22:14:26Z"),
        ("2019-01-21T23:14:26+01:00", "2019-01-21T22:14:26Z"),
        ("2019-01-21 22:14:26.5", "2019-01-21T22:14:26.5Z"),
        ("1/9/2007 9:41:00 PM", "2007-01-09T21:41:00Z"),
        ("1/9/2007 12:05:00 AM", "2007-01-09T00:05:00Z"),
    ])
    func parsesLenientlyAndFormatsISO(input: String, expected: String) throws {
        let t = try #require(EventTime(parsing: input))
        #expect(t.iso8601 == expected)
    }

    @Test func rejectsGarbage() {
        #expect(EventTime(parsing: "yesterday") == nil)
        #expect(EventTime(parsing: "2019-13-01T00:00:00Z") == nil)
    }

    @Test func hourOfWeekStartsMonday() throws {
        #expect(try #require(EventTime(parsing: "2024-01-01T00:30:00Z")).hourOfWeek == 0)   // a Monday
        #expect(try #require(EventTime(parsing: "2024-01-07T23:00:00Z")).hourOfWeek == 167)
    }
}

@Suite struct ResourceIDTests {
    @Test func splitsNestedResources() {
        let r = ResourceID(raw: "/SUBSCRIPTIONS/1111/RESOURCEGROUPS/rg-ml/PROVIDERS/Microsoft.MachineLearningServices/workspaces/ws1/computes/gpu1")
        #expect(r.subscription == "1111")
        #expect(r.resourceGroup == "rg-ml")
        #expect(r.provider == "Microsoft.MachineLearningServices")
        #expect(r.type == "Microsoft.MachineLearningServices/workspaces/computes")
        #expect(r.name == "gpu1")
    }

    @Test func subscriptionAndGroupScopes() {
        #expect(ResourceID(raw: "/subscriptions/s1").type == "subscriptions")
        let rg = ResourceID(raw: "/subscriptions/s1/resourceGroups/g1")
        #expect(rg.name == "g1")
        #expect(rg.type == "resourceGroups")
    }
}

@Suite struct EventFieldTests {
    @Test func typedAndRawPaths() throws {
        let doc = try JSONDocument.parse(#"{"operationName":"MICROSOFT.X/WRITE","properties":{"a":"b"}}"#)
        var e = Event(kind: .activity, shape: .resourceLogExport, record: doc, position: SourcePosition(source: "f", line: 3), id: 42)
        e.operation = "microsoft.x/write"
        e.resource = ResourceID(raw: "/subscriptions/s/resourceGroups/g/providers/P.Q/t/n")
        #expect(e.text(at: "vigil.operation") == "microsoft.x/write")
        #expect(e.text(at: "VIGIL.resource.name") == "n")
        #expect(e.text(at: "Properties.A") == "b")
        #expect(e.values(at: "vigil.caller").isEmpty)
        #expect(e.idString == "000000000000002a")
    }

    @Test func stableIdsAreDeterministicUUIDs() {
        let a = Alert.makeId(ruleId: "r1", eventIds: ["e1"])
        #expect(a == Alert.makeId(ruleId: "r1", eventIds: ["e1"]))
        #expect(a != Alert.makeId(ruleId: "r1", eventIds: ["e2"]))
        #expect(a.count == 36)
        #expect(a.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
    }
}

/// The byte-level formatters (`iso8601`, `idString`, `StableID`) against the straightforward
/// String-based spelling they replaced.
@Suite struct FormattingEquivalenceTests {
    static func referenceISO(_ t: EventTime) -> String {
        let secs = t.seconds
        let frac = t.nanoseconds - secs * 1_000_000_000
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let (y, m, d) = EventTime.civil(fromDays: days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2))"
        if frac != 0 {
            var f = pad(frac / 100, 7)
            while f.hasSuffix("0") { f.removeLast() }
            if !f.isEmpty { out += "." + f }
        }
        return out + "Z"
    }

    static func referenceUUID(_ text: String) -> String {
        let a = fastHash64(text, seed: 0x5649_4749_4C00_0001)
        let b = fastHash64(text, seed: 0x5649_4749_4C00_0002)
        func hex(_ v: UInt64) -> [Character] {
            let s = String(v, radix: 16)
            return Array(String(repeating: "0", count: 16 - s.count) + s)
        }
        let h = hex((a & 0xFFFF_FFFF_FFFF_0FFF) | 0x8000), l = hex((b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(l[0..<4]) + "-" + String(l[4..<16])
    }

    @Test func iso8601MatchesTheReferenceSpelling() {
        var rng = SystemRandomNumberGenerator()
        var samples: [Int64] = [0, 1, 99, 100, 999_999_999, 1_000_000_000, -1, -1_000_000_000, -86_400_000_000_001,
                                1_700_000_000_120_000_000, 1_700_000_000_000_000_100, 4_102_444_799_999_999_900,
                                Int64.max, Int64.min + 1_000_000_000]
        for _ in 0..<2000 { samples.append(Int64.random(in: -2_000_000_000_000_000_000...Int64.max, using: &rng)) }
        for _ in 0..<500 { samples.append(Int64.random(in: 0...4_000_000_000, using: &rng) * 1_000_000_000) }
        for ns in samples {
            let t = EventTime(nanoseconds: ns)
            #expect(t.iso8601 == Self.referenceISO(t), "\(ns)")
        }
    }

    @Test func idsMatchTheReferenceSpelling() {
        for id: UInt64 in [0, 1, 0xABC, 0xFFFF_FFFF_FFFF_FFFF, 0x0123_4567_89AB_CDEF, 1 << 63] {
            let e = Event(kind: .activity, shape: .resourceLogExport, record: try! JSONDocument.parse("{}"),
                          position: SourcePosition(source: "f"), id: id)
            let s = String(id, radix: 16)
            #expect(e.idString == String(repeating: "0", count: 16 - s.count) + s)
        }
        for text in ["", "r1|e1", "rule-with-ünïcode|0000000000000001|0000000000000002", String(repeating: "x", count: 1000)] {
            #expect(StableID.uuid(from: text) == Self.referenceUUID(text))
        }
    }
}

@Suite struct EventValueSemanticsTests {
    @Test func copiesAreIndependent() throws {
        let doc = try JSONDocument.parse(#"{"a":1}"#)
        var a = Event(kind: .activity, shape: .resourceLogExport, record: doc, position: SourcePosition(source: "f", line: 1), id: 7)
        a.caller = "alice"
        a.resource = ResourceID(raw: "/subscriptions/s/resourceGroups/g")
        var b = a
        b.caller = "bob"
        b.resource?.name = "other"
        b.position.line = 9
        b.id = 8
        #expect(a.caller == "alice" && b.caller == "bob")
        #expect(a.resource?.name == "g" && b.resource?.name == "other")
        #expect(a.position.line == 1 && b.position.line == 9)
        #expect(a.id == 7 && b.id == 8)
        var c = b
        c.title = "t"
        #expect(b.title == nil && c.title == "t" && c.caller == "bob")
        #expect(c.record === a.record)
    }
}
