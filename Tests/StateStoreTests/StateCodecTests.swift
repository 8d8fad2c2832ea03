import EventModel
import Foundation
@testable import StateStore
import Testing

/// The hand-written alert/incident bodies must be the text `JSONEncoder` (sorted keys, no escaped
/// slashes) writes, and decode back to the same values.
@Suite struct StateCodecTests {
    private func reference<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private var alerts: [Alert] {
        let t = EventTime(nanoseconds: 1_714_564_800_123_456_700)
        return [
            Alert(id: "a1", ruleId: "r", ruleTitle: "T", severity: .low, time: t, position: SourcePosition(source: "-")),
            Alert(id: "a2", ruleId: "r/2", ruleTitle: "Quote \" back\\slash é /path\ttab\nnl",
                  severity: .high, tactics: ["credential-access"], techniques: ["T1555.006", "T1"],
                  entities: [Entity(kind: .account, value: "Alice@Contoso.com"), Entity(kind: .ip, value: "10.0.0.1")],
                  time: EventTime(seconds: 0),
                  position: SourcePosition(source: "kafka:t", line: 3, offset: 99, recordIndex: 2, partition: 1,
                                           kafkaOffset: 7, enqueuedTime: t),
                  description: "first listsecrets", eventIds: ["e1", "e2"], evidence: ["{\"a\":1}"],
                  groupBy: [.account, .azureResource], groupByAll: true, baselineControls: ["NS-1"]),
        ]
    }

    @Test func alertBodyMatchesJSONEncoder() throws {
        for a in alerts {
            let text = StateCodec.encode(a)
            #expect(text == (try reference(a)))
            #expect(try StateCodec.decode(Alert.self, text) == a)
        }
    }

    @Test func incidentBodyMatchesJSONEncoder() throws {
        let i = Incident(id: "i1", title: "Role granted on ws by alice", description: "2 alerts\nline \"two\"",
                         severity: .medium, status: .active, tactics: ["x"], techniques: [],
                         entities: [Entity(kind: .azureResource, value: "/subscriptions/s/rg")],
                         alertIds: ["a1", "a2"], ruleIds: ["r"], firstActivity: EventTime(seconds: 10),
                         lastActivity: EventTime(nanoseconds: 20_500_000_000), revision: 3)
        let text = StateCodec.encode(i)
        #expect(text == (try reference(i)))
        #expect(try StateCodec.decode(Incident.self, text) == i)
    }

    @Test func stringListMatchesJSONEncoder() throws {
        let keys = ["Account:alice@contoso.com", "IP:10.0.0.1", "a\u{1}b"]
        #expect(StateCodec.encode(keys) == (try reference(keys)))
        #expect(StateCodec.encode([String]()) == "[]")
    }
}
