import EventDecoding

/// What the first bytes of a plain file say about it before anything is delivered.
enum FileHead {
    /// Index of the first byte after a UTF-8 byte order mark and blank space, or nil if there is none.
    static func contentStart(in head: ArraySlice<UInt8>) -> Int? {
        var k = head.startIndex
        if head.count >= 3, head[k] == 0xEF, head[k + 1] == 0xBB, head[k + 2] == 0xBF { k += 3 }
        while k < head.endIndex, head[k] == 0x20 || head[k] == 0x09 || head[k] == 0x0D || head[k] == 0x0A { k += 1 }
        return k < head.endIndex ? k : nil
    }

    /// The first line that is not blank, without its newline, or nil while none is complete in `head`.
    static func firstLine(in head: ArraySlice<UInt8>) -> Range<Int>? {
        guard let k = contentStart(in: head), let nl = head[k...].firstIndex(of: 0x0A) else { return nil }
        return k..<nl
    }

    /// Whether the file holds JSON documents that span lines: its first non-blank line opens one
    /// (`DocumentFraming.opensDocument`, the rule replay uses). Nil while that cannot be told yet.
    static func opensDocument(_ head: ArraySlice<UInt8>) -> Bool? {
        guard let k = contentStart(in: head) else { return nil }
        guard head[k] == 0x7B || head[k] == 0x5B else { return false }   // text or CSV: never a document
        guard let line = firstLine(in: head) else { return nil }
        return head.withUnsafeBufferPointer { buf in
            let base = head.startIndex
            return DocumentFraming.opensDocument(UnsafeBufferPointer(rebasing: buf[(line.lowerBound - base)..<(line.upperBound - base)]))
        }
    }
}
