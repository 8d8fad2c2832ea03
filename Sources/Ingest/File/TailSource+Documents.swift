import EventDecoding

// Files whose first line opens a multi-line JSON document (a pretty-printed `{"records": [ … ]}`
// envelope, array or object) cannot be read line by line: no line is a record. They are read one
// top-level JSON value at a time instead, framed by the structural scan replay uses
// (`DocumentFraming`), and each value is handed out whole — a `.document` the caller decodes as
// replay decodes that part of the file (`JSONRecords.decode(_:normalizer:into:)`).
//
// - Until a document is complete it waits, as a partial line does. One that has not grown for
//   `documentTimeout` is handed out as it is; its decoder reports where it ends too early.
// - What follows a document is read the same way: a second document appended later is read when it
//   is complete, one-line records too. Whitespace and commas between documents are separators;
//   other bytes there are one `.stray` span up to the next line that starts with `{` or `[`,
//   reported once.
// - Offsets and line numbers are the file's: a checkpoint after a document resumes after it.
extension TailSource {
    func readDocuments(_ file: TrackedFile, fingerprint: FileFingerprint, now: ContinuousClock.Instant,
                       maxLines: Int, into out: inout [TailLine]) {
        // A complete gzip archive (inflated whole into the buffer) gets no more bytes either.
        let stalled = file.complete || now - file.lastGrowth >= configuration.documentTimeout
        while out.count < maxLines {
            if file.framing == nil {
                skipSeparators(file)
                guard file.start < file.buffer.count else {
                    if readMore(file) { continue }
                    break
                }
                let first = file.buffer[file.start]
                if first == 0x7B || first == 0x5B {
                    file.framing = DocumentFraming()
                    file.scanned = 0
                } else {
                    let overLong = file.buffer.count - file.start > configuration.maxLineBytes
                    if let end = strayEnd(file) ?? (overLong ? file.buffer.count : nil) {
                        handOut(file, through: end, as: .stray, fingerprint: fingerprint, into: &out)
                    } else if readMore(file) {
                        continue
                    } else if stalled {
                        handOut(file, through: file.buffer.count, as: .stray, fingerprint: fingerprint, into: &out)
                    } else {
                        break
                    }
                    continue
                }
            }
            var framing = file.framing!
            var scanned = file.scanned
            let end = file.buffer.withUnsafeBufferPointer { buf in
                framing.end(in: UnsafeBufferPointer(rebasing: buf[file.start...]), from: &scanned)
            }
            file.framing = framing
            file.scanned = scanned
            if let end {
                handOut(file, through: file.start + end, as: .document, fingerprint: fingerprint, into: &out)
                continue
            }
            if file.discardingDocument || file.scanned > configuration.maxDocumentBytes { dropScanned(file) }
            if readMore(file) { continue }
            if stalled {
                handOut(file, through: file.buffer.count, as: .document, fingerprint: fingerprint, into: &out)
                continue
            }
            break
        }
    }

    /// Passes whitespace, commas and (at the start of the file) a byte order mark.
    private func skipSeparators(_ file: TrackedFile) {
        if file.offset == 0, file.buffer.count - file.start >= 3, file.buffer[file.start] == 0xEF,
           file.buffer[file.start + 1] == 0xBB, file.buffer[file.start + 2] == 0xBF {
            file.start += 3
            file.offset += 3
        }
        while file.start < file.buffer.count {
            let b = file.buffer[file.start]
            if b == 0x0A {
                file.lineNumber += 1
            } else if b != 0x20 && b != 0x09 && b != 0x0D && b != 0x2C {
                return
            }
            file.start += 1
            file.offset += 1
        }
    }

    /// Where bytes that start no document end: after the last complete line before one whose first
    /// byte (after blanks) is `{` or `[`. Nil while not even their first line is complete.
    private func strayEnd(_ file: TrackedFile) -> Int? {
        var end = file.start
        while let nl = Lines.firstNewline(in: file.buffer, from: end) {
            end = nl + 1
            var k = end
            while k < file.buffer.count, file.buffer[k] == 0x20 || file.buffer[k] == 0x09 || file.buffer[k] == 0x0D { k += 1 }
            if k < file.buffer.count, file.buffer[k] == 0x7B || file.buffer[k] == 0x5B { break }
        }
        return end > file.start ? end : nil
    }

    /// Hands out `buffer[start..<end]` and moves past it; a document over the size limit (being
    /// dropped) and what was complete when `--from-end` started are passed over instead.
    private func handOut(_ file: TrackedFile, through end: Int, as kind: TailLine.Kind, fingerprint: FileFingerprint,
                         into out: inout [TailLine]) {
        let span = file.buffer[file.start..<end]
        let offset = file.offset
        let line = file.lineNumber + 1
        file.offset += Int64(span.count)
        file.lineNumber += Lines.count(in: span)
        file.start = end
        file.framing = nil
        file.scanned = 0
        if file.discardingDocument {
            file.discardingDocument = false
            return
        }
        if let initialEnd = file.initialEnd, file.offset <= initialEnd { return }
        var bytes = Array(span)
        // A stray span ends with its newline; a document cut short keeps its bytes as they are, so
        // its decoder locates the end where replay would.
        while kind == .stray, let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes.removeLast() }
        out.append(TailLine(bytes: bytes, fingerprint: fingerprint, generation: file.generation, offset: offset,
                            offsetAfterLine: file.offset, path: file.path, lineNumber: line, isCompressed: file.isGzip, kind: kind))
    }

    /// A document over `maxDocumentBytes`: warns once, then drops what was scanned as it goes, until
    /// its end.
    private func dropScanned(_ file: TrackedFile) {
        if !file.discardingDocument {
            logger.warning("document longer than max_document_bytes dropped", metadata: [
                "file": "\(file.path)", "line": "\(file.lineNumber + 1)", "offset": "\(file.offset)"])
            file.discardingDocument = true
        }
        let end = file.start + file.scanned
        file.lineNumber += Lines.count(in: file.buffer[file.start..<end])
        file.offset += Int64(file.scanned)
        file.start = end
        file.scanned = 0
    }

    /// Reads the next chunk after what is buffered; false at the end of the file (or archive).
    private func readMore(_ file: TrackedFile) -> Bool {
        guard !file.complete else { return false }
        file.compact()
        return file.file.read(at: file.readPosition, count: configuration.readChunkBytes, into: &file.buffer) > 0
    }
}
