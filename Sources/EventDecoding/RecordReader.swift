// Files, standard input and in-memory payloads → records → normalised events.
//
// The format is sniffed from the content (never the name): gzip is unwrapped first, then the text
// is JSON (lines, `{"records":[…]}` envelopes, arrays, single or pretty-printed documents, REST
// list and REST-spec example bodies) or a Log Analytics CSV export. Memory stays bounded by
// `chunkSize + maxLineBytes` whatever the input size: no file is loaded whole, and a pretty-printed
// envelope or array is cut into its elements while streaming.
//
// Every record that cannot be read becomes a located `Diagnostic`; reading goes on after it.
// A record's identity is a hash of its own bytes (the line, the element's span, the CSV row).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventModel
import FastJSON

public struct ReaderOptions: Sendable {
    /// Longest line, array element or document accepted; longer ones are skipped and reported.
    public var maxLineBytes: Int
    /// Bytes read (or inflated) per refill.
    public var chunkSize: Int
    /// Events whose time is before `from` or at/after `to` are dropped (counted as filtered).
    /// Events without a time are kept.
    public var from: EventTime?
    public var to: EventTime?
    public var normalizer: Normalizer

    public static let defaultMaxLineBytes = 16 << 20

    /// 256 KiB: the window (about two chunks) stays in the core's L2 cache, so the parser reads
    /// what read(2) just wrote while it is still there (4 MiB chunks were parsed from L3/memory).
    public static let defaultChunkSize = 256 << 10

    public init(maxLineBytes: Int = ReaderOptions.defaultMaxLineBytes, chunkSize: Int = ReaderOptions.defaultChunkSize,
                from: EventTime? = nil, to: EventTime? = nil, normalizer: Normalizer = Normalizer()) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.chunkSize = max(1, chunkSize)
        self.from = from
        self.to = to
        self.normalizer = normalizer
    }
}

/// Counters for one reader, across every input it read.
public struct ReadStats: Sendable, Equatable {
    public var files = 0
    /// Bytes taken from files, stdin or memory (compressed bytes for gzip).
    public var bytesRead: Int64 = 0
    /// Bytes after decompression: what the JSON/CSV decoder saw.
    public var bytesDecoded: Int64 = 0
    /// Records decoded (valid JSON or CSV rows), whether or not they normalised.
    public var records = 0
    /// Events handed to the consumer.
    public var events = 0
    /// Events dropped by `from`/`to`.
    public var filtered = 0
    /// Diagnostics by code.
    public var errors: [String: Int] = [:]

    public init() {}

    public var errorCount: Int { errors.values.reduce(0, +) }

    public mutating func add(_ other: ReadStats) {
        files += other.files
        bytesRead += other.bytesRead
        bytesDecoded += other.bytesDecoded
        records += other.records
        events += other.events
        filtered += other.filtered
        for (code, n) in other.errors { errors[code, default: 0] += n }
    }

    /// `3 files, 141 records, 140 events, 0 filtered, 2 errors (input.malformed-json 1, input.unknown-shape 1)`
    public var summary: String {
        var s = "\(files) file\(files == 1 ? "" : "s"), \(records) records, \(events) events, \(filtered) filtered, \(errorCount) error\(errorCount == 1 ? "" : "s")"
        if !errors.isEmpty {
            s += " (" + errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        return s
    }
}

/// Reads inputs and hands every record to a consumer as a normalised `Event`, or as a
/// `Diagnostic` when it cannot. Errors thrown are the consumer's own; input problems never throw.
public struct RecordReader {
    public let options: ReaderOptions
    public private(set) var stats = ReadStats()

    public init(options: ReaderOptions = ReaderOptions()) {
        self.options = options
    }

    /// Reads one file (or standard input for `InputFile.standardInput`).
    public mutating func read<C: EventConsumer>(_ file: InputFile, into consumer: inout C) throws {
        let raw: ByteSource
        if file.isStandardInput {
            raw = FileDescriptorSource(fd: 0, closeOnDeinit: false)
        } else {
            let fd = open(file.path, O_RDONLY)
            if fd < 0 {
                let reason = String(cString: strerror(errno))
                var session = DecodeSession(name: file.path, source: MemorySource([]), options: options, consumer: consumer)
                session.report(InputCode.unreadable, "cannot open: \(reason)", line: nil, offset: 0)
                consumer = session.consumer
                stats.add(session.stats)
                return
            }
            raw = FileDescriptorSource(fd: fd, closeOnDeinit: true)
        }
        try run(name: file.path, source: raw, consumer: &consumer)
    }

