/// Where a JSON document that may span lines begins and ends, for readers that cut a live file
/// themselves (the tailer): the rule and the structural scan `RecordReader` uses, so a document is
/// framed exactly where replay finds it. It does not validate; the framed bytes are decoded later
/// (`RecordReader.read(bytes:name:line:offset:into:)`), which reports what is wrong with them.
public struct DocumentFraming {
    private var scanner = StructureScanner()

    /// A framer for one document, to be fed from its first byte (`{` or `[`) on.
    public init() {}

    /// Whether `line` opens a document that continues on the next lines: its first byte (after
    /// whitespace) is `{` or `[` and its last one is `{`, `[`, `,` or `:`. A complete one-line
    /// record never ends that way.
    public static func opensDocument(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var first = 0, end = line.count
        while first < end, isSpace(line[first]) { first += 1 }
        while end > first, isSpace(line[end - 1]) { end -= 1 }
        guard end > first, line[first] == 0x7B || line[first] == 0x5B else { return false }
        let last = line[end - 1]
        return last == 0x7B || last == 0x5B || last == 0x2C || last == 0x3A
    }

    /// Scans `bytes` (the document from its first byte, with whatever arrived since the last call
    /// at the end) from `i` on; returns the index one past the document's last byte, or nil when it
    /// needs more bytes. `i` is left where the scan stopped, for the next call.
    public mutating func end(in bytes: UnsafeBufferPointer<UInt8>, from i: inout Int) -> Int? {
        guard let p = bytes.baseAddress else { return nil }
        while let mark = scanner.next(p, &i, bytes.count) {
            if case .documentEnd(let e) = mark { return e }
        }
        return nil
    }
}
