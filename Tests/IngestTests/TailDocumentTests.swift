import EventDecoding
import EventModel
import FastJSON
import Foundation
import TestSupport
import Testing
@testable import Ingest

/// Tailing files that hold multi-line JSON documents (pretty-printed envelopes and arrays): each is
/// read once, whole, when complete, with the records, ids and positions `vigil replay` gives them.
@Suite struct TailDocumentTests {
    @Test func prettyFilesInOneFolderAreEachReadOnceWhole() throws {
        let f = TailFixture()
        f.write("a.json", try String(contentsOf: PackageRoot.url.appendingPathComponent("samples/eventhub/entra-auditlogs.json"), encoding: .utf8))
        f.write("b.json", PrettyDocuments.envelope(0..<3))
        f.write("c.json", PrettyDocuments.array(3..<7))
        let source = f.source()
        let units = try collect(source, count: 3)
        #expect(units.count == 3)
        #expect(units.allSatisfy { $0.kind == .document && $0.offset == 0 && $0.lineNumber == 1 })
        #expect(Set(units.map(\.fingerprint)).count == 3, "pretty files no longer share an identity")
        let tailed = try decode(units)
        let replayed = try replay(["a.json", "b.json", "c.json"].map(f.path))
        #expect(tailed.diagnostics.isEmpty)
        #expect(tailed.events.count == 2 + 3 + 4)
        #expect(tailed.events.map(\.position) == replayed.events.map(\.position))
        #expect(tailed.events.map(\.id) == replayed.events.map(\.id))
        #expect(tailed.events.first?.position.line == 3, "a record's own line, as replay reports it")
        #expect(units.map(\.offsetAfterLine) == ["a.json", "b.json", "c.json"].map { f.documentEnd($0) })
        #expect(try settle(source).isEmpty)
    }

    @Test func documentWrittenInTwoHalvesIsReadOnceComplete() throws {
        let f = TailFixture()
        let text = PrettyDocuments.envelope(0..<4)
        let half = text.utf8.count / 2
        f.write("h.json", String(decoding: Array(text.utf8)[..<half], as: UTF8.self))
        let source = f.source()
        var early = JSONRecords.Collector()
        for unit in try settle(source) { try JSONRecords.decode(unit, normalizer: Normalizer(), into: &early) }
        #expect(early.events.isEmpty && early.diagnostics.isEmpty, "nothing, not even an error, while the document is incomplete")
        f.append("h.json", String(decoding: Array(text.utf8)[half...], as: UTF8.self))
        let units = try collect(source, count: 1)
        #expect(units.map(\.kind) == [.document])
        let tailed = try decode(units)
        #expect(tailed.diagnostics.isEmpty)
        #expect(tailed.events.map(\.id) == (try replay([f.path("h.json")])).events.map(\.id))
        #expect(tailed.events.count == 4)
        #expect(try settle(source).isEmpty)
    }

    /// A document that stops growing before it is complete (the writer died) is one error where it
    /// ends, after `documentTimeout`; the records complete before it are read, as replay reads them,
    /// and the other files are read as usual.
    @Test func unfinishedDocumentIsOneErrorAndTheOtherFilesAreRead() throws {
        let f = TailFixture()
        let full = Array(PrettyDocuments.envelope(0..<3).utf8)
        f.write("bad.json", String(decoding: full[..<(full.count - 40)], as: UTF8.self))
        f.write("good.json", PrettyDocuments.envelope(3..<5))
        f.write("lines.log", ActivityLogBodies.record(10, caller: "x@contoso.com") + "\n" + ActivityLogBodies.record(11, caller: "y@contoso.com") + "\n")
        let source = f.source { $0.documentTimeout = .milliseconds(300) }
        let units = try collect(source, count: 4)
        let tailed = try decode(units)
        let replayed = try replay(["bad.json", "good.json", "lines.log"].map(f.path))
        #expect(tailed.diagnostics.count == 1)
        #expect(tailed.diagnostics.first?.code == InputCode.malformedJSON)
        #expect(tailed.diagnostics.first?.location.file == f.path("bad.json"))
        #expect(tailed.diagnostics.first?.location == replayed.diagnostics.first?.location, "located where replay locates it")
        #expect((tailed.diagnostics.first?.location.line ?? 0) > 1)
        #expect(tailed.events.count == replayed.events.count)
        #expect(Set(tailed.events.map(\.id)) == Set(replayed.events.map(\.id)))
        #expect(try settle(source).isEmpty, "reported once, not again on every poll")
    }

