import Foundation
import Ingest
import Logging
@testable import Pipeline
import TestSupport
import Testing

/// The `file` source of `vigil run` on a pretty-printed envelope: one document read, one event per
/// record at the record's own line, all resuming from the document's start until it is durable.
@Suite struct FileRunSourceTests {
    @Test func aPrettyPrintedEnvelopeGivesOneEventPerRecord() throws {
        let folder = TemporaryFolder(prefix: "vigil-file-source")
        let sample = PackageRoot.url.appendingPathComponent("samples/eventhub/entra-auditlogs.json")
        try FileManager.default.copyItem(atPath: sample.path, toPath: folder.path("a.json"))
        var settings = FileSourceSettings(name: "files", paths: [folder.url.path])
        settings.tail.useInotify = false
        let source = FileRunSource(settings: settings, checkpoints: InMemoryCheckpointStore(), logger: Logger(label: "test"))
        var batch = RunBatch()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while batch.events.count < 2 && clock.now < deadline {
            try source.poll(maxRecords: 100, timeout: .milliseconds(100), into: &batch)
            if batch.events.count < 2 { source.wait(timeout: .milliseconds(100)) }
        }
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.records == 1, "one document")
        #expect(batch.events.map(\.0.position.line) == [3, 81])
        #expect(batch.events.map(\.0.position.recordIndex) == [0, 1])
        #expect(batch.events.map(\.1.resume) == [0, 0])
        #expect(batch.events.allSatisfy { $0.1.key == source.tail.files.first?.key })
    }
}
