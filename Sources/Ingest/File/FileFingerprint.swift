import EventDecoding
import FastJSON

/// A file's identity across renames, restarts and inode reuse: a hash of its head.
///
/// The head is the first line (including its newline), capped at `headBytes`: enough for JSON
/// lines, whose records are hundreds of bytes of timestamps and ids, and for text. A file whose
/// first line is not complete yet (and shorter than the cap) has no identity and is not read until
/// it is: that line could not be delivered anyway.
///
/// One exception: when the first non-blank line opens a JSON document that spans lines (`{`, `[`,
/// `{"records": [`, `{"@odata.context": "…", "value": [` — `FileHead.opensDocument`), that line is
/// the wrapper's opening, the same in every file of its kind, short or long. The head then runs on
/// to the end of the first document, capped at `headBytes`, and the file has no identity until
/// that much is written (its document could not be delivered before either) — or until it stopped
/// changing (`settled`), when the head is everything there is. A first line of `headBytes` or more
/// gives the same key either way, and so does every file that does not open such a document, so
/// the keys of JSON-lines files (and their saved positions) are what they always were.
///
/// Because the head of an append-only file never changes once complete, the identity is stable
/// while the file grows; a rename keeps it; different content at the same path or inode gets
/// another one. Gzip archives are immutable once complete and use their first `headBytes`
/// compressed bytes.
public struct FileFingerprint: Sendable, Hashable, CustomStringConvertible {
    public let hash: UInt64
    /// How many head bytes were hashed.
    public let length: Int

    static let seedPlain: UInt64 = 0x7669_6769_6C74_6169   // "vigiltai"
    static let seedGzip: UInt64 = 0x7669_6769_6C67_7A70    // "vigilgzp"

    /// The checkpoint key: `file:<16 hex digits>`.
    public var key: String {
        let s = String(hash, radix: 16)
        return "file:" + String(repeating: "0", count: 16 - s.count) + s
    }

    public var description: String { key }

    /// The fingerprint of a plain file's head, or nil while that head is still incomplete.
    /// `settled`: the file stopped changing, so an unfinished document's head is all there is.
    static func plain(head: [UInt8], headBytes: Int, settled: Bool = false) -> FileFingerprint? {
        let capped = min(head.count, headBytes)
        guard let nl = Lines.firstNewline(in: head, from: 0), nl < capped else {
            return head.count >= headBytes ? hashing(head, count: headBytes) : nil
        }
        guard FileHead.opensDocument(head[..<capped]) == true, let start = FileHead.contentStart(in: head[..<capped]) else {
            return hashing(head, count: nl + 1)
        }
        var framing = DocumentFraming()
        var scanned = 0
        let end = head.withUnsafeBufferPointer { framing.end(in: UnsafeBufferPointer(rebasing: $0[start..<capped]), from: &scanned) }
        if let end { return hashing(head, count: start + end) }
        if head.count >= headBytes { return hashing(head, count: headBytes) }
        return settled ? hashing(head, count: head.count) : nil
    }

    /// The fingerprint of exactly the first `count` bytes of a plain file's head.
    static func hashing(_ head: [UInt8], count: Int) -> FileFingerprint {
        head.withUnsafeBytes { raw in
            FileFingerprint(hash: fastHash64(UnsafeRawBufferPointer(rebasing: raw[0..<count]), seed: seedPlain), length: count)
        }
    }

    static func gzip(head: [UInt8], headBytes: Int) -> FileFingerprint {
        let end = min(head.count, headBytes)
        return head.withUnsafeBytes { raw in
            FileFingerprint(hash: fastHash64(UnsafeRawBufferPointer(rebasing: raw[0..<end]), seed: seedGzip), length: end)
        }
    }
}