    /// Reads standard input to its end.
    public mutating func readStandardInput<C: EventConsumer>(into consumer: inout C) throws {
        try read(InputFile.standardInput, into: &consumer)
    }

    /// Reads bytes already in memory as if they were a file called `name`.
    public mutating func read<C: EventConsumer>(bytes: [UInt8], name: String, into consumer: inout C) throws {
        try run(name: name, source: MemorySource(bytes), consumer: &consumer)
    }

    /// Reads bytes cut out of the file `name` at `line` (1-based) and byte `offset` — a document the
    /// tailer framed — as that part of the file: records and diagnostics get the positions a replay
    /// of the whole file gives them.
    public mutating func read<C: EventConsumer>(bytes: [UInt8], name: String, line: Int, offset: Int64, into consumer: inout C) throws {
        try run(name: name, source: MemorySource(bytes), line: line, offset: offset, consumer: &consumer)
    }

    /// Decodes one message body (an Event Hubs / Kafka payload: usually `{"records":[…]}`, also
    /// any other supported shape). Every event carries `position`, with `recordIndex` set.
    public mutating func decode<C: EventConsumer>(message: UnsafeRawBufferPointer, position: SourcePosition, into consumer: inout C) throws {
        let bytes = [UInt8](message)
        var opts = options
        opts.chunkSize = max(1, bytes.count)
        var session = DecodeSession(name: position.source, source: MemorySource(bytes), options: opts, consumer: consumer)
        session.basePosition = position
        defer {
            consumer = session.consumer
            stats.add(session.stats)
        }
        try session.run()
    }

    private mutating func run<C: EventConsumer>(name: String, source: ByteSource, line: Int = 1, offset: Int64 = 0,
                                                consumer: inout C) throws {
        var session = DecodeSession(name: name, source: source, options: options, consumer: consumer, startOffset: offset)
        session.line = line
        defer {
            consumer = session.consumer
            stats.add(session.stats)
        }
        try session.run()
    }
}

/// One input being decoded: the buffer, the position bookkeeping and the consumer.
struct DecodeSession<C: EventConsumer> {
    let name: String
    let buffer: StreamBuffer
    let options: ReaderOptions
    var consumer: C
    var stats = ReadStats()
    /// 1-based line of the byte at the scan position.
    var line = 1
    /// A one-line record was read: from now on an unfinished line is a broken record, not the
    /// start of a pretty-printed document.
    var sawLineRecord = false
    /// Set for in-memory messages: every position is this one, with a record index.
    var basePosition: SourcePosition?

    /// `startOffset`: the stream offset of the source's first byte (bytes cut out of a file).
    init(name: String, source: ByteSource, options: ReaderOptions, consumer: C, startOffset: Int64 = 0) {
        self.name = name
        self.options = options
        self.consumer = consumer
        buffer = StreamBuffer(source: ByteSources.decoded(source), chunkSize: options.chunkSize,
                              maxCapacity: options.maxLineBytes + options.chunkSize, startOffset: startOffset)
    }

    enum Format { case json, csv, binary, unknown, empty }

    mutating func run() throws {
        stats.files = 1
        defer {
            stats.bytesRead = buffer.source.rawBytesRead
            stats.bytesDecoded = buffer.offset(of: buffer.end) - buffer.startOffset
        }
        var i = 0
        i = fill(atLeast: 4096, from: i)
        if buffer.end - i >= 3, buffer.base[i] == 0xEF, buffer.base[i + 1] == 0xBB, buffer.base[i + 2] == 0xBF { i += 3 }
        switch sniff(from: i) {
        case .json: try readJSON(from: i)
        case .csv: try readCSV(from: i)
        case .binary: report(InputCode.binary, "binary data, not JSON, CSV or gzip: file skipped", line: 1, offset: buffer.offset(of: i))
        case .unknown: report(InputCode.unknownFormat, "not JSON, JSON lines, CSV or gzip: file skipped", line: 1, offset: buffer.offset(of: i))
        case .empty: break
        }
        if let failure = buffer.source.failure {
            report(failure.code, failure.message, line: line, offset: buffer.offset(of: buffer.end))
        }
    }

    /// Refills until `atLeast` bytes follow `i` or the stream ends; returns `i` adjusted.
    private mutating func fill(atLeast n: Int, from i: Int) -> Int {
        var i = i
        while buffer.end - i < n {
            let keep = i
            let more = buffer.refill(keepingFrom: keep)
            i -= keep
            if !more { break }
        }
        return i
    }

