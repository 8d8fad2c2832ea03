import EventDecoding
import EventModel
import FastJSON
import Foundation
import TestSupport
import Testing

/// The generated bad-input corpus (Tests/Fixtures/bad-inputs, from scripts/gen-bad-inputs.py), the
/// as-published invalid files of ../shared/corpus and a 100 MB line, each read through RecordReader
/// and through the built `vigil events`: every problem is reported with the file and a line or
/// offset, nothing crashes, and the good records around each bad one come out.
@Suite struct BadInputCorpusTests {
    static let folder = PackageRoot.url.appendingPathComponent("Tests/Fixtures/bad-inputs")
    static let vigil = PackageRoot.url.appendingPathComponent(".build/debug/vigil").path

    /// What each file must give: the good records that survive and the diagnostic codes, in order.
    struct Expectation: Sendable, CustomTestStringConvertible {
        var file: String
        var good: Int
        var codes: [String]
        var testDescription: String { file }
    }

    static let expectations: [Expectation] = [
        Expectation(file: "invalid-json.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "invalid-utf8.json", good: 2, codes: [InputCode.invalidUTF8]),
        Expectation(file: "invalid-utf8-key.json", good: 2, codes: [InputCode.invalidUTF8]),
        Expectation(file: "lone-surrogate-escape.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "control-char-in-string.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "nul-in-line.json", good: 2, codes: [InputCode.binary]),
        Expectation(file: "binary-line.json", good: 2, codes: [InputCode.binary]),
        Expectation(file: "unterminated-at-end.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "deep-nesting-arrays.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "deep-nesting-objects.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "deep-nesting-unclosed.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "huge-numbers.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "huge-integer.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "long-number.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "duplicate-keys.json", good: 3, codes: []),
        Expectation(file: "wrong-schema.json", good: 2, codes: [InputCode.unknownShape, InputCode.unknownShape, InputCode.unknownShape, InputCode.unknownShape, InputCode.unknownShape, InputCode.unknownShape, InputCode.unknownShape]),
        Expectation(file: "wrong-types.json", good: 2, codes: [InputCode.unknownShape]),
        Expectation(file: "envelope-bad-element.json", good: 2, codes: [InputCode.malformedJSON]),
        Expectation(file: "empty.json", good: 0, codes: []),
        Expectation(file: "whitespace.json", good: 0, codes: []),
        Expectation(file: "binary.bin", good: 0, codes: [InputCode.binary]),
        Expectation(file: "truncated.json.gz", good: 16, codes: [InputCode.malformedJSON, InputCode.truncatedGzip]),
        Expectation(file: "truncated-header.json.gz", good: 0, codes: [InputCode.truncatedGzip]),
        Expectation(file: "corrupt.json.gz", good: 5, codes: [InputCode.corruptGzip]),
        Expectation(file: "gzip-then-garbage.json.gz", good: 2, codes: [InputCode.corruptGzip]),
        Expectation(file: "gzip-of-garbage.json.gz", good: 2, codes: [InputCode.binary]),
        Expectation(file: "csv-bad-row.csv", good: 1, codes: [InputCode.csv, InputCode.csv]),
    ]

    /// The manifest and the table agree: a file added to the generator needs an expectation.
    @Test func everyGeneratedFileHasAnExpectation() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("manifest.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = (manifest["files"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
        #expect(files.count >= 25)
        #expect(Set(files) == Set(Self.expectations.map(\.file)))
    }

    private func read(path: String, maxLineBytes: Int = ReaderOptions.defaultMaxLineBytes) throws -> Collector {
        var reader = RecordReader(options: ReaderOptions(maxLineBytes: maxLineBytes))
        var c = Collector()
        try reader.read(InputFile(path: path), into: &c)
        return c
    }

    private func expectLocated(_ diagnostics: [Diagnostic], file: String) {
        for d in diagnostics {
            #expect(d.location.file == file, "\(d)")
            #expect(d.location.line != nil || d.location.offset != nil, "no line or offset: \(d)")
        }
    }

    @Test(arguments: expectations)
    func throughTheReader(_ e: Expectation) throws {
        let path = Self.folder.appendingPathComponent(e.file).path
        let c = try read(path: path)
        #expect(c.events.count == e.good, "\(c.codes)")
        #expect(c.codes == e.codes)
        expectLocated(c.diagnostics, file: path)
        // The good records are the sandwich's bread: STGOOD01 first, STGOOD02 (or the gzip's last) after.
        if e.good >= 2 {
            #expect(c.events.first?.record.root.jsonText.contains("STGOOD01") == true || e.file.hasSuffix(".gz") || e.file.hasSuffix(".csv"))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: vigil), "vigil binary not built"), arguments: expectations)
    func throughVigilEvents(_ e: Expectation) throws {
        let path = Self.folder.appendingPathComponent(e.file).path
        let r = try runVigil(["events", path])
        #expect(r.status == 0, "exit \(r.status): \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
        #expect(r.stdout.split(separator: "\n").count == e.good)
        let located = r.stderr.split(separator: "\n").filter { $0.contains("error[") || $0.contains("warning[") }
        #expect(located.count == e.codes.count, "\(r.stderr)")
        // `file:line:` or `file:offset N:`, then the code.
        for (line, code) in zip(located, e.codes) {
            #expect(line.hasPrefix(path + ":") && line.contains("[\(code)]"), "\(line)")
        }
    }

    /// A 100 MB line between two good records: skipped without being buffered, reported at its line
    /// and offset, and both neighbours read. Written at test time into a temporary folder.
    @Test(.timeLimit(.minutes(3)))
    func hundredMegabyteLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge-line.json").path
        let script = PackageRoot.url.appendingPathComponent("scripts/gen-bad-inputs.py").path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { return }
        let gen = try runProcess("/usr/bin/python3", [script, "--huge-line", path, "100"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size > 100 << 20)
        let c = try read(path: path)
        #expect(c.events.count == 2)
        #expect(c.codes == [InputCode.lineTooLong])
        #expect(c.diagnostics.first?.location.line == 2)
        expectLocated(c.diagnostics, file: path)
        if FileManager.default.isExecutableFile(atPath: Self.vigil) {
            let r = try runVigil(["events", path])
            #expect(r.status == 0 && r.stdout.split(separator: "\n").count == 2, "\(r.stderr)")
            #expect(r.stderr.contains(path + ":2:") && r.stderr.contains(InputCode.lineTooLong), "\(r.stderr)")
        }
    }

    /// Inputs the fuzzers crashed on (Tests/Fixtures/fuzz, from Fuzz/run.sh): each reads to the end.
    @Test func fuzzRegressions() throws {
        let folder = PackageRoot.url.appendingPathComponent("Tests/Fixtures/fuzz")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".bin") }.sorted()
        #expect(!files.isEmpty)
        for name in files {
            let bytes = Array(try Data(contentsOf: folder.appendingPathComponent(name)))
            var records = 0
            // The harness's two settings: small chunks with a small line limit, then the defaults' scale.
            for (chunk, limit) in [(509, 256), (1 << 16, 16 << 20)] {
                var reader = RecordReader(options: ReaderOptions(maxLineBytes: limit, chunkSize: chunk, normalizer: Normalizer(acceptsUnknownShapes: true)))
                var c = Collector()
                try reader.read(bytes: bytes, name: name, into: &c)
                records += reader.stats.records
            }
            #expect(records > 0, "\(name)")
        }
    }

    /// FuzzReader's first find: a year past 2262 overflowed Int64 nanoseconds and trapped.
    @Test func timesOutsideTheInt64RangeAreNotTimes() throws {
        #expect(EventTime(parsing: "4052-11-20T10:02:00.0000000Z") == nil)
        #expect(EventTime(parsing: "9999-12-31T23:59:59Z") == nil)
        #expect(EventTime(parsing: "1600-01-01T00:00:00Z") == nil)
        #expect(EventTime(parsing: "12/31/9999 11:59:59 PM") == nil)
        #expect(EventTime(parsing: "2262-04-11T23:47:16Z")?.nanoseconds == 9_223_372_036_000_000_000)
        #expect(EventTime(nanoseconds: .max - 5).adding(seconds: 18_000).nanoseconds == .max)
        let line = #"{"time":"9999-12-31T23:59:59Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/A","operationName":"MICROSOFT.STORAGE/STORAGEACCOUNTS/READ","category":"Administrative"}"#
        var reader = RecordReader()
        var c = Collector()
        try reader.read(bytes: Array((line + "\n").utf8), name: "never.json", into: &c)
        #expect(c.events.count + c.diagnostics.count == 1)
    }

    /// The as-published invalid files of the shared corpus, alone and sandwiched between good lines.
    @Test(.enabled(if: Corpus.root != nil, Comment(rawValue: Corpus.skipReason)))
    func asPublishedInvalidFiles() throws {
        let root = try #require(Corpus.root)
        let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".as-published.json") }
        #expect(!files.isEmpty)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bread = try String(contentsOf: Self.folder.appendingPathComponent("invalid-json.json"), encoding: .utf8).split(separator: "\n")
        for file in files {
            let path = root.appendingPathComponent(file).path
            let alone = try read(path: path)
            #expect(!alone.diagnostics.isEmpty, "\(file): no diagnostic")
            expectLocated(alone.diagnostics, file: path)
            // Flattened to one line between two good records.
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let flat = text.replacingOccurrences(of: "\r", with: " ")
            let lines = flat.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: " ")
            let sandwich = dir.appendingPathComponent("sandwich.json")
            try (bread[0] + "\n" + lines + "\n" + bread[2] + "\n").write(to: sandwich, atomically: true, encoding: .utf8)
            let c = try read(path: sandwich.path)
            #expect(c.events.count >= 2, "\(file): \(c.codes)")
            #expect(c.events.first?.position.line == 1 && c.events.last?.position.line == 3)
            expectLocated(c.diagnostics, file: sandwich.path)
            if FileManager.default.isExecutableFile(atPath: Self.vigil) {
                let r = try runVigil(["events", path])
                #expect(r.status == 0 && r.stderr.contains(path + ":"), "\(file): \(r.stderr)")
            }
        }
    }

    private func runVigil(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(Self.vigil, args)
    }

    private func runProcess(_ exe: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: try Data(contentsOf: out), as: UTF8.self),
                String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }
}
