import FastJSON
import Foundation
import TestSupport
import Testing
@testable import Ingest

@Suite struct TailSourceTests {
    /// A line over `maxLineBytes` is dropped and said once, with its code and line, however many
    /// chunks it spans; the next line is read.
    @Test func anOverLongLineIsDroppedAndSaidOnce() throws {
        let f = TailFixture()
        f.write("a.log", "first\n" + String(repeating: "x", count: 5000) + "\nnext\n")
        let logs = LogCapture()
        let source = f.source(logger: logs.logger) { $0.maxLineBytes = 1024; $0.readChunkBytes = 512 }
        #expect(try collect(source, count: 2).map(\.text) == ["first", "next"])
        let said = logs.lines.withLock { $0.filter { $0.contains("line longer than max_line_bytes") } }
        #expect(said.count == 1, "\(said)")
        #expect(said.first?.contains("input.line-too-long") == true && said.first?.contains("\"line\": 2") == true, "\(said)")
    }

    @Test func growthAndPartialLastLine() throws {
        let f = TailFixture()
        f.write("a.log", "one\ntw")
        let source = f.source()
        #expect(try collect(source, count: 1).map(\.text) == ["one"])
        #expect(try settle(source, for: .milliseconds(150)).isEmpty, "a partial line waits for its newline")
        f.append("a.log", "o\nthree\n")
        let lines = try collect(source, count: 2)
        #expect(lines.map(\.text) == ["two", "three"])
        #expect(lines.map(\.lineNumber) == [2, 3])
        #expect(lines.last?.offsetAfterLine == Int64("one\ntwo\nthree\n".utf8.count))
        #expect(lines[0].offset == 4)
    }

    @Test(arguments: [true, false]) func newHourlyBlobsInNewSubdirectories(inotify: Bool) throws {
        let f = TailFixture()
        let source = f.source(inotify: inotify)
        #expect(try source.poll().isEmpty)
        #expect(source.usesInotify == inotify)
        f.write("resourceId=/SUBS/X/y=2024/m=05/d=01/h=10/m=00/PT1H.json", "{\"n\":1}\n{\"n\":2}\n")
        #expect(try collect(source, count: 2).map(\.text) == ["{\"n\":1}", "{\"n\":2}"])
        f.write("resourceId=/SUBS/X/y=2024/m=05/d=01/h=11/m=00/PT1H.json", "{\"n\":3}\n")
        f.append("resourceId=/SUBS/X/y=2024/m=05/d=01/h=10/m=00/PT1H.json", "{\"n\":4}\n")
        let more = try collect(source, count: 2)
        #expect(Set(more.map(\.text)) == ["{\"n\":3}", "{\"n\":4}"])
        #expect(try settle(source).isEmpty)
    }

    @Test func renameRotationContinuesWithoutLossOrDuplicates() throws {
        let f = TailFixture()
        f.write("app.log", "1\n2\n3\n")
        let source = f.source()
        #expect(try collect(source, count: 3).count == 3)
        f.append("app.log", "4\n")                     // written just before rotation, not read yet
        f.rename("app.log", "app.log.1")
        f.write("app.log", "5\n6\n")
        f.append("app.log.1", "late\n")                 // the writer still had the old file open
        let lines = try collect(source, count: 4)
        #expect(Set(lines.map(\.text)) == ["4", "late", "5", "6"])
        #expect(lines.count == 4)
        #expect(try settle(source).isEmpty)
        #expect(Set(source.files.map(\.path)) == [f.path("app.log"), f.path("app.log.1")], "the old file is followed under its new name")
    }

    @Test func copyTruncateReadsTheTailOnceAndTheNewContent() throws {
        let f = TailFixture()
        f.write("app.log", "first record\n2\n3\n")
        let source = f.source()
        #expect(try collect(source, count: 3).count == 3)
        f.append("app.log", "4\n")
        f.copy("app.log", "app.log.1")
        f.truncate("app.log")
        f.append("app.log", "after rotation\n")
        let lines = try collect(source, count: 2)
        #expect(Set(lines.map(\.text)) == ["4", "after rotation"])
        #expect(try settle(source).isEmpty, "the copy's old lines are not read again")
    }

    @Test func truncationStartsANewGeneration() throws {
        let f = TailFixture()
        f.write("t.log", "header\nx\ny\n")
        let source = f.source()
        let first = try collect(source, count: 3)
        #expect(first.map(\.generation) == [0, 0, 0])
        f.truncate("t.log")
        #expect(try settle(source, for: .milliseconds(100)).isEmpty)
        f.append("t.log", "header\nz\n")
        let second = try collect(source, count: 2)
        #expect(second.map(\.text) == ["header", "z"])
        #expect(second.map(\.generation) == [1, 1])
        #expect(second.first?.fingerprint == first.first?.fingerprint)
        #expect(second.last?.lineNumber == 2)
    }

    @Test func deletedFileIsReadToItsEnd() throws {
        let f = TailFixture()
        f.write("d.log", "a\n")
        let source = f.source()
        #expect(try collect(source, count: 1).count == 1)
        f.append("d.log", "b\nc\n")
        f.remove("d.log")
        #expect(try collect(source, count: 2).map(\.text) == ["b", "c"])
        _ = try settle(source)
        #expect(source.files.isEmpty, "the removed file is closed once drained")
    }