    private func sniff(from start: Int) -> Format {
        let p = buffer.base
        let end = buffer.end
        var k = start
        while k < end, isSpace(p[k]) { k += 1 }
        if k == end { return buffer.atEOF ? .empty : .json }
        if p[k] == 0x7B || p[k] == 0x5B { return .json }
        let firstLineEnd = findByte(0x0A, from: k, to: end) ?? end
        let sample = min(end, k + 4096)
        if !looksBinary(p + k, firstLineEnd - k), !hasControlBytes(p + k, firstLineEnd - k),
           findByte(0x2C, from: k, to: firstLineEnd) != nil {
            return .csv
        }
        // Garbage first, JSON after: read as JSON lines so the garbage is reported line by line.
        var lineStart = firstLineEnd + 1
        while lineStart < sample {
            var j = lineStart
            while j < sample, p[j] == 0x20 || p[j] == 0x09 { j += 1 }
            if j < sample, p[j] == 0x7B || p[j] == 0x5B { return .json }
            lineStart = (findByte(0x0A, from: lineStart, to: sample) ?? sample) + 1
        }
        return looksBinary(p + k, sample - k) ? .binary : .unknown
    }

    // MARK: JSON

    private mutating func readJSON(from start: Int) throws {
        var i = start
        while true {
            // Whitespace between records.
            while true {
                if i == buffer.end {
                    let keep = i
                    let more = buffer.refill(keepingFrom: keep)
                    i -= keep
                    if !more { return }
                    continue
                }
                let b = buffer.base[i]
                if b == 0x0A { line += 1; i += 1 } else if b == 0x20 || b == 0x0D || b == 0x09 { i += 1 } else { break }
            }
            var lineStart = i
            var scanFrom = i
            var lineEnd: Int
            var sawNewline = true
            while true {
                if let nl = findByte(0x0A, from: scanFrom, to: buffer.end) { lineEnd = nl; break }
                if buffer.end - lineStart >= options.maxLineBytes {
                    reportTooLong("line", line: line, offset: buffer.offset(of: lineStart))
                    i = skipRestOfLine(from: buffer.end)
                    lineEnd = -1
                    break
                }
                scanFrom = buffer.end
                let keep = lineStart
                let more = buffer.refill(keepingFrom: keep)
                lineStart -= keep
                scanFrom -= keep
                if !more { lineEnd = buffer.end; sawNewline = false; break }
            }
            if lineEnd < 0 { continue }
            if lineEnd - lineStart > options.maxLineBytes {
                reportTooLong("line", line: line, offset: buffer.offset(of: lineStart))
                line += sawNewline ? 1 : 0
                i = sawNewline ? lineEnd + 1 : lineEnd
                continue
            }

            if !sawLineRecord, DocumentFraming.opensDocument(UnsafeBufferPointer(start: buffer.base + lineStart, count: lineEnd - lineStart)) {
                i = try readDocument(from: lineStart)
                continue
            }
            if try handleDocument(lineStart, lineEnd, line: line, rawControlLine: nil) { sawLineRecord = true }
            if sawNewline {
                line += 1
                i = lineEnd + 1
            } else {
                i = lineEnd
            }
        }
    }

    /// Discards bytes up to and including the next newline without buffering them; returns the
    /// index after it (or the end of the stream).
    private mutating func skipRestOfLine(from start: Int) -> Int {
        var i = start
        while true {
            if let nl = findByte(0x0A, from: i, to: buffer.end) {
                line += 1
                return nl + 1
            }
            let keep = buffer.end
            let more = buffer.refill(keepingFrom: keep)
            i = 0
            if !more { return buffer.end }
        }
    }

