import FastJSON

/// A file's identity across renames, restarts and inode reuse: a hash of its head.
///
/// The head is the first line (including its newline), capped at `headBytes`. A file whose first
/// line is not complete yet (and shorter than the cap) has no identity and is not read until it does:
/// its first line could not be delivered anyway. Because the head of an append-only file never
/// changes once complete, the identity is stable while the file grows; a rename keeps it; different
/// content at the same path or inode gets another one. Gzip archives are immutable once complete and
/// use their first `headBytes` compressed bytes.
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

    /// The fingerprint of a plain file's head, or nil while its first line is still incomplete.
    static func plain(head: [UInt8], headBytes: Int) -> FileFingerprint? {
        let capped = min(head.count, headBytes)
        let end: Int
        if let nl = Lines.firstNewline(in: head, from: 0), nl < capped { end = nl + 1 }
        else if head.count >= headBytes { end = headBytes }
        else { return nil }
        return head.withUnsafeBytes { raw in
            FileFingerprint(hash: fastHash64(UnsafeRawBufferPointer(rebasing: raw[0..<end]), seed: seedPlain), length: end)
        }
    }

    static func gzip(head: [UInt8], headBytes: Int) -> FileFingerprint {
        let end = min(head.count, headBytes)
        return head.withUnsafeBytes { raw in
            FileFingerprint(hash: fastHash64(UnsafeRawBufferPointer(rebasing: raw[0..<end]), seed: seedGzip), length: end)
        }
    }
}
