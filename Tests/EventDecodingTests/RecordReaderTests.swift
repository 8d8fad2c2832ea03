import EventDecoding
import EventModel
import FastJSON
import Testing

/// Every supported format, each read whole, in 7-byte chunks and one byte at a time.
@Suite struct RecordReaderFormatTests {
    @Test(arguments: chunkSizes)
    func jsonLinesWithCRLFBlankLinesAndNoFinalNewline(chunk: Int) throws {
        let lines = [#"{"a":1}"#, #"{"a":2}"#, #"{"a":3}"#]
        let text = lines[0] + "\r\n\r\n" + lines[1] + "\n   \n" + lines[2]
        let r = try read(text, chunkSize: chunk)
        #expect(r.diagnostics.isEmpty)
        #expect(r.records == lines)
        #expect(r.events.map(\.position.line) == [1, 3, 5])
        #expect(r.events.map(\.position.offset) == [0, 11, 23])
        #expect(r.events.map(\.position.recordIndex) == [nil, nil, nil])
        // Identity: the hash of the line's bytes (without the line break).
        #expect(r.events[0].id == hash(lines[0] + "\r"))
        #expect(r.events[2].id == hash(lines[2]))
        #expect(r.stats.records == 3 && r.stats.events == 3 && r.stats.bytesDecoded == Int64(text.utf8.count))
    }

    @Test(arguments: chunkSizes)
    func prettyPrintedEnvelopeIsCutIntoElements(chunk: Int) throws {
        let text = """
        {
            "records": [
                {
                    "time": "2024-05-01T10:00:00Z",
                    "operationName": "A"
                },
                { "time": "2024-05-01T10:00:01Z", "operationName": "B" }
            ]
        }

        """
        let r = try read(text, chunkSize: chunk)
        #expect(r.diagnostics.isEmpty)
        #expect(r.records == [#"{"time":"2024-05-01T10:00:00Z","operationName":"A"}"#, #"{"time":"2024-05-01T10:00:01Z","operationName":"B"}"#])
        #expect(r.events.map(\.position.line) == [3, 7])
        #expect(r.events.map(\.position.recordIndex) == [0, 1])
        // Identity: the element's own byte span.
        #expect(r.events[1].id == hash(#"{ "time": "2024-05-01T10:00:01Z", "operationName": "B" }"#))
        let firstOffset = Int(try #require(r.events[0].position.offset))
        #expect(Array(text.utf8)[firstOffset] == UInt8(ascii: "{"))
    }

    @Test(arguments: chunkSizes)
    func envelopePerLine(chunk: Int) throws {
        let text = #"{"records":[{"n":1},{"n":2}]}"# + "\n" + #"{ "other": 1, "records": [ {"n":3} ] }"# + "\n"
        let r = try read(text, chunkSize: chunk)
        #expect(r.diagnostics.isEmpty)
        #expect(r.records == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#])
        #expect(r.events.map(\.position.line) == [1, 1, 2])
        #expect(r.events.map(\.position.recordIndex) == [0, 1, 0])
    }

    @Test(arguments: chunkSizes)
    func arraysCompactAndPretty(chunk: Int) throws {
        let compact = try read(#"[{"n":1},{"n":2},{"n":"x,]}"}]"#, chunkSize: chunk)
        #expect(compact.diagnostics.isEmpty)
        #expect(compact.records == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":"x,]}"}"#])
        let pretty = try read("[\n  {\"n\": 1},\n  {\"n\": [2, 3]}\n]\n", chunkSize: chunk)
        #expect(pretty.records == [#"{"n":1}"#, #"{"n":[2,3]}"#])
        #expect(pretty.events.map(\.position.line) == [2, 3])
        #expect(pretty.events.map(\.position.recordIndex) == [0, 1])
    }

    @Test(arguments: chunkSizes)
    func singlePrettyPrintedObjectAndConcatenatedDocuments(chunk: Int) throws {
        let text = "{\n  \"eventTimestamp\": \"2024-01-01T00:00:00Z\",\n  \"operationName\": {\"value\": \"X\"}\n}\n{\n  \"n\": 2\n}\n"
        let r = try read(text, chunkSize: chunk)
        #expect(r.diagnostics.isEmpty)
        #expect(r.records == [#"{"eventTimestamp":"2024-01-01T00:00:00Z","operationName":{"value":"X"}}"#, #"{"n":2}"#])
        #expect(r.events.map(\.position.line) == [1, 5])
    }

    @Test(arguments: chunkSizes)
    func restListResponse(chunk: Int) throws {
        let text = "{\n \"value\": [ {\"id\": \"a\"}, {\"id\": \"b\"} ],\n \"nextLink\": null\n}"
        let r = try read(text, chunkSize: chunk)
        #expect(r.diagnostics.isEmpty)
        #expect(r.records == [#"{"id":"a"}"#, #"{"id":"b"}"#])
    }

    @Test(arguments: chunkSizes)
    func restSpecExampleBodiesAreUnwrapped(chunk: Int) throws {
        let single = try read(#"{"parameters":{"api-version":"1"},"responses":{"200":{"body":{"id":"a","properties":{"x":1}}}}}"#, chunkSize: chunk)
        #expect(single.diagnostics.isEmpty)
        #expect(single.records == [#"{"id":"a","properties":{"x":1}}"#])
        #expect(single.events[0].id == hash(#"{"id":"a","properties":{"x":1}}"#))
        let list = try read("{\n\"parameters\": {},\n\"responses\": {\"200\": {\"body\": {\"value\": [{\"id\":\"a\"},{\"id\":\"b\"}]}}}\n}", chunkSize: chunk)
        #expect(list.records == [#"{"id":"a"}"#, #"{"id":"b"}"#])
        #expect(list.events.map(\.position.recordIndex) == [0, 1])
        // An update example answers 204 with no body: no record, a note, no error.
        let none = try read("{\n\"parameters\": {\"alertName\": \"a\"},\n\"responses\": {\"204\": {}}\n}", chunkSize: chunk)
        #expect(none.records.isEmpty)
        #expect(none.diagnostics.map(\.code) == [InputCode.noRecord])
        #expect(none.diagnostics.allSatisfy { $0.level == .note && $0.location.line == 1 })
    }

    @Test(arguments: chunkSizes)
    func gzipOfEachShape(chunk: Int) throws {
        let lines = try read(gzip("{\"n\":1}\n{\"n\":2}\n"), chunkSize: chunk)
        #expect(lines.records == [#"{"n":1}"#, #"{"n":2}"#])
        #expect(lines.events.map(\.position.line) == [1, 2])
        let envelope = try read(gzip("{\n \"records\": [\n  {\"n\":1},\n  {\"n\":2}\n ]\n}\n"), chunkSize: chunk)
        #expect(envelope.records == [#"{"n":1}"#, #"{"n":2}"#])
        let csv = try read(gzip("a,b\n1,2\n"), chunkSize: chunk)
        #expect(csv.records == [#"{"a":"1","b":"2"}"#])
        #expect(lines.diagnostics.isEmpty && envelope.diagnostics.isEmpty && csv.diagnostics.isEmpty)
    }

    @Test(arguments: chunkSizes)
    func multiMemberGzipDecodesToTheJoinedText(chunk: Int) throws {
        // The first member ends mid-line: members join into one text stream.
        let bytes = gzip("{\"n\":1}\n{\"n\"") + gzip(":2}\n") + gzip("{\"n\":3}\n") + [0, 0, 0, 0]
        let r = try read(bytes, chunkSize: chunk)
        #expect(r.diagnostics.isEmpty)
        #expect(r.records == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#])
        #expect(r.stats.bytesRead == Int64(bytes.count))
        #expect(r.stats.bytesDecoded == 24)
    }

    @Test(arguments: chunkSizes)
    func csvExportWithMultiLineQuotedCells(chunk: Int) throws {
        let csv = "\u{FEFF},TimeGenerated,Entities,Empty,Note\r\n"
            + "0,2019-01-11 06:31:40,\"[\r\n  {\"\"Type\"\": \"\"ip\"\", \"\"Address\"\": \"\"10.0.0.1\"\"}\r\n]\",,\"a, \"\"b\"\"\"\r\n"
            + "1,2019-01-12 00:00:00,[],,plain\r\n"
        let r = try read(csv, chunkSize: chunk)
        #expect(r.diagnostics.isEmpty)
        #expect(r.events.count == 2)
        let first = try #require(r.events.first)
        #expect(first.text(at: "TimeGenerated") == "2019-01-11 06:31:40")
        #expect(first.values(at: "Empty").isEmpty)       // empty cells are left out
        #expect(first.record.root.members.allSatisfy { !$0.key.isEmpty })   // unnamed index column dropped
        #expect(first.text(at: "Note") == #"a, "b""#)
        // JSON inside a cell stays a string, and path lookups see through it.
        #expect(first.values(at: "Entities").first?.json?.type == .object || first.values(at: "Entities").first?.json?.type == .string)
        #expect(first.text(at: "Entities.Address") == "10.0.0.1")
        #expect(first.record.root["Entities"]?.type == .string)
        #expect(r.events.map(\.position.line) == [2, 5])
        #expect(r.events[1].record.root.jsonText == #"{"TimeGenerated":"2019-01-12 00:00:00","Entities":"[]","Note":"plain"}"#)
        #expect(r.events[1].id == hash("1,2019-01-12 00:00:00,[],,plain"))
    }

    @Test(arguments: chunkSizes)
    func emptyAndWhitespaceOnlyInputs(chunk: Int) throws {
        for text in ["", " ", "\n\n\r\n\t \n"] {
            let r = try read(text, chunkSize: chunk)
            #expect(r.events.isEmpty)
            #expect(r.diagnostics.isEmpty)
            #expect(r.stats.files == 1)
        }
    }

    @Test func sameRecordHasTheSameIdWhereverItIsRead() throws {
        let record = #"{"time":"2024-01-01T00:00:00Z","n":1}"#
        let a = try read(record + "\n", name: "a")
        let b = try read("{\"x\":0}\n" + record + "\n", name: "b")
        #expect(a.events[0].id == b.events[1].id)
        #expect(a.events[0].id != b.events[0].id)
    }

    @Test func largeEnvelopeStreamsPastTheDocumentLimit() throws {
        // The envelope is far larger than the limit; each element is small: all must be read.
        let element = #"{"time":"2024-05-01T10:00:00Z","operationName":"MICROSOFT.X/Y/WRITE","properties":{"pad":"0123456789"}}"#
        let body = Array(repeating: "    " + element, count: 500).joined(separator: ",\n")
        let text = "{\n  \"records\": [\n" + body + "\n  ]\n}\n"
        #expect(text.utf8.count > 50_000)
        let r = try read(text, chunkSize: 512, maxLineBytes: 1024)
        #expect(r.diagnostics.isEmpty)
        #expect(r.events.count == 500)
        #expect(r.events.last?.position.recordIndex == 499)
        #expect(r.events.last?.position.line == 502)
    }

    @Test func kafkaMessageBodies() throws {
        var reader = RecordReader(options: ReaderOptions(normalizer: Normalizer(acceptsUnknownShapes: true)))
        var c = Collector()
        let body = Array(#"{"records":[{"n":1},{"n":2}]}"#.utf8)
        let position = SourcePosition(source: "kafka:insights-operational-logs", partition: 3, kafkaOffset: 42)
        try body.withUnsafeBytes { try reader.decode(message: $0, position: position, into: &c) }
        #expect(c.diagnostics.isEmpty)
        #expect(c.events.map(\.position.recordIndex) == [0, 1])
        #expect(c.events.allSatisfy { $0.position.partition == 3 && $0.position.kafkaOffset == 42 && $0.position.source == position.source })
        #expect(c.events[1].id == hash(#"{"n":2}"#))

        let broken = Array(#"{"records":[{"n":1},{"n":"#.utf8)
        try broken.withUnsafeBytes { try reader.decode(message: $0, position: position, into: &c) }
        #expect(c.events.count == 3)
        #expect(c.codes == [InputCode.malformedJSON])
        #expect(c.diagnostics[0].location.file.contains("kafka:insights-operational-logs[3]@42"))
    }

    @Test func standardInputIsAnInputFile() {
        #expect(InputFile.standardInput.isStandardInput)
        #expect(InputFile.standardInput.path == "-")
    }
}