    /// Streams a document that spans lines, starting at `start`: envelopes and arrays element by
    /// element, anything else whole (within the size limit). Returns the index after it.
    private mutating func readDocument(from start: Int) throws -> Int {
        var scanner = StructureScanner()
        var i = start
        let docOffset = buffer.offset(of: start)
        let docLine = line
        var elementOffset: Int64 = -1
        var elementLine = 0
        var index = 0
        var skippingElement = false
        var skippingDocument = false
        while true {
            if let mark = scanner.next(buffer.base, &i, buffer.end) {
                switch mark {
                case .elementStart(let s):
                    elementOffset = buffer.offset(of: s)
                    elementLine = docLine + scanner.newlines
                case .elementEnd(let e):
                    if skippingElement {
                        skippingElement = false
                    } else if Int64(e) - (elementOffset - buffer.baseOffset) > Int64(options.maxLineBytes) {
                        reportTooLong("element \(index) of the document at line \(docLine)", line: elementLine, offset: elementOffset)
                    } else {
                        try emitElement(buffer.index(of: elementOffset), e, line: elementLine, index: index)
                    }
                    index += 1
                    elementOffset = -1
                case .documentEnd(let e):
                    line = docLine + scanner.newlines
                    if !scanner.splits, !skippingDocument, buffer.offset(of: e) - docOffset > Int64(options.maxLineBytes) {
                        reportTooLong("document", line: docLine, offset: docOffset)
                    } else if !scanner.splits, !skippingDocument {
                        try handleDocument(buffer.index(of: docOffset), e, line: docLine,
                                           rawControlLine: scanner.firstRawControl.map { docLine + $0 })
                    }
                    return e
                }
                continue
            }
            var keep = i
            if elementOffset >= 0, !skippingElement {
                keep = buffer.index(of: elementOffset)
            } else if !scanner.splits, !skippingDocument {
                keep = buffer.index(of: docOffset)
            }
            if keep < i, buffer.end - keep >= options.maxLineBytes {
                if elementOffset >= 0, !skippingElement {
                    reportTooLong("element \(index) of the document at line \(docLine)", line: elementLine, offset: elementOffset)
                    skippingElement = true
                } else {
                    reportTooLong("document", line: docLine, offset: docOffset)
                    skippingDocument = true
                }
                keep = i
            }
            let more = buffer.refill(keepingFrom: keep)
            i -= keep
            if !more {
                line = docLine + scanner.newlines
                report(InputCode.malformedJSON, "document starting at line \(docLine) ends before it is complete (end of input)",
                       line: line, offset: buffer.offset(of: buffer.end))
                return i
            }
        }
    }

    /// A complete document in the window (a line, a finished multi-line document, a message).
    /// Returns true when it was valid JSON.
    @discardableResult
    mutating func handleDocument(_ start: Int, _ end: Int, line: Int, rawControlLine: Int?) throws -> Bool {
        let p = buffer.base
        var k = start
        while k < end, isSpace(p[k]) { k += 1 }
        guard k < end else { return false }
        if p[k] == 0x5B || startsWithEnvelopeKey(k, end) {
            return try splitInMemory(k, end, line: line)
        }
        let doc: JSONDocument
        do {
            doc = try JSONDocument.parse(UnsafeRawBufferPointer(start: p + start, count: end - start), padded: true)
        } catch {
            reportParseFailure(error, start, end, line: line, rawControlLine: rawControlLine)
            return false
        }
        let root = doc.root
        switch Self.wrapper(of: doc) {
        case .list:
            return try splitInMemory(k, end, line: line)
        case .restExample:
            if let responses = root["responses"], responses.type == .object {
                let members = responses.members
                if let body = members.first(where: { $0.key.hasPrefix("2") && $0.value["body"] != nil })?.value["body"] {
                    try emitUnwrapped(body, line: line, offset: buffer.offset(of: start))
                    return true
                }
                if !members.contains(where: { $0.value["body"] != nil }) {
                    consumer.diagnostic(Diagnostic(.note, code: InputCode.noRecord,
                        "a REST API example whose responses carry no body (\(members.map(\.key).joined(separator: ", "))): it holds no record",
                        at: problemLocation(line: line, offset: buffer.offset(of: start))))
                    return true
                }
            }
        case .none:
            break
        }
        try emit(doc, id: fastHash64(UnsafeRawBufferPointer(start: p + start, count: end - start)),
                 position: position(line: line, offset: buffer.offset(of: start), index: nil))
        return true
    }

    enum Wrapper { case none, list, restExample }

