import EventDecoding
import EventModel
import Glibc
import Logging

/// Follows files and directory trees and hands out complete lines.
///
/// - New files in a tree are found through inotify (recursive, new subdirectories included) or, as
///   the fallback and safety net, by a rescan every `rescanInterval`.
/// - A line is delivered only once its newline is written; a partial last line waits.
/// - A file whose first line opens a multi-line JSON document (a pretty-printed envelope or array)
///   is read document by document instead: each is delivered whole once complete
///   (`TailSource+Documents.swift`).
/// - Files are known by their `FileFingerprint`, never by path or inode: a rename continues where it
///   was, a truncation starts a new generation, a new file on a reused inode is a new file.
/// - gzip archives are read whole once they are complete, and never twice.
/// - Progress survives a restart only through the `CheckpointStore`, which the *caller* updates after
///   it made the lines durable (`TailLine.checkpoints(for:)`); a restart re-delivers what was not saved.
///
/// Thread rules: one caller at a time (the source's loop); it is `Sendable` only so that loop can run
/// on its own thread.
public final class TailSource: @unchecked Sendable {
    public let roots: [String]
    public let configuration: TailConfiguration
    private let checkpoints: any CheckpointStore
    let logger: Logger
    private let clock = ContinuousClock()
    private let watcher: InotifyWatcher?

    private var tracked: [FileID: TrackedFile] = [:]
    /// Closed files (idle, finished archives, copies) that need no reopening while unchanged.
    private var dormant: [FileID: (size: Int64, modified: Int64)] = [:]
    /// Delivered progress per identity, in this process (ahead of the saved checkpoints).
    private var progress: [String: (generation: Int, offset: Int64, line: Int)] = [:]
    private var scannedOnce = false
    private var rescanDue = true
    private var lastRescan: ContinuousClock.Instant
    private var backlog = false

    public init(paths: [String], configuration: TailConfiguration = .init(), checkpoints: any CheckpointStore,
                logger: Logger = Logger(label: "vigil.tail")) {
        self.roots = paths
        self.configuration = configuration
        self.checkpoints = checkpoints
        self.logger = logger
        self.watcher = configuration.useInotify ? InotifyWatcher() : nil
        self.lastRescan = clock.now
        if configuration.useInotify && watcher == nil {
            logger.warning("inotify unavailable, polling instead", metadata: ["interval": "\(configuration.pollInterval)"])
        }
    }

    /// True when inotify drives the source (else it polls).
    public var usesInotify: Bool { watcher != nil }

    /// Progress and lag of every open file.
    public var files: [TailedFileStatus] { tracked.values.map(\.status).sorted { $0.path < $1.path } }

    /// Up to `maxLines` complete lines, oldest first per file. Empty when nothing new is there.
    public func poll(maxLines: Int = 4096) throws -> [TailLine] {
        let now = clock.now
        if rescanDue || now - lastRescan >= configuration.rescanInterval { try rescan(now: now) }
        var out: [TailLine] = []
        backlog = false
        for file in tracked.values.sorted(by: { $0.path < $1.path }) {
            try refresh(file, now: now)
            guard file.fingerprint != nil else { continue }
            read(file, now: now, maxLines: maxLines, into: &out)
            if out.count >= maxLines { backlog = true; break }
        }
        closeFinished(now: now)
        return out
    }

    /// Blocks until files may have changed or `timeout` passed; returns false on a plain timeout.
    /// Returns at once when the last `poll` left lines behind.
    @discardableResult
    public func wait(timeout: Duration) -> Bool {
        if backlog { return true }
        let step = min(timeout, configuration.pollInterval)
        guard let watcher else {
            sleep(step)
            return true
        }
        let changes = watcher.wait(timeoutMilliseconds: Int32(clamping: step.milliseconds))
        if changes.treeChanged { rescanDue = true }
        return changes.treeChanged || changes.contentChanged || step < timeout
    }

    // MARK: - Discovery

