import EventDecoding
import Testing

/// `GzipInflate.all`: the whole-buffer form of the streaming gzip reader.
@Suite struct GzipInflateTests {
    @Test func everyMemberAndTrailingZeroPadding() throws {
        let data = gzip("{\"a\":1}\n") + gzip("{\"a\":2}\n") + [0, 0, 0, 0]
        #expect(try GzipInflate.all(data) == Array("{\"a\":1}\n{\"a\":2}\n".utf8))
        #expect(GzipInflate.isGzip(data) && !GzipInflate.isGzip(Array("{}".utf8)))
    }

    @Test func aStreamThatStopsEarlyIsIncomplete() {
        let whole = gzip(String(repeating: "{\"a\":1}\n", count: 500))
        for cut in [0, 1, 5, whole.count / 2, whole.count - 1] {
            #expect(throws: GzipInflate.Failure.incomplete, "cut at \(cut)") { try GzipInflate.all(Array(whole.prefix(cut))) }
        }
    }

    @Test func damagedDataIsCorruptAndSaysWhere() {
        var damaged = gzip(String(repeating: "{\"a\":1}\n", count: 500))
        for i in 12..<40 { damaged[i] ^= 0x5A }
        do {
            _ = try GzipInflate.all(damaged)
            Issue.record("damaged data inflated")
        } catch {
            guard case .corrupt(let why) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("member 1"))
        }
        // Not gzip after a member.
        #expect(throws: GzipInflate.Failure.self) { try GzipInflate.all(gzip("{}\n") + Array("not gzip".utf8)) }
    }
}