    /// What wraps the records in a parsed root object, in one pass over its keys and without
    /// allocating (this runs for every line): a `records`/`value` array, or a REST-spec example
    /// (`parameters` + `responses`).
    static func wrapper(of doc: JSONDocument) -> Wrapper {
        doc.nodes.withUnsafeBufferPointer { nodes in
            doc.arena.withUnsafeBufferPointer { arena in
                guard nodes[0].type == JSONType.object.rawValue else { return .none }
                func key(_ n: JSONNode, is word: StaticString) -> Bool {
                    guard Int(n.key_len) == word.utf8CodeUnitCount else { return false }
                    let k = Int(n.key_off)
                    for j in 0..<Int(n.key_len) where arena[k + j] | 0x20 != word.utf8Start[j] { return false }
                    return true
                }
                var parameters = false, responses = false
                var c = 1
                let end = Int(nodes[0].end)
                while c < end {
                    let n = nodes[c]
                    switch n.key_len {
                    case 7 where n.type == JSONType.array.rawValue && key(n, is: "records"): return .list
                    case 5 where n.type == JSONType.array.rawValue && key(n, is: "value"): return .list
                    case 10 where key(n, is: "parameters"): parameters = true
                    case 9 where n.type == JSONType.object.rawValue && key(n, is: "responses"): responses = true
                    default: break
                    }
                    c = Int(n.end)
                }
                return parameters && responses ? .restExample : .none
            }
        }
    }

    /// `{"records": [` or `{"value": [` at the very start: cut the elements without parsing the
    /// envelope as a whole.
    private func startsWithEnvelopeKey(_ start: Int, _ end: Int) -> Bool {
        let p = buffer.base
        var k = start + 1
        while k < end, isSpace(p[k]) { k += 1 }
        func matches(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard k + n + 2 <= end, p[k] == 0x22, p[k + n + 1] == 0x22 else { return false }
            for j in 0..<n where p[k + 1 + j] | 0x20 != word.utf8Start[j] { return false }
            return true
        }
        let n: Int
        if matches("records") { n = 7 } else if matches("value") { n = 5 } else { return false }
        k += n + 2
        while k < end, isSpace(p[k]) { k += 1 }
        guard k < end, p[k] == 0x3A else { return false }
        k += 1
        while k < end, isSpace(p[k]) { k += 1 }
        return k < end && p[k] == 0x5B
    }

    /// Cuts the elements of a complete array or envelope in the window and emits each.
    private mutating func splitInMemory(_ start: Int, _ end: Int, line: Int) throws -> Bool {
        var scanner = StructureScanner()
        var i = start
        var elementStart = -1
        var elementLine = line
        var index = 0
        while let mark = scanner.next(buffer.base, &i, end) {
            switch mark {
            case .elementStart(let s):
                elementStart = s
                elementLine = line + scanner.newlines
            case .elementEnd(let e):
                try emitElement(elementStart, e, line: elementLine, index: index)
                index += 1
                elementStart = -1
            case .documentEnd(let e):
                var k = e
                while k < end, isSpace(buffer.base[k]) { k += 1 }
                if k < end {
                    report(InputCode.malformedJSON, "unexpected bytes after the document that starts on this line",
                           line: line + scanner.newlines, offset: buffer.offset(of: k))
                }
                return true
            }
        }
        report(InputCode.malformedJSON, "document ends before it is complete (after \(index) element\(index == 1 ? "" : "s"))",
               line: line + scanner.newlines, offset: buffer.offset(of: end))
        return index > 0
    }

    private mutating func emitElement(_ start: Int, _ end: Int, line: Int, index: Int) throws {
        let span = UnsafeRawBufferPointer(start: buffer.base + start, count: end - start)
        let doc: JSONDocument
        do {
            doc = try JSONDocument.parse(span, padded: true)
        } catch {
            reportParseFailure(error, start, end, line: line, rawControlLine: nil, what: "record \(index)")
            return
        }
        try emit(doc, id: fastHash64(span), position: position(line: line, offset: buffer.offset(of: start), index: index))
    }

    /// A REST-spec example's response body: one resource, or a list in `value`.
    private mutating func emitUnwrapped(_ body: JSONValue, line: Int, offset: Int64) throws {
        if body.type == .object, let list = body["value"], list.type == .array {
            for (n, element) in list.children.enumerated() { try emitValue(element, line: line, offset: offset, index: n) }
        } else {
            try emitValue(body, line: line, offset: offset, index: nil)
        }
    }

    /// A record found inside a parsed document: its identity is the hash of its compact text.
    private mutating func emitValue(_ value: JSONValue, line: Int, offset: Int64, index: Int?) throws {
        var w = JSONWriter()
        w.write(value)
        let bytes = w.bytes
        let doc: JSONDocument
        do { doc = try JSONDocument.parse(bytes) } catch {
            report(InputCode.malformedJSON, "embedded record could not be re-read: \(error.message)", line: line, offset: offset)
            return
        }
        let id = bytes.withUnsafeBytes { fastHash64($0) }
        try emit(doc, id: id, position: position(line: line, offset: offset, index: index))
    }

