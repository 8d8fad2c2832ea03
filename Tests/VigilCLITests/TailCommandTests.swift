import Foundation
import TestSupport
import Testing

/// `vigil tail --events` through the built binary, on files `vigil events` reads the same way.
@Suite(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
struct TailCommandTests {
    /// Two pretty-printed `{"records": [ … ]}` files in one folder: every record of both, with the
    /// positions and ids `vigil events` gives them, and no error.
    @Test func tailEventsReadsPrettyPrintedEnvelopesAsReplayDoes() throws {
        let folder = TemporaryFolder(prefix: "vigil-tail-cli")
        let sample = try String(contentsOf: PackageRoot.url.appendingPathComponent("samples/eventhub/entra-auditlogs.json"), encoding: .utf8)
        try sample.write(toFile: folder.path("a.json"), atomically: true, encoding: .utf8)
        try sample.replacingOccurrences(of: "2026-11-03T08:", with: "2026-11-03T09:")
            .write(toFile: folder.path("b.json"), atomically: true, encoding: .utf8)

        let tail = try VigilBinary.run(["tail", "--events", "--no-inotify", "--max-events", "4", folder.url.path], deadline: .seconds(60))
        #expect(tail.status == 0, "stops after the 4 records: \(tail.stderr)")
        #expect(!tail.stderr.contains("error["), "\(tail.stderr)")
        let tailed = try tail.lines.map { line -> String in
            let event = try json(line)
            return "\(event["source"] as? String ?? "?") \(event["id"] as? String ?? "?")"
        }

        let replay = try VigilBinary.run(["events", folder.path("a.json"), folder.path("b.json")])
        #expect(replay.status == 0)
        let replayed = try replay.lines.map { line -> String in
            let vigil = try json(line)["vigil"] as? [String: Any]
            return "\(vigil?["source"] as? String ?? "?") \(vigil?["id"] as? String ?? "?")"
        }
        #expect(tailed.count == 4)
        #expect(Set(tailed) == Set(replayed))
        #expect(tailed.contains { $0.hasPrefix(folder.path("b.json") + ":81 [record 1] ") })
    }
}

extension VigilBinary {
    /// Runs the binary and stops it (SIGTERM) if it is still running after `deadline`.
    static func run(_ arguments: [String], deadline: Duration) throws -> Result {
        let scratch = TemporaryFolder(prefix: "vigil-run")
        let out = scratch.path("out"), err = scratch.path("err")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while process.isRunning && clock.now < end { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: err)), as: UTF8.self))
    }
}
