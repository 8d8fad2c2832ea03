@testable import EventDecoding
import Testing

@Suite struct StructureScannerTests {
    /// Scans `text` fed `step` bytes at a time; returns the marks with absolute positions.
    private func marks(_ text: String, step: Int) -> [StructureScanner.Mark] {
        let bytes = Array(text.utf8)
        var scanner = StructureScanner()
        var out: [StructureScanner.Mark] = []
        bytes.withUnsafeBufferPointer { buf in
            var i = 0
            var end = 0
            while end < bytes.count || i < end {
                if i == end { end = min(bytes.count, end + step) }
                while let m = scanner.next(buf.baseAddress!, &i, end) { out.append(m) }
                if end == bytes.count, i == end { break }
            }
        }
        return out
    }

    @Test(arguments: [1, 2, 5, 1000])
    func envelopeElementsAreCutWhateverTheFeedSize(step: Int) {
        let text = #"{"a":{"records":[1]},"Records" : [ {"x":"}]\"[{"}, [1,2], "s\"", 12, null ], "z": [3]}"#
        let got = marks(text, step: step)
        let spans = stride(from: 0, to: got.count - 1, by: 2).map { k -> String in
            guard case .elementStart(let s) = got[k], case .elementEnd(let e) = got[k + 1] else { return "?" }
            return String(decoding: Array(text.utf8)[s..<e], as: UTF8.self)
        }
        #expect(spans == [#"{"x":"}]\"[{"}"#, "[1,2]", #""s\"""#, "12", "null"])
        #expect(got.last == .documentEnd(text.utf8.count))
    }

    @Test func objectWithoutAnEnvelopeKeyIsOneDocument() {
        let text = "{\"records\": 5, \"value\": {\"x\": [1]}, \"n\": \"a\nb\"}"
        var scanner = StructureScanner()
        let got = marks(text, step: 3)
        #expect(got == [.documentEnd(text.utf8.count)])
        _ = scanner
        scanner = StructureScanner()
        Array(text.utf8).withUnsafeBufferPointer { buf in
            var i = 0
            _ = scanner.next(buf.baseAddress!, &i, buf.count)
        }
        #expect(scanner.firstRawControl == 0)
        #expect(!scanner.splits)
    }
}