    @Test func bytesAfterADocumentThatStartNoneAreOneError() throws {
        let f = TailFixture()
        let document = PrettyDocuments.envelope(0..<2)
        f.write("t.json", document + "\n]\n}\nnot json either\n")
        let source = f.source()
        let units = try collect(source, count: 2)
        #expect(units.map(\.kind) == [.document, .stray])
        let tailed = try decode(units)
        #expect(tailed.events.count == 2)
        #expect(tailed.diagnostics.count == 1)
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(tailed.diagnostics.first?.location == SourceLocation(file: f.path("t.json"), line: lines + 1, offset: Int64(document.utf8.count + 1)))
        #expect(try settle(source).isEmpty)
    }

    @Test func aRestartReadsNothingAgain() throws {
        let f = TailFixture()
        f.write("a.json", PrettyDocuments.envelope(0..<2) + "\n")
        f.write("b.json", PrettyDocuments.array(2..<5) + "\n")
        f.write("l.log", ActivityLogBodies.record(9, caller: "z@contoso.com") + "\n")
        let units = try collect(f.source(), count: 3)
        #expect(units.count == 3)
        // Only a.json's document was durable: a restart reads the others, once.
        try f.store.save(TailLine.checkpoints(for: units.filter { $0.path == f.path("a.json") }))
        let restarted = f.source()
        let resumed = try collect(restarted, count: 2)
        #expect(Set(resumed.map(\.path)) == [f.path("b.json"), f.path("l.log")])
        #expect(resumed.count == 2)
        #expect(try settle(restarted).isEmpty)
        try f.store.save(TailLine.checkpoints(for: units))
        #expect(try settle(f.source()).isEmpty)
    }

    /// What happens when such a file is appended to: what follows a document is read the same
    /// way, a document at a time (a one-line record is a document too).
    @Test func aDocumentAppendedLaterIsReadAsTheNextOne() throws {
        let f = TailFixture()
        let first = PrettyDocuments.envelope(0..<2) + "\n"
        f.write("a.json", first)
        let source = f.source()
        let one = try collect(source, count: 1)
        #expect(one.count == 1)
        let second = PrettyDocuments.array(2..<5) + "\n"
        let third = ActivityLogBodies.record(5, caller: "w@contoso.com") + "\n"
        f.append("a.json", second + third)
        let more = try collect(source, count: 2)
        #expect(more.map(\.kind) == [.document, .document])
        #expect(more.first?.offset == Int64(first.utf8.count))
        #expect(more.first?.lineNumber == first.split(separator: "\n").count + 1)
        #expect(more.allSatisfy { $0.fingerprint == one[0].fingerprint }, "appending keeps the identity")
        let tailed = try decode(one + more)
        let replayed = try replay([f.path("a.json")])
        #expect(tailed.diagnostics.isEmpty)
        #expect(tailed.events.count == 6)
        #expect(tailed.events.map(\.position) == replayed.events.map(\.position))
        #expect(tailed.events.map(\.id) == replayed.events.map(\.id))
        try f.store.save(TailLine.checkpoints(for: one + more))
        #expect(try settle(f.source()).isEmpty)
    }

    @Test func fromEndSkipsOnlyTheDocumentsCompleteAtStartup() throws {
        let f = TailFixture()
        let complete = PrettyDocuments.envelope(0..<2) + "\n"
        let next = Array((PrettyDocuments.array(2..<4) + "\n").utf8)
        f.write("e.json", complete + String(decoding: next[..<40], as: UTF8.self))
        let source = f.source(.end)
        #expect(try settle(source).isEmpty)
        f.append("e.json", String(decoding: next[40...], as: UTF8.self))
        let units = try collect(source, count: 1)
        #expect(units.map(\.offset) == [Int64(complete.utf8.count)], "the unfinished document is read whole once finished")
        #expect(try decode(units).events.count == 2)
    }

