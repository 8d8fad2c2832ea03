import EventDecoding
import EventModel
import FastJSON
import TestSupport
import Testing

/// Every kind of bad input: reported with a place and a reason, and nothing valid around it lost.
@Suite struct BadInputTests {
    @Test(arguments: chunkSizes)
    func malformedLineIsReportedAndTheRestRead(chunk: Int) throws {
        let r = try read("{\"n\":1}\n{\"n\":2,,}\n{\"n\":3}\n", name: "f.json", chunkSize: chunk)
        #expect(r.records == [#"{"n":1}"#, #"{"n":3}"#])
        #expect(r.codes == [InputCode.malformedJSON])
        let d = try #require(r.diagnostics.first)
        #expect(d.location.file == "f.json" && d.location.line == 2 && d.location.offset == 8)
        #expect(d.description.hasPrefix("f.json:2: error[input.malformed-json]: "))
        #expect(r.stats.errors == [InputCode.malformedJSON: 1])
    }

    @Test(arguments: chunkSizes)
    func truncatedLineAtEndOfInputIsReported(chunk: Int) throws {
        let r = try read("{\"n\":1}\n{\"n\":2, \"s\": \"abc", chunkSize: chunk)
        #expect(r.records == [#"{"n":1}"#])
        #expect(r.codes == [InputCode.malformedJSON])
        #expect(r.diagnostics.first?.location.line == 2)
    }

    @Test(arguments: chunkSizes)
    func invalidUTF8(chunk: Int) throws {
        let bytes = Array("{\"n\":1}\n{\"s\":\"".utf8) + [0xC3, 0x28] + Array("\"}\n{\"n\":3}\n".utf8)
        let r = try read(bytes, chunkSize: chunk)
        #expect(r.records == [#"{"n":1}"#, #"{"n":3}"#])
        #expect(r.codes == [InputCode.invalidUTF8])
        #expect(r.diagnostics.first?.location.line == 2)
    }

    @Test(arguments: chunkSizes)
    func overLongLineIsSkippedAndReported(chunk: Int) throws {
        let long = "{\"s\":\"" + String(repeating: "x", count: 5000) + "\"}"
        let r = try read("{\"n\":1}\n" + long + "\n{\"n\":3}\n", chunkSize: chunk, maxLineBytes: 100)
        #expect(r.records.count == 2 && r.records.first == #"{"n":1}"# && r.records.last == #"{"n":3}"#)
        #expect(r.codes == [InputCode.lineTooLong])
        #expect(r.diagnostics.first?.location.line == 2)
        #expect(r.diagnostics.first?.location.offset == 8)
        #expect(r.events.last?.position.line == 3)
    }

    @Test(arguments: chunkSizes)
    func overLongElementInsideAnEnvelope(chunk: Int) throws {
        let big = "{\"s\":\"" + String(repeating: "y", count: 3000) + "\"}"
        let text = "{\n \"records\": [\n  {\"n\":1},\n  " + big + ",\n  {\"n\":3}\n ]\n}\n"
        let r = try read(text, chunkSize: chunk, maxLineBytes: 200)
        #expect(r.records.count == 2 && r.records.first == #"{"n":1}"# && r.records.last == #"{"n":3}"#)
        #expect(r.codes == [InputCode.lineTooLong])
        #expect(r.diagnostics.first?.location.line == 4)
        #expect(r.events.map(\.position.recordIndex) == [0, 2])
    }

    @Test func overLongCSVRow() throws {
        let csv = "a,b\n1,2\n3,\"" + String(repeating: "z", count: 2000) + "\"\n5,6\n"
        let r = try read(csv, chunkSize: 16, maxLineBytes: 100)
        #expect(r.records == [#"{"a":"1","b":"2"}"#, #"{"a":"5","b":"6"}"#])
        #expect(r.codes == [InputCode.lineTooLong])
        #expect(r.diagnostics.first?.location.line == 3)
    }

    @Test(arguments: chunkSizes)
    func truncatedGzipKeepsEverythingBeforeTheCut(chunk: Int) throws {
        let full = gzip((1...200).map { "{\"n\":\($0)}" }.joined(separator: "\n") + "\n")
        let cut = Array(full[0..<(full.count * 2 / 3)])
        let r = try read(cut, chunkSize: chunk)
        #expect(r.codes.last == InputCode.truncatedGzip)
        #expect(r.events.count > 20)
        #expect(r.records.first == #"{"n":1}"#)
        // Records are in order with nothing skipped before the cut.
        #expect(r.records == (1...r.events.count).map { "{\"n\":\($0)}" })
        #expect(r.diagnostics.last?.location.line != nil)
    }

