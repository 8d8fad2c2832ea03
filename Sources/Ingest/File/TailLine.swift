import EventModel

/// One complete line read from a tailed file, with everything needed to checkpoint after it —
/// or, in a file of multi-line JSON documents, one whole document (`kind`).
public struct TailLine: Sendable {
    public enum Kind: Sendable, Equatable {
        /// One line of a JSON-lines (or CSV, or text) file.
        case line
        /// One JSON document of a file whose first line opens a multi-line document, from its first
        /// byte to its last, however many lines it spans: complete, or cut short because it stopped
        /// growing for `documentTimeout` (its decoder then reports where it ends too early).
        case document
        /// Bytes between documents of such a file that start none: reported once, not decoded.
        case stray
    }

    /// The line without its newline (and without a trailing `\r`), or the document. Never empty.
    public var bytes: [UInt8]
    /// The file's identity (stable across renames and restarts).
    public var fingerprint: FileFingerprint
    /// Bumped each time the file was truncated and rewritten under the same identity.
    public var generation: Int
    /// Byte offset of the line's first byte (decompressed stream for gzip).
    public var offset: Int64
    /// Byte offset just after the line's newline (a document's last byte): where a restart resumes
    /// once this line is durable.
    public var offsetAfterLine: Int64
    /// The path the file had when the line was read.
    public var path: String
    /// 1-based line number in the file (in this generation); a document's first line.
    public var lineNumber: Int
    public var isCompressed: Bool
    public var kind = Kind.line

    /// The checkpoint to save once this line (and every line before it) is durable.
    public var checkpoint: Checkpoint {
        Checkpoint(key: fingerprint.key, offset: offsetAfterLine, generation: generation)
    }

    /// Where the line came from, for events and diagnostics.
    public var position: SourcePosition {
        SourcePosition(source: path, line: lineNumber, offset: offset)
    }

    /// The checkpoints that cover `lines`: the furthest line per file.
    public static func checkpoints<S: Sequence>(for lines: S) -> [Checkpoint] where S.Element == TailLine {
        Checkpoint.latest(lines.lazy.map(\.checkpoint))
    }
}

/// How to tail.
public struct TailConfiguration: Sendable {
    /// Where to start in files that exist at startup and have no checkpoint. Files that appear later
    /// are always read from their beginning.
    public enum StartPosition: String, Sendable, CaseIterable { case beginning, end }

    public var startPosition: StartPosition = .beginning
    /// The fingerprint covers the first line, capped at this many bytes.
    public var headBytes = 1024
    /// Longest wait between checks of open files when inotify says nothing (or is unavailable).
    public var pollInterval: Duration = .milliseconds(250)
    /// Full directory rescan interval (new files are also noticed at once through inotify).
    public var rescanInterval: Duration = .seconds(2)
    /// A file whose path is gone (deleted, or renamed out of the tree) is read to its end and closed
    /// after this long without growth.
    public var closeRemovedAfter: Duration = .seconds(2)
    /// A file that has not grown for this long is closed (its progress is kept; it reopens if it grows).
    public var closeIdleAfter: Duration = .seconds(300)
    /// Longer lines are dropped, with a warning.
    public var maxLineBytes = 16 << 20
    /// A multi-line JSON document is held until it is complete; one that has not grown for this long
    /// is handed out as it is (its decoder reports it incomplete) and reading goes on after it.
    public var documentTimeout: Duration = .seconds(60)
    /// Longer multi-line documents are dropped, with a warning (they are held whole until complete;
    /// `vigil replay` streams them element by element instead).
    public var maxDocumentBytes = 256 << 20
    public var readChunkBytes = 256 << 10
    public var useInotify = true
    /// Which files inside directory trees to read (explicit file paths are always read).
    /// Default: every regular file whose name does not start with a dot.
    public var include: @Sendable (_ name: String) -> Bool = { !$0.hasPrefix(".") }

    public init(startPosition: StartPosition = .beginning) { self.startPosition = startPosition }
}

/// What `TailSource.files` reports per open file: progress and lag.
public struct TailedFileStatus: Sendable, Hashable {
    public var path: String
    public var key: String?
    public var generation: Int
    /// Offset after the last delivered line.
    public var offset: Int64
    /// Current size (decompressed size for gzip).
    public var size: Int64
    public var lag: Int64 { max(0, size - offset) }
}
