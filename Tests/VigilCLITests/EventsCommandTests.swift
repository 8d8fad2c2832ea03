import Foundation
import TestSupport
import Testing

/// The built `vigil` binary (`swift test` builds it); tests skip, saying so, when it is absent.
enum VigilBinary {
    static let url = PackageRoot.url.appendingPathComponent(".build/debug/vigil")
    static let exists = FileManager.default.isExecutableFile(atPath: url.path)
    static let skipReason = Comment(rawValue: "vigil binary not found at .build/debug/vigil: run `swift build` first")

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// Runs another tool and returns its standard output.
    static func runTool(_ path: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs vigil with `arguments`; `under`: a command that runs it (e.g. `flock -s FILE`).
    static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], under wrapper: [String] = []) throws -> Result {
        // Output goes to files, not pipes, so a large output can never stall the child.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = wrapper.first.map { URL(fileURLWithPath: $0) } ?? url
        process.arguments = wrapper.isEmpty ? arguments : Array(wrapper.dropFirst()) + [url.path] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

func json(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
}

@Suite(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
final class EventsCommandTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    private func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static let records = [
        #"{"time":"2024-05-01T10:00:00Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1","operationName":"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WRITE","category":"Administrative","resultType":"Success","properties":{"requestbody":"{\"properties\":{\"access\":\"Allow\"}}"}}"#,
        #"{"time":"2024-05-01T10:05:00Z","operationName":"MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION","category":"Administrative"}"#,
    ]

    @Test func printsEachRecordWithAVigilObjectInFront() throws {
        let path = try write("a.jsonl", Self.records.joined(separator: "\n") + "\n")
        let r = try VigilBinary.run(["events", path])
        #expect(r.status == 0)
        #expect(r.lines.count == 2)
        let first = try json(r.lines[0])
        let vigil = try #require(first["vigil"] as? [String: Any])
        #expect(vigil["kind"] as? String != nil)
        #expect(vigil["shape"] as? String != nil)
        #expect((vigil["source"] as? String)?.hasSuffix("a.jsonl:1") == true)
        #expect((vigil["id"] as? String)?.count == 16)
        // The raw record's fields follow, unchanged.
        #expect(first["operationName"] as? String == "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WRITE")
        #expect((first["properties"] as? [String: Any])?["requestbody"] as? String == #"{"properties":{"access":"Allow"}}"#)
        #expect(r.lines[0].hasPrefix(#"{"vigil":{"kind":"#))
        #expect(r.stderrLines.last?.contains("2 records") == true)
    }

    @Test func fieldsPrintsAFlatObjectKeyedByPath() throws {
        let path = try write("b.jsonl", Self.records.joined(separator: "\n"))
        let r = try VigilBinary.run(["events", path, "--fields", "vigil.source, operationName,properties.requestbody.properties.access,missing"])
        #expect(r.status == 0)
        let first = try json(r.lines[0])
        #expect(Set(first.keys) == ["vigil.source", "operationName", "properties.requestbody.properties.access", "missing"])
        #expect(first["properties.requestbody.properties.access"] as? String == "Allow")
        #expect(first["missing"] is NSNull)
        #expect((first["vigil.source"] as? String)?.hasSuffix("b.jsonl:1") == true)
        let second = try json(r.lines[1])
        #expect(second["operationName"] as? String == "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION")
    }

    @Test func diagnosticsGoToStderrAndTheErrorsFileAndStrictFails() throws {
        let path = try write("bad.jsonl", Self.records[0] + "\n{\"broken\": \n" + Self.records[1] + "\n")
        let errors = dir.appendingPathComponent("errors.jsonl").path
        let r = try VigilBinary.run(["events", path, "--errors", errors, "--fields", "operationName"])
        #expect(r.status == 0)
        #expect(r.lines.count == 2)
        #expect(r.stderr.contains("\(path):2: error[input.malformed-json]: "))
        #expect(r.stderrLines.last?.contains("input.malformed-json 1") == true)
        let logged = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(logged.count == 1)
        let d = try json(logged[0])
        #expect(d["code"] as? String == "input.malformed-json")
        #expect(d["file"] as? String == path)
        #expect(d["line"] as? Int == 2)
        #expect(d["offset"] as? Int != nil)

        let strict = try VigilBinary.run(["events", "--strict", path])
        #expect(strict.status != 0)
        #expect(strict.lines.count == 2)   // still prints everything valid
        let clean = try VigilBinary.run(["events", "--strict", try write("ok.jsonl", Self.records[1])])
        #expect(clean.status == 0)
    }

    @Test func readsStandardInputAndDirectories() throws {
        let r = try VigilBinary.run(["events", "-", "--fields", "vigil.source,category"], stdin: Data((Self.records.joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 0)
        #expect(r.lines.count == 2)
        #expect(try json(r.lines[1])["vigil.source"] as? String == "-:2")

        let hour = dir.appendingPathComponent("tree/insights-activity-logs/resourceId=/SUBSCRIPTIONS/S1/y=2024/m=05/d=01/h=10/m=00")
        try FileManager.default.createDirectory(at: hour, withIntermediateDirectories: true)
        try Self.records.joined(separator: "\n").write(to: hour.appendingPathComponent("PT1H.json"), atomically: true, encoding: .utf8)
        let tree = try VigilBinary.run(["events", dir.appendingPathComponent("tree").path, "--fields", "operationName"])
        #expect(tree.lines.count == 2)
        let skipped = try VigilBinary.run(["events", dir.appendingPathComponent("tree").path, "--from", "2024-06-01T00:00:00Z"])
        #expect(skipped.lines.isEmpty)
        #expect(skipped.stderr.contains("1 export files outside --from/--to"))
    }

    @Test func maxLineBytesSkipsLongerLines() throws {
        let path = try write("long.jsonl", Self.records.joined(separator: "\n") + "\n")
        let r = try VigilBinary.run(["events", path, "--max-line-bytes", "200", "--fields", "operationName"])
        #expect(r.status == 0)
        #expect(r.lines.count == 1)   // the first record is longer than 200 bytes
        #expect(r.stderr.contains("\(path):1: error[input.line-too-long]"))
    }

    @Test func badArgumentsAreRejected() throws {
        let missing = try VigilBinary.run(["events", "/nonexistent/vigil-input"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent/vigil-input: error[input.not-found]"))
        let badTime = try VigilBinary.run(["events", "-", "--from", "yesterday"])
        #expect(badTime.status != 0)
        #expect(badTime.stderr.contains("--from"))
        // `events` and `replay` share their input options, and check them the same way.
        for command in ["events", "replay"] {
            let late = try VigilBinary.run([command, "-", "--to", "tomorrow"])
            #expect(late.status != 0 && late.stderr.contains("--to: 'tomorrow' is not an ISO 8601 time"), "\(command)")
            let tiny = try VigilBinary.run([command, "-", "--max-line-bytes", "0"])
            #expect(tiny.status != 0 && tiny.stderr.contains("--max-line-bytes must be positive"), "\(command)")
        }
    }

    @Test func gzipAndCorpusFilesEndToEnd() throws {
        // gzip through the system tool, so this test also checks interoperability.
        let plain = try write("g.jsonl", Self.records.joined(separator: "\n") + "\n")
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gz.arguments = ["gzip", "-k", plain]
        try gz.run()
        gz.waitUntilExit()
        if gz.terminationStatus == 0 {
            let r = try VigilBinary.run(["events", plain + ".gz", "--fields", "operationName"])
            #expect(r.lines.count == 2)
        }
        guard let corpus = Corpus.root else { return }
        let r = try VigilBinary.run(["events", corpus.appendingPathComponent("activity/msdocs-activity-log-schema").path, "--fields", "vigil.source"])
        #expect(r.status == 0)
        #expect(r.lines.count == 4)
        #expect(r.stderr.contains("08-policy-category-rest-api.as-published.json:67: error[input.malformed-json]"))
    }
}