    @Test func aDocumentOverTheLimitIsDroppedAndTheNextIsRead() throws {
        let f = TailFixture()
        let big = PrettyDocuments.envelope(0..<20) + "\n"
        f.write("big.json", big + PrettyDocuments.array(20..<21) + "\n")
        let source = f.source { $0.maxDocumentBytes = 4096; $0.readChunkBytes = 1024 }
        let units = try collect(source, count: 1)
        #expect(big.utf8.count > 4096)
        #expect(units.map(\.offset) == [Int64(big.utf8.count)])
        #expect(try decode(units).events.count == 1)
        #expect(try settle(source).isEmpty)
    }

    @Test func aGzipArchiveOfAPrettyDocumentIsReadAsOneDocument() throws {
        let f = TailFixture()
        let source = f.source()
        _ = try source.poll()
        try f.writeGzip("archive/PT1H.json.gz", PrettyDocuments.envelope(0..<3) + "\n")
        let units = try collect(source, count: 1)
        #expect(units.map(\.kind) == [.document])
        #expect(units.allSatisfy { $0.isCompressed })
        let tailed = try decode(units)
        let replayed = try replay([f.path("archive/PT1H.json.gz")])
        #expect(tailed.diagnostics.isEmpty)
        #expect(tailed.events.count == 3)
        #expect(tailed.events.map(\.position) == replayed.events.map(\.position))
        #expect(tailed.events.map(\.id) == replayed.events.map(\.id))
        #expect(try settle(source).isEmpty)
    }

    @Test func jsonLinesFilesAreStillReadLineByLineUnderTheirOldKey() throws {
        let f = TailFixture()
        let lines = (0..<3).map { String(decoding: ActivityLogBodies.body($0, records: 2), as: UTF8.self) }
        f.write("l.json", lines.joined(separator: "\n") + "\n")
        let units = try collect(f.source(), count: 3)
        #expect(units.map(\.kind) == [.line, .line, .line])
        #expect(units.map(\.lineNumber) == [1, 2, 3])
        // The key before multi-line documents: the first line with its newline, capped at 1 KiB.
        let head = Array((lines[0] + "\n").utf8.prefix(1024))
        let oldKey = head.withUnsafeBytes { FileFingerprint(hash: fastHash64($0, seed: FileFingerprint.seedPlain), length: head.count) }
        #expect(units[0].fingerprint == oldKey)
        #expect(try decode(units).events.count == 6)
    }

    // MARK: - Helpers

    private func decode(_ units: [TailLine]) throws -> JSONRecords.Collector {
        var c = JSONRecords.Collector()
        for unit in units { try JSONRecords.decode(unit, normalizer: Normalizer(), into: &c) }
        return c
    }

    /// What `vigil replay` reads from these files, one after another.
    private func replay(_ paths: [String]) throws -> JSONRecords.Collector {
        var reader = RecordReader()
        var c = JSONRecords.Collector()
        for path in paths { try reader.read(InputFile(path: path), into: &c) }
        return c
    }
}

/// Pretty-printed documents of Activity Log records, as capture and export tools write them.
enum PrettyDocuments {
    static func envelope(_ records: Range<Int>) -> String { pretty(["records": objects(records)]) }
    static func array(_ records: Range<Int>) -> String { pretty(objects(records)) }

    private static func objects(_ records: Range<Int>) -> [Any] {
        records.map { try! JSONSerialization.jsonObject(with: Data(ActivityLogBodies.record($0, caller: "user\($0)@contoso.com").utf8)) }
    }

    private static func pretty(_ value: Any) -> String {
        let data = try! JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

extension TailFixture {
    /// Offset one past the last non-blank byte of a file: where its only document ends.
    func documentEnd(_ relative: String) -> Int64 {
        let bytes = [UInt8](FileManager.default.contents(atPath: path(relative)) ?? Data())
        return Int64(bytes.lastIndex { $0 != 0x0A && $0 != 0x20 && $0 != 0x0D }.map { $0 + 1 } ?? 0)
    }
}
