import EventDecoding

/// One open file the tailer reads: its descriptor, identity and read state.
/// Offsets are of the file for plain files, of the decompressed stream for gzip archives.
final class TrackedFile {
    var path: String
    let file: PosixFile
    let id: FileID
    let isGzip: Bool
    /// nil until the first line is complete (plain) or the archive is complete (gzip).
    var fingerprint: FileFingerprint?
    var generation = 0
    /// Offset just after the last delivered (or skipped) line.
    var offset: Int64 = 0
    /// Newlines passed so far: the last delivered line's number.
    var lineNumber = 0
    /// Bytes from `offset` on that were read but do not end in a newline yet start at `start`.
    var buffer: [UInt8] = []
    var start = 0
    /// Inside an over-long line: drop bytes through the next newline.
    var discarding = false
    /// Its first non-blank line opens a multi-line JSON document: read document by document
    /// (`TailSource+Documents.swift`). Decided with the identity.
    var readsDocuments = false
    /// The document being framed from `start`, and how many of its bytes were scanned.
    var framing: DocumentFraming?
    var scanned = 0
    /// Inside a document over `maxDocumentBytes`: drop it through its end.
    var discardingDocument = false
    /// From-end on a file present at startup: offset after its last newline then.
    var initialEnd: Int64?
    /// The identity before a truncation, to number the next generation.
    var previous: (fingerprint: FileFingerprint, generation: Int)?
    var missingSince: ContinuousClock.Instant?
    var lastGrowth: ContinuousClock.Instant
    /// gzip: everything is in `buffer` and the file needs no more reads.
    var complete = false
    /// gzip: inflating was tried at the current size.
    var triedOnce = false
    var lastStatus: FileStatus

    init(path: String, file: PosixFile, status: FileStatus, isGzip: Bool, now: ContinuousClock.Instant) {
        self.path = path
        self.file = file
        self.id = status.fileID
        self.isGzip = isGzip
        self.lastStatus = status
        self.lastGrowth = now
    }

    /// Where the next read starts.
    var readPosition: Int64 { offset + Int64(buffer.count - start) }

    /// Forgets everything read: the file was truncated or rewritten in place.
    func resetForNewGeneration() {
        if let fingerprint { previous = (fingerprint, generation) }
        fingerprint = nil
        offset = 0
        lineNumber = 0
        buffer = []
        start = 0
        discarding = false
        readsDocuments = false
        framing = nil
        scanned = 0
        discardingDocument = false
        initialEnd = nil
        complete = false
    }

    /// Bytes of a document file read but not handed out yet: an unfinished document or stray span.
    var holdsUnfinishedDocument: Bool { readsDocuments && buffer.count > start }

    /// Drops the bytes before `start` so the buffer does not grow without bound.
    func compact() {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    var status: TailedFileStatus {
        TailedFileStatus(path: path, key: fingerprint?.key, generation: generation, offset: offset,
                         size: isGzip ? (complete ? Int64(buffer.count) : 0) : lastStatus.size)
    }
}
