import EventDecoding
import EventModel
import Testing
@testable import Ingest

@Suite struct EventHubsRecordsTests {
    let message = KafkaMessage(topic: "insights-activity-logs", partition: 3, offset: 42,
                               timestamp: EventTime(seconds: 1_714_557_600), payload: ActivityLogBodies.body(1, records: 3))

    @Test func recordsEnvelopeBecomesOneEventPerRecord() {
        let (events, diagnostics) = EventHubsRecords().decode([message])
        #expect(diagnostics.isEmpty)
        #expect(events.map(\.position.recordIndex) == [0, 1, 2])
        #expect(events.allSatisfy { $0.position.partition == 3 && $0.position.kafkaOffset == 42 })
        #expect(events.first?.position.enqueuedTime == EventTime(seconds: 1_714_557_600))
        #expect(events.first?.text(at: "operationName") == "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/WRITE")
        #expect(Set(events.map(\.id)).count == 3, "records get distinct ids")
        #expect(EventHubsRecords().decode([message]).events.map(\.id) == events.map(\.id), "ids are stable on redelivery")
        #expect(message.checkpoint == Checkpoint(key: "kafka:insights-activity-logs/3", offset: 43))
    }

    @Test func plainObjectAndGarbage() {
        var plain = message
        plain.payload = Array("{\"operationName\":\"x\"}".utf8)
        #expect(EventHubsRecords().decode([plain]).events.count == 1)
        var garbage = message
        garbage.payload = Array("not json".utf8)
        let decoded = EventHubsRecords().decode([garbage])
        #expect(decoded.events.isEmpty)
        #expect(decoded.diagnostics.count == 1)
        #expect(decoded.diagnostics.first?.location.file.contains("insights-activity-logs[3]@42") == true)
    }

    /// A record has one id however it arrives: a tailed line or a message body decodes exactly as
    /// `vigil replay` decodes the same text from a file, spacing and pretty-printing included.
    @Test func idsMatchReplayForAnySpacing() throws {
        let spaced = #"{"time": "2026-05-01T10:00:00Z", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/WRITE", "category": "Administrative", "resultType": "Success", "correlationId": "c-1"}"#
        let pretty = "{\n  \"records\": [\n    " + spaced + ",\n    " + spaced.replacingOccurrences(of: "c-1", with: "c-2") + "\n  ]\n}\n"
        for text in [spaced + "\n", pretty] {
            var replayed = JSONRecords.Collector()
            var reader = RecordReader()
            try reader.read(bytes: Array(text.utf8), name: "export.json", into: &replayed)
            var tailed = JSONRecords.Collector()
            try JSONRecords.decode(Array(text.utf8), at: SourcePosition(source: "tail", line: 7, offset: 0), normalizer: Normalizer(), into: &tailed)
            #expect(replayed.diagnostics.isEmpty && tailed.diagnostics.isEmpty)
            #expect(!replayed.events.isEmpty)
            #expect(tailed.events.map(\.id) == replayed.events.map(\.id))
            #expect(tailed.events.allSatisfy { $0.position.source == "tail" && $0.position.line == 7 })
        }
    }
}