    private func rescan(now: ContinuousClock.Instant) throws {
        rescanDue = false
        lastRescan = now
        var found: [(path: String, status: FileStatus)] = []
        for root in roots { walk(root, explicit: true, into: &found) }
        let startup = !scannedOnce
        scannedOnce = true

        var seen = Set<FileID>()
        var byID: [FileID: (String, FileStatus)] = [:]
        for (path, status) in found where byID[status.fileID] == nil { byID[status.fileID] = (path, status) }
        // Known open files first: follow renames, notice removals and in-place rewrites.
        for file in tracked.values {
            if let (path, _) = byID[file.id] {
                if path != file.path { logger.info("file renamed", metadata: ["file": "\(file.path)", "to": "\(path)"]) }
                file.path = path
                file.missingSince = nil
                checkHead(file)
            } else if file.missingSince == nil {
                file.missingSince = now
            }
            seen.insert(file.id)
        }
        for (path, status) in found where !seen.contains(status.fileID) {
            seen.insert(status.fileID)
            if let d = dormant[status.fileID], d.size == status.size, d.modified == status.modified { continue }
            dormant[status.fileID] = nil
            guard let file = PosixFile(path: path), let current = file.status(), current.fileID == status.fileID else { continue }
            var head: [UInt8] = []
            _ = file.read(at: 0, count: 2, into: &head)
            let t = TrackedFile(path: path, file: file, status: current, isGzip: GzipInflate.isGzip(head), now: now)
            if startup && configuration.startPosition == .end {
                t.initialEnd = t.isGzip ? -1 : lastNewlineEnd(file, size: current.size)
            }
            tracked[t.id] = t
        }
        dormant = dormant.filter { seen.contains($0.key) }
    }

    /// Collects regular files under `path`; watches every directory on the way.
    private func walk(_ path: String, explicit: Bool, into found: inout [(path: String, status: FileStatus)]) {
        guard let status = FileStatus.of(path: path) else {
            if explicit { watcher?.watch(directory: parent(of: path)) }
            return
        }
        if status.isRegular {
            if explicit { watcher?.watch(directory: parent(of: path)) }
            found.append((path, status))
            return
        }
        guard status.isDirectory else { return }
        watcher?.watch(directory: path)
        guard let dir = opendir(path) else { return }
        defer { closedir(dir) }
        var entries: [(String, UInt8)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            entries.append((name, entry.pointee.d_type))
        }
        for (name, type) in entries.sorted(by: { $0.0 < $1.0 }) {
            let child = path.hasSuffix("/") ? path + name : path + "/" + name
            if type == UInt8(DT_DIR) {
                if !name.hasPrefix(".") { walk(child, explicit: false, into: &found) }
            } else if type == UInt8(DT_LNK) {
                // Linked files are read; linked directories are not followed (no loops).
                if let s = FileStatus.of(path: child), s.isRegular, configuration.include(name) { found.append((child, s)) }
            } else if configuration.include(name), let s = FileStatus.of(path: child), s.isRegular {
                found.append((child, s))
            } else if type == UInt8(DT_UNKNOWN), let s = FileStatus.of(path: child), s.isDirectory {
                walk(child, explicit: false, into: &found)
            }
        }
    }

    private func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private func lastNewlineEnd(_ file: PosixFile, size: Int64) -> Int64 {
        var end = size
        while end > 0 {
            let from = max(0, end - 64 * 1024)
            var chunk: [UInt8] = []
            _ = file.read(at: from, count: Int(end - from), into: &chunk)
            if let i = chunk.lastIndex(of: 0x0A) { return from + Int64(i) + 1 }
            end = from
        }
        return 0
    }

    // MARK: - Identity

    /// Notices truncation (size below what was read) and, on rescans, a head rewritten in place.
    private func refresh(_ file: TrackedFile, now: ContinuousClock.Instant) throws {
        if let status = file.file.status() {
            if file.isGzip {
                // An archive is read when complete; retry inflating only after it changed.
                let changed = status != file.lastStatus
                file.lastStatus = status
                if file.fingerprint == nil && (changed || !file.triedOnce) { file.triedOnce = true; try identify(file, now: now) }
                return
            }
            if status.size < file.readPosition {
                logger.notice("file truncated: new generation", metadata: [
                    "file": "\(file.path)", "offset": "\(file.readPosition)", "size": "\(status.size)"])
                file.resetForNewGeneration()
            }
            if status.size != file.lastStatus.size { file.lastGrowth = now }
            file.lastStatus = status
        }
        if file.fingerprint == nil { try identify(file, now: now) }
    }

