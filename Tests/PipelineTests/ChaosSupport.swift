import Foundation
import TestSupport
import Testing

/// Runs the built `vigil` binary (and helper scripts) for the chaos suites; tests skip, saying so,
/// when the binary or python3 is missing.
enum Chaos {
    static let vigil = PackageRoot.url.appendingPathComponent(".build/debug/vigil").path
    static let hasVigil = FileManager.default.isExecutableFile(atPath: vigil)
    static let noVigil = Comment(rawValue: "vigil binary not found at .build/debug/vigil: run `swift build` first")
    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let noPython = Comment(rawValue: "python3 is not installed: chaos workload generator skipped")
    /// The long variants (20+ crash runs, 100 MB lines) run only with VIGIL_CHAOS=1 (`make chaos`).
    static let long = ProcessInfo.processInfo.environment["VIGIL_CHAOS"] == "1"
    static let rule = PackageRoot.url.appendingPathComponent("detections/identity/storage_account_keys_listed_by_user.yml").path

    struct Result {
        var status: Int32
        var signalled: Bool
        var stdout: String
        var stderr: String
    }

    /// Starts `executable` with output to files (never pipes, so a big output cannot stall it).
    final class Child {
        let process = Process()
        let out: URL
        let err: URL

        init(_ executable: String, _ arguments: [String], in dir: URL, environment: [String: String]? = nil) throws {
            let tag = UUID().uuidString
            out = dir.appendingPathComponent("out-\(tag)")
            err = dir.appendingPathComponent("err-\(tag)")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let environment { process.environment = environment }
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        func kill9() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        func wait() throws -> Result {
            process.waitUntilExit()
            return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                          stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                          stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
        }
    }

    static func run(_ executable: String, _ arguments: [String], in dir: URL, environment: [String: String]? = nil) throws -> Result {
        try Child(executable, arguments, in: dir, environment: environment).wait()
    }

    static func vigil(_ arguments: [String], in dir: URL) throws -> Result { try run(vigil, arguments, in: dir) }

    /// `vigil replay INPUT --rules RULE --state DB --output jsonl:SINK --quiet`.
    static func replayArguments(input: String, state: String, sink: String, rules: String = rule) -> [String] {
        ["replay", input, "--rules", rules, "--state", state, "--output", "jsonl:" + sink, "--quiet"]
    }

    /// Runs scripts/chaos/gen-workload.py; returns (incidents, alerts) it promises.
    static func workload(into dir: URL, groups: Int, noise: Int, files: Int = 2) throws -> (incidents: Int, alerts: Int) {
        let script = PackageRoot.url.appendingPathComponent("scripts/chaos/gen-workload.py").path
        let r = try run(python!, [script, dir.path, "--groups", "\(groups)", "--noise", "\(noise)", "--files", "\(files)"], in: dir.deletingLastPathComponent())
        let info = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        return (info["incidents"] as! Int, info["alerts"] as! Int)
    }

    /// A JSON-lines sink: alert ids (with counts) and each incident's highest revision.
    struct SinkContents {
        var alerts: [String: Int] = [:]
        var incidents: [String: Int] = [:]
        var lines = 0
        var redelivered = 0

        init(path: String) throws {
            guard let data = FileManager.default.contents(atPath: path) else { return }
            var seen: [String: Int] = [:]
            for line in data.split(separator: 0x0A) where !line.isEmpty {
                let o = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                let id = o["id"] as? String ?? "", type = o["type"] as? String ?? ""
                let revision = (o["revision"] as? Int) ?? 0
                lines += 1
                seen["\(type)/\(id)/\(revision)", default: 0] += 1
                if type == "alert" { alerts[id, default: 0] += 1 }
                if type == "incident" { incidents[id] = max(incidents[id] ?? revision, revision) }
            }
            redelivered = seen.values.reduce(0) { $0 + max(0, $1 - 1) }
        }
    }

    static func temporaryDirectory(_ tag: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-chaos-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }
}
