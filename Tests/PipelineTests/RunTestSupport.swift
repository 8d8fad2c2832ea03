import Foundation
import Glibc
@testable import Pipeline
import StateStore
import TestSupport
import Testing

/// Shared pieces of the run/tail tests: the sample export tree as lines, a temp folder, reading
/// the JSONL sink, and a tiny HTTP GET.
enum RunFixture {
    static let samples = PackageRoot.url.appendingPathComponent("samples/export/insights-activity-logs")
    static let detections = PackageRoot.url.appendingPathComponent("detections")

    /// The stateless rule folders (anomaly rules learn baselines, which depend on arrival order).
    static var rulePaths: [String] {
        let dirs = (try? FileManager.default.contentsOfDirectory(atPath: detections.path)) ?? []
        return dirs.sorted().filter { $0 != "anomaly" }.map { detections.appendingPathComponent($0).path }
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && d.boolValue }
    }

    /// The pack's stateless rules only — no correlations, no anomaly rules, no rules on assembled
    /// operations (`category: operation`) — copied into `dir/stateless`; returns that folder.
    static func statelessRules(in dir: String) throws -> String {
        let fm = FileManager.default
        let out = "\(dir)/stateless"
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        for folder in rulePaths where !folder.hasSuffix("/correlations") {
            for name in try fm.contentsOfDirectory(atPath: folder) where name.hasSuffix(".yml") && !name.hasSuffix(".tests.yml") {
                let text = try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)
                if !text.contains("category: operation") { try text.write(toFile: "\(out)/\(name)", atomically: true, encoding: .utf8) }
            }
        }
        return out
    }

    /// Every sample activity-log file: its path under the tree and its lines, oldest hour first.
    static func sampleFiles() throws -> [(relative: String, lines: [String])] {
        let root = samples.path
        var out: [(String, [String])] = []
        let e = FileManager.default.enumerator(atPath: root)
        while let rel = e?.nextObject() as? String {
            guard rel.hasSuffix("PT1H.json") else { continue }
            let text = try String(contentsOfFile: root + "/" + rel, encoding: .utf8)
            out.append(("insights-activity-logs/" + rel, text.split(separator: "\n").map(String.init)))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// A record far in the future: with lateness 0 it moves the watermark past every sample event.
    static func tickLine(_ template: String) -> String {
        guard let r = template.range(of: #""time":"[^"]*""#, options: .regularExpression) else { return template }
        return template.replacingCharacters(in: r, with: #""time":"2030-01-01T00:00:00Z""#)
    }

    static var tickRelative: String { "insights-activity-logs/zz-tick/PT1H.json" }

    /// The test config: stateless sample rules, lateness 0, one source (a file tree, or `source`).
    static func config(tree: String = "", state: String, jsonl: String, metricsPort: Int = 0, metrics: Bool = true,
                       source: String? = nil) -> String {
        """
        state: {path: "\(state)"}
        rules:
          paths: [\(rulePaths.map { "\"\($0)\"" }.joined(separator: ", "))]
          fieldmap: "\(detections.path)/fieldmap.yml"
        detection: {lateness: 0, batch_events: 50}
        sources:
          - \(source ?? "{type: file, name: exports, paths: [\"\(tree)\"], poll_interval: 100ms, rescan_interval: 200ms}")
        sinks:
          out: {type: jsonl, path: "\(jsonl)"}
        outbox: {poll_interval: 100ms, shutdown_drain: 5s}
        metrics: {enabled: \(metrics), listen: "127.0.0.1:\(metricsPort)"}
        """
    }

    /// An Event Hubs source on `bootstrap` (a mock cluster) with extra `{key: value}` settings.
    static func kafkaSource(_ bootstrap: String, group: String, extra: String = "") -> String {
        "{type: eventhubs, name: hub, bootstrap_servers: \"\(bootstrap)\", hubs: [activity], consumer_group: \(group)\(extra.isEmpty ? "" : ", " + extra)}"
    }

    static func append(_ lines: [String], to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// (kind, id) of every row the JSONL sink wrote, in order (repeats kept).
    static func rows(_ path: String) -> [(kind: String, id: String)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let kind = o["type"] as? String, let id = o["id"] as? String else { return nil }
            return (kind, id)
        }
    }

    static func alertIds(_ path: String) -> Set<String> { Set(rows(path).filter { $0.kind == "alert" }.map(\.id)) }

    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    static func temporaryFolder() throws -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    /// GET over a plain socket: (status code, body).
    static func httpGet(port: UInt16, path: String) -> (Int, String)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n"), let code = Int(text.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return (code, String(text[head.upperBound...]))
    }
}

/// Runs a `RunService` on its own thread until `stop`.
final class BackgroundRun: @unchecked Sendable {
    let service: RunService
    let stop = StopFlag()
    let done = StopFlag()
    var summary: RunSummary?
    var error: (any Error)?
    /// CPU seconds the service's loop thread used (set when it returns): unlike the process's CPU,
    /// it does not count the tests running beside this one.
    var loopCPUSeconds: Double?

    init(_ service: RunService) {
        self.service = service
        let t = Thread { [self] in
            do { summary = try self.service.run(until: stop) } catch { self.error = error }
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            loopCPUSeconds = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
            done.set()
        }
        t.start()
    }

    func finish() -> Bool {
        stop.set()
        return done.wait(timeoutSeconds: 30)
    }
}

/// Builds the in-process service from a config text.
func makeService(_ yaml: String, metrics: RunMetrics = RunMetrics(),
                 adjust: (inout RunOptions) -> Void = { _ in }) throws -> (RunService, StateDatabase, VigilConfig) {
    let config = try VigilConfig.parse(yaml: yaml, environment: [:])
    let rules = try RuleSetup.load(ruleDirectories: config.rules.paths ?? [], fieldMapPath: config.rules.fieldmap, database: nil)
    #expect(!rules.hasErrors)
    let database = try StateDatabase(path: config.statePath!)
    var options = RunOptions(config: config)
    adjust(&options)
    let service = try RunService(sources: config.sources, rules: rules, database: database, sinks: try config.makeSinks(),
                                 options: options, metrics: metrics)
    return (service, database, config)
}