    private func checkHead(_ file: TrackedFile) {
        guard !file.isGzip, let fp = file.fingerprint else { return }
        var head: [UInt8] = []
        _ = file.file.read(at: 0, count: fp.length, into: &head)
        if head.count < fp.length || FileFingerprint.hashing(head, count: fp.length) != fp {
            logger.notice("file rewritten in place: new generation", metadata: ["file": "\(file.path)"])
            file.resetForNewGeneration()
        }
    }

    private func identify(_ file: TrackedFile, now: ContinuousClock.Instant) throws {
        let size = file.lastStatus.size
        let fingerprint: FileFingerprint
        var gzipContent: [UInt8]?
        if file.isGzip {
            let data = file.file.readAll()
            do {
                gzipContent = try GzipInflate.all(data)
            } catch .incomplete {
                return   // still being copied in: try again when it changes
            } catch .corrupt(let why) {
                logger.error("unreadable gzip archive skipped", metadata: ["file": "\(file.path)", "error": "\(why)"])
                file.complete = true
                file.fingerprint = FileFingerprint.gzip(head: data, headBytes: configuration.headBytes)
                file.buffer = []
                return
            }
            fingerprint = FileFingerprint.gzip(head: Array(data.prefix(configuration.headBytes)), headBytes: configuration.headBytes)
            file.readsDocuments = gzipContent.flatMap { FileHead.opensDocument($0[...]) } ?? false
        } else {
            var head: [UInt8] = []
            _ = file.file.read(at: 0, count: configuration.headBytes, into: &head)
            let settled = now - file.lastGrowth >= configuration.documentTimeout
            guard let fp = FileFingerprint.plain(head: head, headBytes: configuration.headBytes, settled: settled),
                  let documents = opensDocument(file, head: head) else { return }
            fingerprint = fp
            file.readsDocuments = documents
        }
        // The same identity open at another live path: a copy (copytruncate's `.1`). Read one of them.
        if let owner = tracked.values.first(where: { $0 !== file && $0.fingerprint == fingerprint }) {
            if owner.missingSince == nil { return }
            tracked[owner.id] = nil   // the old path is gone: this path continues it
        }
        let key = fingerprint.key
        var generation = 0, offset: Int64 = 0, line = 0, countLines = false
        if let previous = file.previous, previous.fingerprint == fingerprint {
            generation = previous.generation + 1
        } else if let p = progress[key] {
            (generation, offset, line) = p
        } else if let saved = try checkpoints.load(key) {
            (generation, offset, countLines) = (saved.generation, saved.offset, true)
        } else if let initialEnd = file.initialEnd, initialEnd < 0 || !file.readsDocuments {
            // (A plain document file starts at 0 and skips the documents complete at startup as it reads.)
            offset = initialEnd < 0 ? Int64(gzipContent?.count ?? 0) : initialEnd
            countLines = true
        }
        let length = file.isGzip ? Int64(gzipContent?.count ?? 0) : size
        if offset > length {
            logger.notice("file shorter than its checkpoint: new generation", metadata: ["file": "\(file.path)", "offset": "\(offset)"])
            (generation, offset, line, countLines) = (generation + 1, 0, 0, false)
        }
        file.fingerprint = fingerprint
        file.previous = nil
        file.generation = generation
        file.offset = offset
        if let gzipContent {
            file.buffer = gzipContent
            file.start = Int(offset)
            file.complete = true
            if countLines { line = Lines.count(in: gzipContent[0..<Int(offset)]) }
        } else if countLines && offset > 0 {
            line = Lines.count(in: file.file.readAll().prefix(Int(offset)))
        }
        file.lineNumber = line
        progress[key] = (generation, offset, line)
    }

