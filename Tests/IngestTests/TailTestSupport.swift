import Logging
import Foundation
import Testing
@testable import Ingest

/// A scratch directory and a tail source over it, with helpers to write like a live exporter does.
final class TailFixture {
    let dir: String
    let store: InMemoryCheckpointStore

    init(_ name: String = #function, store: InMemoryCheckpointStore = InMemoryCheckpointStore()) {
        let base = FileManager.default.temporaryDirectory.path
        dir = "\(base)/vigil-tail-\(name.filter { $0.isLetter || $0.isNumber })-\(UInt32.random(in: 0...UInt32.max))"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.store = store
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    static func configuration(_ start: TailConfiguration.StartPosition = .beginning, inotify: Bool = true) -> TailConfiguration {
        var c = TailConfiguration(startPosition: start)
        c.pollInterval = .milliseconds(20)
        c.rescanInterval = .milliseconds(100)
        c.closeRemovedAfter = .milliseconds(150)
        c.useInotify = inotify
        return c
    }

    func source(_ start: TailConfiguration.StartPosition = .beginning, inotify: Bool = true, paths: [String]? = nil,
                logger: Logger = Logger(label: "vigil.tail"), configure: (inout TailConfiguration) -> Void = { _ in }) -> TailSource {
        var configuration = Self.configuration(start, inotify: inotify)
        configure(&configuration)
        return TailSource(paths: paths ?? [dir], configuration: configuration, checkpoints: store, logger: logger)
    }

    func path(_ relative: String) -> String { "\(dir)/\(relative)" }

    func write(_ relative: String, _ text: String) {
        let p = path(relative)
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: p))
    }

    func append(_ relative: String, _ text: String) {
        let h = FileHandle(forWritingAtPath: path(relative))!
        h.seekToEndOfFile()
        h.write(Data(text.utf8))
        try! h.close()
    }

    func truncate(_ relative: String, to size: UInt64 = 0) {
        let h = FileHandle(forWritingAtPath: path(relative))!
        try! h.truncate(atOffset: size)
        try! h.close()
    }

    func rename(_ from: String, _ to: String) { try! FileManager.default.moveItem(atPath: path(from), toPath: path(to)) }
    func remove(_ relative: String) { try! FileManager.default.removeItem(atPath: path(relative)) }
    func copy(_ from: String, _ to: String) { try! FileManager.default.copyItem(atPath: path(from), toPath: path(to)) }

    func inode(_ relative: String) -> UInt64 {
        (try! FileManager.default.attributesOfItem(atPath: path(relative))[.systemFileNumber] as! NSNumber).uint64Value
    }

    /// Writes `text` gzip-compressed (through the system gzip, as an exporter would).
    func writeGzip(_ relative: String, _ text: String) throws {
        let hidden = path("." + relative.replacingOccurrences(of: "/", with: "_"))
        let plain = hidden + ".plain"
        try FileManager.default.createDirectory(atPath: (path(relative) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: plain))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c", plain]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try FileManager.default.removeItem(atPath: plain)
        // Write under a hidden name, then rename: how archives are dropped in atomically.
        try data.write(to: URL(fileURLWithPath: hidden))
        try FileManager.default.moveItem(atPath: hidden, toPath: path(relative))
    }
}

extension TailLine {
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Polls until `count` lines arrived or `timeout` passed.
func collect(_ source: TailSource, count: Int, timeout: Duration = .seconds(5)) throws -> [TailLine] {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var lines: [TailLine] = []
    while lines.count < count && clock.now < deadline {
        let got = try source.poll(maxLines: 1000)
        lines += got
        if got.isEmpty { source.wait(timeout: .milliseconds(50)) }
    }
    return lines
}

/// Polls for `duration`, returning whatever arrived (expected: nothing more).
func settle(_ source: TailSource, for duration: Duration = .milliseconds(400)) throws -> [TailLine] {
    try collect(source, count: Int.max, timeout: duration)
}