    private mutating func reportParseFailure(_ error: JSONError, _ start: Int, _ end: Int, line: Int, rawControlLine: Int?, what: String = "record") {
        let p = buffer.base + start
        let n = end - start
        let offset = buffer.offset(of: start)
        if looksBinary(p, n) {
            report(InputCode.binary, "binary data where a JSON \(what) was expected (\(n) bytes)", line: line, offset: offset)
        } else if error.kind == .invalidUTF8 {
            report(InputCode.invalidUTF8, "\(what) is not valid UTF-8 (\(n) bytes)", line: line, offset: offset)
        } else if let rawControlLine, rawControlLine != line {
            report(InputCode.malformedJSON, "raw line break or control character inside a string (the document starts at line \(line)): \(error.message)",
                   line: rawControlLine, offset: offset)
        } else {
            report(InputCode.malformedJSON, "malformed JSON \(what) (\(n) bytes): \(error.message)", line: line, offset: offset)
        }
    }

    // MARK: Events and diagnostics

    func position(line: Int?, offset: Int64?, index: Int?) -> SourcePosition {
        if var p = basePosition {
            p.recordIndex = index
            return p
        }
        return SourcePosition(source: name, line: line, offset: offset, recordIndex: index)
    }

    mutating func emit(_ doc: JSONDocument, id: UInt64, position: SourcePosition) throws {
        stats.records += 1
        let event: Event
        do {
            event = try options.normalizer.normalize(doc, position: position, id: id)
        } catch {
            var d = error
            if d.location.file.isEmpty { d.location = location(position) }
            report(d)
            return
        }
        if let t = event.time {
            if let from = options.from, t < from { stats.filtered += 1; return }
            if let to = options.to, t >= to { stats.filtered += 1; return }
        }
        stats.events += 1
        try consumer.event(event)
    }

    private func location(_ p: SourcePosition) -> SourceLocation {
        if basePosition != nil, p.partition != nil || p.line == nil { return SourceLocation(file: p.description) }
        return SourceLocation(file: p.source, line: p.line, offset: p.offset)
    }

    /// Where a problem at `line`/`offset` of the bytes being read is. A tailed line (a base
    /// position with a file line) is located in its file, as a replay of the file locates it; a
    /// message (Event Hubs) by its partition and offset, with the offset inside the message.
    func problemLocation(line: Int?, offset: Int64?) -> SourceLocation {
        guard let base = basePosition else { return SourceLocation(file: name, line: line, offset: offset) }
        if base.partition == nil, let baseLine = base.line {
            return SourceLocation(file: base.source, line: baseLine + max(0, (line ?? 1) - 1),
                                  offset: base.offset.map { $0 + (offset ?? 0) } ?? offset)
        }
        return SourceLocation(file: base.description, offset: offset)
    }

    mutating func report(_ code: String, _ message: String, line: Int?, offset: Int64?) {
        report(Diagnostic(.error, code: code, message, at: problemLocation(line: line, offset: offset)))
    }

    mutating func report(_ d: Diagnostic) {
        stats.errors[d.code, default: 0] += 1
        consumer.diagnostic(d)
    }

    mutating func reportTooLong(_ what: String, line: Int, offset: Int64) {
        report(InputCode.lineTooLong, "\(what) longer than \(options.maxLineBytes) bytes: skipped (limit: --max-line-bytes)",
               line: line, offset: offset)
    }

    // MARK: Bytes

    func findByte(_ byte: UInt8, from start: Int, to end: Int) -> Int? {
        guard start < end else { return nil }
        guard let hit = memchr(buffer.base + start, Int32(byte), end - start) else { return nil }
        return buffer.base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
}

@inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

/// NUL bytes, or more than one byte in ten a control character: not text.
func looksBinary(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    let n = min(count, 4096)
    guard n > 0 else { return false }
    var control = 0
    for k in 0..<n {
        let b = p[k]
        if b == 0 { return true }
        if b < 0x20, b != 0x09, b != 0x0A, b != 0x0D, b != 0x0C { control += 1 }
        if b == 0x7F { control += 1 }
    }
    return control * 10 > n
}

func hasControlBytes(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for k in 0..<min(count, 4096) where p[k] < 0x20 && p[k] != 0x09 && p[k] != 0x0D { return true }
    return false
}