    @Test func truncatedSecondMember() throws {
        let second = gzip("{\"n\":2}\n")
        let r = try read(gzip("{\"n\":1}\n") + Array(second[0..<12]))
        #expect(r.records == [#"{"n":1}"#])
        // Whatever the cut member still yields is a broken record; the cut itself is reported last.
        #expect(r.codes.last == InputCode.truncatedGzip)
    }

    @Test func corruptGzip() throws {
        var bytes = gzip((1...50).map { "{\"n\":\($0),\"pad\":\"abcdefghijklmnopqrstuvwxyz\"}" }.joined(separator: "\n"))
        for k in 20..<40 { bytes[k] ^= 0xA5 }
        let r = try read(bytes)
        #expect(r.codes.contains(InputCode.corruptGzip))
        #expect(r.diagnostics.first { $0.code == InputCode.corruptGzip }?.message.contains("corrupt") == true)
    }

    @Test func garbageAfterAGzipMember() throws {
        let r = try read(gzip("{\"n\":1}\n") + Array("not gzip at all".utf8))
        #expect(r.records == [#"{"n":1}"#])
        #expect(r.codes == [InputCode.corruptGzip])
    }

    @Test func binaryGarbageFile() throws {
        var g = SplitMix64(seed: 7)
        let bytes = (0..<10_000).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let r = try read([0x00, 0x01, 0x02] + bytes, name: "blob.bin")
        #expect(r.events.isEmpty)
        #expect(r.codes == [InputCode.binary])
        #expect(r.diagnostics.first?.location.file == "blob.bin")
    }

    @Test func binaryLineBetweenRecords() throws {
        let bytes = Array("{\"n\":1}\n".utf8) + [0x00, 0x9F, 0x01, 0x02, 0x7B, 0x03] + Array("\n{\"n\":3}\n".utf8)
        let r = try read(bytes)
        #expect(r.records == [#"{"n":1}"#, #"{"n":3}"#])
        #expect(r.codes == [InputCode.binary])
        #expect(r.diagnostics.first?.location.line == 2)
    }

    @Test func textThatIsNoSupportedFormat() throws {
        let r = try read("# A README\nnot a log file\n", name: "README.md")
        #expect(r.events.isEmpty)
        #expect(r.codes == [InputCode.unknownFormat])
    }

    @Test(arguments: chunkSizes)
    func rawLineBreakInsideAStringIsLocated(chunk: Int) throws {
        // As in the Microsoft Docs sample: a string wrapped across lines.
        let text = "{\n  \"a\": 1,\n  \"policies\": \"[{\\\"id\\\":\\\"/subscriptions/x/providers/Microsoft.\n      Authorization/policyDefinitions/y\\\"}]\"\n}\n{\"n\":2}\n"
        let r = try read(text, chunkSize: chunk)
        #expect(r.codes == [InputCode.malformedJSON])
        #expect(r.diagnostics.first?.location.line == 3)
        #expect(r.diagnostics.first?.message.contains("line 1") == true)
        #expect(r.records == [#"{"n":2}"#])
    }

    @Test(arguments: chunkSizes)
    func unterminatedDocumentAtEndOfInput(chunk: Int) throws {
        let r = try read("[\n {\"n\":1},\n {\"n\":2},\n {\"n\"", chunkSize: chunk)
        #expect(r.records == [#"{"n":1}"#, #"{"n":2}"#])
        #expect(r.codes == [InputCode.malformedJSON])
    }

    @Test func csvRowWithTheWrongNumberOfCellsAndUnclosedQuote() throws {
        let r = try read("a,b\n1,2\n1,2,3\n4,5\n6,\"open\n")
        #expect(r.records == [#"{"a":"1","b":"2"}"#, #"{"a":"4","b":"5"}"#])
        #expect(r.codes == [InputCode.csv, InputCode.csv])
        #expect(r.diagnostics.map(\.location.line) == [3, 5])
    }

    @Test func missingFileIsReportedNotThrown() throws {
        var reader = RecordReader(options: ReaderOptions(normalizer: Normalizer(acceptsUnknownShapes: true)))
        var c = Collector()
        try reader.read(InputFile(path: "/nonexistent/vigil/file.json"), into: &c)
        #expect(c.codes == [InputCode.unreadable])
        #expect(c.diagnostics.first?.location.file == "/nonexistent/vigil/file.json")
    }
}
