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

    @Test func unopenableFileIsAPermanentError() {
        #expect(throws: DeliveryError.self) { try JSONLinesSink(destination: .file("/nonexistent-dir/x/out.jsonl")) }
    }
}
