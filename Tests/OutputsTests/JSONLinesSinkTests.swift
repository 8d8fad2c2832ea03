import EventModel
import Foundation
import Outputs
import Testing

@Suite struct JSONLinesSinkTests {
    @Test func appendsOneLinePerItemToAPrivateFile() throws {
        let folder = OutboxTemporaryFolder()
        let path = folder.path("out.jsonl")
        let items = [
            OutboxItem(rowId: 1, kind: .alert, objectId: "a1", revision: 1, payload: "{\"type\":\"alert\",\"id\":\"a1\"}"),
            OutboxItem(rowId: 2, kind: .incident, objectId: "i1", revision: 1, payload: "{\"type\":\"incident\",\n\"id\":\"i1\"}"),
        ]
        do {
            let sink = try JSONLinesSink(destination: .file(path))
            try sink.deliver(items)
            try sink.close()
        }
        let sink = try JSONLinesSink(destination: .file(path))
        try sink.deliver([items[0]])
        try sink.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["{\"type\":\"alert\",\"id\":\"a1\"}", "{\"type\":\"incident\", \"id\":\"i1\"}",
                          "{\"type\":\"alert\",\"id\":\"a1\"}"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        // After close, delivery fails retriably instead of writing to a stale descriptor.
        #expect(throws: DeliveryError.self) { try sink.deliver(items) }
    }

    @Test func unopenableFileIsAPermanentError() throws {
        // A regular file where a folder should be: neither the folder nor the file can be made.
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-blocker-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: blocker.path, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(at: blocker) }
        #expect(throws: DeliveryError.self) { try JSONLinesSink(destination: .file(blocker.path + "/x/out.jsonl")) }
    }

    @Test func missingFoldersAreCreated() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-sinkdir-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sink = try JSONLinesSink(destination: .file(dir.path + "/a/b/out.jsonl"))
        try sink.close()
        #expect(FileManager.default.fileExists(atPath: dir.path + "/a/b/out.jsonl"))
    }
}
