import EventDecoding
import EventModel
import Testing

/// The framing the tailer uses for multi-line documents, and decoding bytes cut out of a file at
/// their place in it: both must agree with what replay does with the whole file.
@Suite struct DocumentFramingTests {
    static let envelope = """
        {
          "records": [
            {"n": 1, "s": "a } ] \\" [ {"},
            {
              "n": 2
            }
          ]
        }
        """

    @Test(arguments: [1, 3, 16, 1000])
    func theEndIsFoundWhateverTheFeedSize(step: Int) {
        let bytes = Array((Self.envelope + "\n{\"next\": 1}\n").utf8)
        let docEnd = Self.envelope.utf8.count
        var framing = DocumentFraming()
        var scanned = 0
        var available = 0
        var found: Int?
        while found == nil, available < bytes.count {
            available = min(bytes.count, available + step)
            found = bytes[..<available].withUnsafeBufferPointer { framing.end(in: $0, from: &scanned) }
            if found == nil { #expect(available < docEnd, "not found with \(available) of \(docEnd) bytes") }
        }
        #expect(found == docEnd)
    }

    @Test(arguments: [
        ("{", true), ("[", true), ("  {\"records\": [  \r", true), ("{\"a\": 1,", true), ("{\"a\":", true),
        ("{\"a\": 1}", false), ("[1, 2]", false), ("\"text\",", false), ("", false), ("a,b,c", false),
    ])
    func opensDocumentIsReplaysRule(line: String, opens: Bool) {
        let bytes = Array(line.utf8)
        #expect(bytes.withUnsafeBufferPointer { DocumentFraming.opensDocument($0) } == opens)
    }

    /// Replay of the whole file, and of the second document alone cut out at its line and offset:
    /// the same records at the same positions with the same ids.
    @Test func bytesCutOutOfAFileDecodeAtTheirPlaceInIt() throws {
        let first = Self.envelope + "\n"
        let second = "[\n  {\"n\": 3},\n  {\"n\": 4}\n]"
        let whole = try read(first + second + "\n", name: "f.json")
        #expect(whole.diagnostics.isEmpty)
        #expect(whole.events.count == 4)

        let cut = try readCut(second, name: "f.json", line: 9, offset: Int64(first.utf8.count))
        #expect(cut.diagnostics.isEmpty)
        #expect(cut.events.map(\.position) == whole.events.suffix(2).map(\.position))
        #expect(cut.events.map(\.id) == whole.events.suffix(2).map(\.id))
        #expect(cut.events.first?.position.line == 10)

        // Cut short: the same one error, at the same place, and the records before it.
        let truncated = "[\n  {\"n\": 3},\n  {\"n\""
        let wholeTruncated = try read(first + truncated, name: "f.json")
        let cutTruncated = try readCut(truncated, name: "f.json", line: 9, offset: Int64(first.utf8.count))
        #expect(cutTruncated.diagnostics.count == 1)
        #expect(cutTruncated.diagnostics.map(\.location) == wholeTruncated.diagnostics.map(\.location))
        #expect(cutTruncated.events.map(\.id) == wholeTruncated.events.suffix(1).map(\.id))
    }

    private func readCut(_ text: String, name: String, line: Int, offset: Int64) throws -> ReadResult {
        var reader = RecordReader(options: ReaderOptions(normalizer: Normalizer(acceptsUnknownShapes: true)))
        var c = Collector()
        try reader.read(bytes: Array(text.utf8), name: name, line: line, offset: offset, into: &c)
        return ReadResult(events: c.events, diagnostics: c.diagnostics, stats: reader.stats)
    }
}
