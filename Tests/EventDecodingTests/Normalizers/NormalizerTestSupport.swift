import EventDecoding
import EventModel
import FastJSON
import Foundation
import TestSupport

/// Helpers for the normaliser tests: parse a JSON text and normalise it, read corpus files as
/// records (JSON lines, `{"records":[…]}`, the REST-spec example envelope, CSV rows).
enum NormalizerTestSupport {
    static let normalizer = Normalizer()

    static func event(_ json: String, source: String = "fixture", line: Int = 1) throws -> Event {
        let doc = try JSONDocument.parse(json)
        return try normalizer.normalize(doc, position: SourcePosition(source: source, line: line), id: fastHash64(json))
    }

    /// One record of a corpus file, with where it came from.
    struct Record {
        var document: JSONDocument
        var position: SourcePosition
    }

    /// Records of a JSON or JSON-lines corpus file: a whole-file `{"records":[…]}` envelope is
    /// unwrapped, a swagger example's `responses.200.body` is taken, otherwise one record per line.
    static func jsonRecords(_ url: URL) throws -> [Record] {
        let data = try Data(contentsOf: url)
        let name = url.lastPathComponent
        if let whole = try? JSONDocument.parse(Array(data)) {
            let root = whole.root
            if let records = root["records"], records.type == .array {
                return try records.children.enumerated().map { i, r in
                    Record(document: try JSONDocument.parse(r.jsonText),
                           position: SourcePosition(source: name, line: 1, recordIndex: i))
                }
            }
            if let body = root["responses"]?["200"]?["body"] {
                return [Record(document: try JSONDocument.parse(body.jsonText), position: SourcePosition(source: name, line: 1))]
            }
            if root.type == .object {
                return [Record(document: whole, position: SourcePosition(source: name, line: 1))]
            }
        }
        var out: [Record] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            out.append(Record(document: try JSONDocument.parse(Array(line)), position: SourcePosition(source: name, line: i + 1)))
        }
        return out
    }

    /// Rows of a CSV file as JSON objects (column → cell string), the way the CSV reader hands
    /// them to the normaliser. A test-only splitter: RFC 4180 quoting, CRLF, multi-line cells, BOM.
    static func csvRecords(_ url: URL) throws -> [Record] {
        var bytes = Array(try Data(contentsOf: url))
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        let rows = splitCSV(bytes)
        guard let header = rows.first?.fields else { return [] }
        return rows.dropFirst().compactMap { row in
            if row.fields.count == 1, row.fields[0].isEmpty { return nil }
            var b = JSONBuilder()
            b.beginObject()
            for (i, column) in header.enumerated() { b.string(i < row.fields.count ? row.fields[i] : "", key: column) }
            b.end()
            return Record(document: b.build(), position: SourcePosition(source: url.lastPathComponent, line: row.line))
        }
    }

    static func splitCSV(_ bytes: [UInt8]) -> [(line: Int, fields: [String])] {
        var rows: [(Int, [String])] = []
        var fields: [String] = []
        var cell: [UInt8] = []
        var quoted = false, line = 1, rowLine = 1
        var i = 0
        func endCell() { fields.append(String(decoding: cell, as: UTF8.self)); cell.removeAll(keepingCapacity: true) }
        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") { cell.append(c); i += 1 } else { quoted = false }
                } else {
                    if c == 0x0A { line += 1 }
                    cell.append(c)
                }
            } else if c == UInt8(ascii: "\"") {
                quoted = true
            } else if c == UInt8(ascii: ",") {
                endCell()
            } else if c == 0x0A || c == 0x0D {
                if c == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
                endCell()
                rows.append((rowLine, fields))
                fields.removeAll()
                line += 1
                rowLine = line
            } else {
                cell.append(c)
            }
            i += 1
        }
        if !cell.isEmpty || !fields.isEmpty { endCell(); rows.append((rowLine, fields)) }
        return rows
    }
}
