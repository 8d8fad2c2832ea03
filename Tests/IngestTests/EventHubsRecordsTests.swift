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
}
