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