    /// Whether a plain file is read document by document, from its first non-blank line (read on
    /// past `head` when that line is longer); nil while the line is incomplete.
    private func opensDocument(_ file: TrackedFile, head: [UInt8]) -> Bool? {
        var bytes = head
        while true {
            if let opens = FileHead.opensDocument(bytes[...]) { return opens }
            if bytes.count > configuration.maxLineBytes { return false }   // read as lines: dropped as over-long
            if file.file.read(at: Int64(bytes.count), count: configuration.readChunkBytes, into: &bytes) == 0 { return nil }
        }
    }

    // MARK: - Reading

    private func read(_ file: TrackedFile, now: ContinuousClock.Instant, maxLines: Int, into out: inout [TailLine]) {
        guard let fingerprint = file.fingerprint else { return }
        if file.readsDocuments {
            readDocuments(file, fingerprint: fingerprint, now: now, maxLines: maxLines, into: &out)
            progress[fingerprint.key] = (file.generation, file.offset, file.lineNumber)
            return
        }
        while out.count < maxLines {
            if let nl = Lines.firstNewline(in: file.buffer, from: file.start) {
                let lineStart = file.offset
                let bytes = file.buffer[file.start..<nl]
                file.offset += Int64(nl + 1 - file.start)
                file.start = nl + 1
                file.lineNumber += 1
                if file.discarding { file.discarding = false; continue }
                let text = bytes.last == 0x0D ? bytes.dropLast() : bytes
                if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                out.append(TailLine(bytes: Array(text), fingerprint: fingerprint, generation: file.generation,
                                    offset: lineStart, offsetAfterLine: file.offset, path: file.path,
                                    lineNumber: file.lineNumber, isCompressed: file.isGzip))
                continue
            }
            if file.complete { break }
            let pendingBytes = file.buffer.count - file.start
            if pendingBytes > configuration.maxLineBytes {
                // Once per line: the rest of it is discarded chunk by chunk until its newline.
                if !file.discarding {
                    logger.warning("line longer than max_line_bytes dropped", metadata: [
                        "code": "\(InputCode.lineTooLong)", "file": "\(file.path)", "line": "\(file.lineNumber + 1)",
                        "offset": "\(file.offset)"])
                }
                file.offset += Int64(pendingBytes)
                file.buffer = []
                file.start = 0
                file.discarding = true
            }
            file.compact()
            if file.file.read(at: file.readPosition, count: configuration.readChunkBytes, into: &file.buffer) == 0 { break }
        }
        progress[fingerprint.key] = (file.generation, file.offset, file.lineNumber)
    }

    /// Closes removed files once drained, finished archives, and idle files (progress is kept).
    private func closeFinished(now: ContinuousClock.Instant) {
        for file in Array(tracked.values) {
            let drained = file.complete ? file.start >= file.buffer.count : file.readPosition >= file.lastStatus.size
            var close = false
            if let missing = file.missingSince, now - missing >= configuration.closeRemovedAfter, now - file.lastGrowth >= configuration.closeRemovedAfter {
                if file.buffer.count > file.start && !file.complete {
                    let what = file.readsDocuments ? "an unfinished document" : "an unterminated last line"
                    logger.warning("removed file closed with \(what)", metadata: [
                        "file": "\(file.path)", "offset": "\(file.offset)", "bytes": "\(file.buffer.count - file.start)"])
                }
                close = true
            } else if file.isGzip && file.complete && drained {
                close = true
            } else if drained && file.fingerprint != nil && !file.holdsUnfinishedDocument && now - file.lastGrowth >= configuration.closeIdleAfter {
                close = true
            }
            guard close else { continue }
            tracked[file.id] = nil
            if file.missingSince == nil { dormant[file.id] = (file.lastStatus.size, file.lastStatus.modified) }
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (s, attos) = components
        return s * 1000 + attos / 1_000_000_000_000_000
    }
}

private func sleep(_ d: Duration) {
    var ts = timespec(tv_sec: Int(d.components.seconds), tv_nsec: Int(d.components.attoseconds / 1_000_000_000))
    nanosleep(&ts, nil)
}
