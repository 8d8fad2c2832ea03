import EventDecoding
import EventModel
@testable import Ingest
import Testing

/// Problems in a tailed line are located in its file, as a replay of the file locates them; a
/// message's by its partition and offset.
@Suite struct JSONRecordsLocationTests {
    static func diagnostics(_ text: String, at base: SourcePosition) throws -> [Diagnostic] {
        var c = JSONRecords.Collector()
        try JSONRecords.decode(Array(text.utf8), at: base, normalizer: Normalizer(), into: &c)
        return c.diagnostics
    }

    @Test func aTailedLineIsLocatedInItsFile() throws {
        let base = SourcePosition(source: "/var/log/exports/a.jsonl", line: 37, offset: 9_000)
        let malformed = try #require(try Self.diagnostics(#"{"time": "2025-03-04T10:00:00Z", "operationName": "#, at: base).first)
        #expect(malformed.code == InputCode.malformedJSON)
        #expect(malformed.location.file == "/var/log/exports/a.jsonl")
        #expect(malformed.location.line == 37)
        #expect((malformed.location.offset ?? 0) >= 9_000, "\(malformed.location)")
        let unknown = try #require(try Self.diagnostics(#"{"hello": "world"}"#, at: base).first)
        #expect(unknown.code == InputCode.unknownShape)
        #expect(unknown.location.file == "/var/log/exports/a.jsonl" && unknown.location.line == 37)
    }

    @Test func aMessageIsLocatedByPartitionAndOffset() throws {
        var base = SourcePosition(source: "insights-activity-logs")
        base.partition = 3
        base.kafkaOffset = 1_234
        let malformed = try #require(try Self.diagnostics("{not json", at: base).first)
        #expect(malformed.location.file == "insights-activity-logs[3]@1234", "\(malformed.location)")
        #expect(malformed.location.line == nil)
    }
}
