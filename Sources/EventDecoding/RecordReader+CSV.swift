// Log Analytics CSV exports (AzureActivity, SigninLogs, AuditLogs, SecurityAlert): RFC 4180 with
// quoted multi-line cells, doubled quotes and CRLF. The header row names the columns; every later
// row becomes one JSON object (column → cell text, empty cells left out). Cells that hold JSON stay
// strings: path lookups decode them lazily, only when a rule asks. Unnamed columns (pandas' index)
// are dropped.
import EventModel
import FastJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DecodeSession {
    mutating func readCSV(from start: Int) throws {
        var i = start
        var header: [String?]?
        while true {
            let rowLine = line
            let rowOffset = buffer.offset(of: i)
            var j = i
            var inQuotes = false
            var innerNewlines = 0
            var skipping = false
            var rowEnd = -1
            var atEOF = false
            while rowEnd < 0 {
                if j == buffer.end {
                    var keep = skipping ? j : i
                    if !skipping, buffer.end - i >= options.maxLineBytes {
                        reportTooLong("CSV row", line: rowLine, offset: rowOffset)
                        skipping = true
                        keep = j
                    }
                    let more = buffer.refill(keepingFrom: keep)
                    i -= keep
                    j -= keep
                    if !more { rowEnd = j; atEOF = true }
                    continue
                }
                let b = buffer.base[j]
                if b == 0x22 {
                    inQuotes.toggle()
                } else if b == 0x0A {
                    if inQuotes { innerNewlines += 1 } else { rowEnd = j; break }
                }
                j += 1
            }
            line += innerNewlines + (atEOF ? 0 : 1)
            if !skipping, rowEnd - i > options.maxLineBytes {
                reportTooLong("CSV row", line: rowLine, offset: rowOffset)
            } else if !skipping {
                if atEOF, inQuotes {
                    report(InputCode.csv, "quoted cell opened in the row at line \(rowLine) is never closed (end of input)",
                           line: rowLine, offset: rowOffset)
                } else {
                    try handleRow(i, rowEnd, line: rowLine, header: &header)
                }
            }
            if atEOF { return }
            i = rowEnd + 1
        }
    }

    private mutating func handleRow(_ start: Int, _ end: Int, line: Int, header: inout [String?]?) throws {
        var e = end
        while e > start, buffer.base[e - 1] == 0x0D { e -= 1 }
        var k = start
        while k < e, isSpace(buffer.base[k]) { k += 1 }
        if k == e { return }   // blank line
        guard let cells = parseCells(start, e) else {
            report(InputCode.invalidUTF8, "CSV row is not valid UTF-8", line: line, offset: buffer.offset(of: start))
            return
        }
        guard let names = header else {
            header = cells.map { $0.isEmpty ? nil : $0 }
            return
        }
        guard cells.count == names.count else {
            report(InputCode.csv, "row has \(cells.count) cells but the header has \(names.count) columns: skipped",
                   line: line, offset: buffer.offset(of: start))
            return
        }
        var builder = JSONBuilder()
        builder.beginObject()
        for (name, cell) in zip(names, cells) where !cell.isEmpty {
            if let name { builder.string(cell, key: name) }
        }
        builder.end()
        let id = fastHash64(UnsafeRawBufferPointer(start: buffer.base + start, count: e - start))
        try emit(builder.build(), id: id, position: position(line: line, offset: buffer.offset(of: start), index: nil))
    }

    /// Splits one row into cell texts; nil when a cell is not valid UTF-8.
    private func parseCells(_ start: Int, _ end: Int) -> [String]? {
        let p = buffer.base
        var cells: [String] = []
        var k = start
        while true {
            var text: String?
            if k < end, p[k] == 0x22 {
                var bytes: [UInt8] = []
                k += 1
                while k < end {
                    if p[k] == 0x22 {
                        if k + 1 < end, p[k + 1] == 0x22 { bytes.append(0x22); k += 2; continue }
                        k += 1
                        break
                    }
                    bytes.append(p[k])
                    k += 1
                }
                // Lenient: text between a closing quote and the next comma is kept.
                while k < end, p[k] != 0x2C { bytes.append(p[k]); k += 1 }
                text = String(validating: bytes, as: UTF8.self)
            } else {
                var stop = end
                if k < end, let hit = memchr(p + k, 0x2C, end - k) { stop = p.distance(to: hit.assumingMemoryBound(to: UInt8.self)) }
                text = String(validating: UnsafeBufferPointer(start: p + k, count: stop - k), as: UTF8.self)
                k = stop
            }
            guard let text else { return nil }
            cells.append(text)
            if k < end, p[k] == 0x2C {
                k += 1
                if k == end { cells.append(""); break }
                continue
            }
            break
        }
        return cells
    }
}
