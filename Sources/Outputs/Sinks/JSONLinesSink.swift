import EventModel
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes each outbox item's payload as one JSON line, to a file or to standard output (the default
/// sink). A file is opened for append (created 0600) and fsynced after every batch, so `deliver`
/// returns only once the lines are on disk.
public final class JSONLinesSink: Sink, @unchecked Sendable {
    public enum Destination: Sendable, Hashable {
        case standardOutput
        case file(String)
    }

    public let name: String
    public let maxBatch: Int
    public let destination: Destination
    private let lock = NSLock()
    private var fd: Int32

    public init(name: String = "jsonl", destination: Destination = .standardOutput, maxBatch: Int = 500) throws {
        self.name = name
        self.destination = destination
        self.maxBatch = maxBatch
        switch destination {
        case .standardOutput:
            fd = STDOUT_FILENO
        case .file(let path):
            JSONLinesSink.createParentDirectories(of: path)
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 {
                throw DeliveryError(.permanent, "\(name): cannot open \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// `mkdir -p` of the file's folder (0700), so `--output jsonl:out/alerts.jsonl` just works.
    static func createParentDirectories(of path: String) {
        var prefix = ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        for (i, part) in parts.enumerated() {
            prefix += (i == 0 ? "" : "/") + part
            if !part.isEmpty { mkdir(prefix, 0o700) }
        }
    }

    deinit {
        if case .file = destination, fd >= 0 { _ = closeFD(fd) }
    }

    private var target: String {
        switch destination {
        case .standardOutput: return "standard output"
        case .file(let path): return path
        }
    }

    public func deliver(_ batch: [OutboxItem]) throws(DeliveryError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.reduce(0) { $0 + $1.payload.utf8.count + 1 })
        for item in batch {
            // A payload is one JSON value; raw line breaks can only be whitespace between tokens.
            // Copied whole, then any line break in the copy is blanked (payloads we write have none).
            var payload = item.payload
            payload.withUTF8 { text in
                let start = bytes.count
                bytes.append(contentsOf: text)
                if text.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
                    for i in start..<bytes.count where bytes[i] == 0x0A || bytes[i] == 0x0D { bytes[i] = 0x20 }
                }
            }
            bytes.append(0x0A)
        }
        lock.lock(); defer { lock.unlock() }
        guard fd >= 0 else { throw DeliveryError(.retry(retryAfter: nil), "\(name): \(target) is closed") }
        // A failed batch (a full disk) must not leave a torn line for the retry to append after:
        // cut the file back to where the batch began.
        var isFile = false
        if case .file = destination { isFile = true }
        let start = isFile ? lseek(fd, 0, SEEK_END) : -1
        func fail(_ what: String) -> DeliveryError {
            let reason = "\(name): \(what) \(target) failed: \(String(cString: strerror(errno)))"
            if start >= 0 { _ = ftruncate(fd, start) }
            return DeliveryError(.retry(retryAfter: nil), reason)
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write to")
            }
            written += n
        }
        if isFile, fsync(fd) != 0 { throw fail("fsync of") }
    }

    public func close() throws {
        lock.lock(); defer { lock.unlock() }
        guard case .file(let path) = destination, fd >= 0 else { return }
        let rc = closeFD(fd)
        fd = -1
        if rc != 0 { throw DeliveryError(.permanent, "\(name): closing \(path) failed: \(String(cString: strerror(errno)))") }
    }

    private func closeFD(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.close(fd)
        #else
        return Darwin.close(fd)
        #endif
    }
}