    @Test func inodeReuseWithDifferentContentIsANewFile() throws {
        let f = TailFixture()
        f.write("r.log", "old content 1\nold 2\n")
        let oldInode = f.inode("r.log")
        let source = f.source()
        #expect(try collect(source, count: 2).count == 2)
        f.remove("r.log")
        _ = try settle(source)                         // the old file is closed, its inode is free
        f.write("r.log", "new content 1\nnew 2\nnew 3\n")
        let reused = f.inode("r.log") == oldInode
        let lines = try collect(source, count: 3)
        #expect(lines.map(\.text) == ["new content 1", "new 2", "new 3"], "inode reused: \(reused)")
        #expect(lines.first?.offset == 0)
    }

    @Test func gzipArchiveIsReadOnceAndNeverAgainAfterRestart() throws {
        let f = TailFixture()
        let source = f.source()
        _ = try source.poll()
        try f.writeGzip("archive/PT1H.json.gz", "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n")
        let lines = try collect(source, count: 3)
        #expect(lines.map(\.text) == ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"])
        #expect(lines.allSatisfy { $0.isCompressed })
        #expect(try settle(source).isEmpty)
        // Durable after the second line only; a restart resumes with the third.
        try f.store.save(TailLine.checkpoints(for: lines.prefix(2)))
        let restarted = f.source()
        #expect(try collect(restarted, count: 1).map(\.text) == ["{\"a\":3}"])
        try f.store.save(TailLine.checkpoints(for: lines))
        #expect(try settle(f.source(), for: .milliseconds(200)).isEmpty, "fully read archive skipped after restart")
    }

    @Test func restartResumesFromTheSavedCheckpoint() throws {
        let f = TailFixture()
        f.write("x/app.json", "r1\nr2\nr3\nr4\n")
        let a = f.source()
        let lines = try collect(a, count: 4)
        try f.store.save(TailLine.checkpoints(for: lines.prefix(2)))
        f.append("x/app.json", "r5\n")
        let b = f.source(.end)   // a checkpoint wins over the start position
        let resumed = try collect(b, count: 3)
        #expect(resumed.map(\.text) == ["r3", "r4", "r5"])
        #expect(resumed.map(\.lineNumber) == [3, 4, 5])
    }

    @Test func checkpointBeyondTheFileMeansItWasTruncatedWhileDown() throws {
        let f = TailFixture()
        f.write("c.log", "same head\nmore\n")
        let lines = try collect(f.source(), count: 2)
        let key = lines[0].fingerprint.key
        try f.store.save([Checkpoint(key: key, offset: 10_000, generation: 3)])
        let resumed = try collect(f.source(), count: 2)
        #expect(resumed.map(\.text) == ["same head", "more"])
        #expect(resumed.map(\.generation) == [4, 4])
    }

    @Test func startPositionAppliesOnlyToFilesWithoutCheckpoint() throws {
        let f = TailFixture()
        f.write("s.log", "old1\nold2\npart")
        let fromEnd = f.source(.end)
        #expect(try settle(fromEnd, for: .milliseconds(150)).isEmpty)
        f.append("s.log", "ial\nnew\n")
        #expect(try collect(fromEnd, count: 2).map(\.text) == ["partial", "new"], "the partial line is read whole")
        f.write("later.log", "appeared after start\n")
        #expect(try collect(fromEnd, count: 1).map(\.text) == ["appeared after start"])

        let g = TailFixture()
        g.write("s.log", "old1\nold2\n")
        #expect(try collect(g.source(.beginning), count: 2).map(\.text) == ["old1", "old2"])
    }

    @Test func fingerprintIsStableWhileTheFileGrows() {
        let head = Array("first line\nsecond".utf8)
        let a = FileFingerprint.plain(head: head, headBytes: 1024)
        let b = FileFingerprint.plain(head: head + Array(" and more\nthird\n".utf8), headBytes: 1024)
        #expect(a != nil && a == b)
        #expect(FileFingerprint.plain(head: Array("no newline yet".utf8), headBytes: 1024) == nil)
        #expect(FileFingerprint.plain(head: [UInt8](repeating: 65, count: 2000), headBytes: 1024)?.length == 1024)
        #expect(FileFingerprint.plain(head: Array("other line\n".utf8), headBytes: 1024) != a)
    }

    @Test func fingerprintOfAPrettyFileRunsThroughItsFirstDocument() {
        func fp(_ text: String, headBytes: Int = 1024, settled: Bool = false) -> FileFingerprint? {
            FileFingerprint.plain(head: Array(text.utf8), headBytes: headBytes, settled: settled)
        }
        let a = "{\n  \"records\": [\n    {\"n\": 1}\n  ]\n}"
        let b = "{\n  \"records\": [\n    {\"n\": 2}\n  ]\n}"
        #expect(fp(a) != nil && fp(b) != nil && fp(a) != fp(b))
        #expect(fp(a)?.length == a.utf8.count)
        #expect(fp(a + "\n[\n1\n]\n") == fp(a), "stable when more is appended")
        let unfinished = "{\n  \"records\": [\n    {\"n\": 1}"
        #expect(fp(unfinished) == nil, "waits for the document's end")
        #expect(fp(unfinished, settled: true)?.length == unfinished.utf8.count, "unless the file stopped changing")
        #expect(fp("[\n" + String(repeating: "1,\n", count: 400), headBytes: 1024)?.length == 1024, "capped at headBytes")
        let line = Array("{\"n\": 1}\n".utf8)
        let lineKey = line.withUnsafeBytes { FileFingerprint(hash: fastHash64($0, seed: FileFingerprint.seedPlain), length: line.count) }
        #expect(fp("{\"n\": 1}\n{\"n\": 2}\n") == lineKey, "JSON lines: the first line, as before")
    }
}
