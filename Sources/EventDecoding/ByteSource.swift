// Byte streams the reader pulls from: a file descriptor, memory, and gzip over either.
//
// Contract: `read` fills up to `count` bytes and returns how many; 0 means the stream ended.
// A stream that ends because of a fault (truncated gzip, I/O error) says why in `failure`, after
// it has handed over every byte it could still produce, so nothing decodable is lost.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a byte stream stopped early. Becomes a located `Diagnostic` in the reader.
struct SourceFailure: Sendable {
    var code: String
    var message: String
}

protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int
    var failure: SourceFailure? { get }
    /// Bytes taken from the underlying file or memory (compressed bytes for gzip).
    var rawBytesRead: Int64 { get }
}

/// Reads a file descriptor with read(2). Owns the descriptor when `closeOnDeinit`.
final class FileDescriptorSource: ByteSource {
    let fd: Int32
    private let closeOnDeinit: Bool
    private(set) var failure: SourceFailure?
    private(set) var rawBytesRead: Int64 = 0

    init(fd: Int32, closeOnDeinit: Bool) {
        self.fd = fd
        self.closeOnDeinit = closeOnDeinit
    }

    deinit { if closeOnDeinit { close(fd) } }

    func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        guard failure == nil, count > 0 else { return 0 }
        while true {
            #if canImport(Glibc)
            let n = Glibc.read(fd, buffer, count)
            #else
            let n = Darwin.read(fd, buffer, count)
            #endif
            if n >= 0 {
                rawBytesRead += Int64(n)
                return n
            }
            if errno == EINTR { continue }
            failure = SourceFailure(code: InputCode.readError, message: "read failed: \(String(cString: strerror(errno)))")
            return 0
        }
    }
}

/// Serves bytes from memory (tests, in-memory payloads).
final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    var failure: SourceFailure? { nil }
    var rawBytesRead: Int64 { Int64(position) }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        let n = min(count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBufferPointer { src in
            buffer.update(from: src.baseAddress! + position, count: n)
        }
        position += n
        return n
    }
}

/// Hands out `prefix` (bytes already taken to sniff the format), then the rest of `upstream`.
final class PrefixedSource: ByteSource {
    private var prefix: [UInt8]
    private var position = 0
    private let upstream: ByteSource
    var failure: SourceFailure? { upstream.failure }
    var rawBytesRead: Int64 { upstream.rawBytesRead }

    init(prefix: [UInt8], upstream: ByteSource) {
        self.prefix = prefix
        self.upstream = upstream
    }

    func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        if position < prefix.count {
            let n = min(count, prefix.count - position)
            prefix.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress! + position, count: n) }
            position += n
            if position == prefix.count { prefix = []; position = 0 }
            return n
        }
        return upstream.read(into: buffer, count: count)
    }
}

enum ByteSources {
    /// Wraps `raw` so callers get decoded bytes: gzip (magic 1f 8b) is inflated, anything else
    /// passes through. Detection looks at content only, never at names.
    static func decoded(_ raw: ByteSource) -> ByteSource {
        var head = [UInt8](repeating: 0, count: 2)
        var n = 0
        head.withUnsafeMutableBufferPointer { buf in
            while n < 2 {
                let got = raw.read(into: buf.baseAddress! + n, count: 2 - n)
                if got == 0 { break }
                n += got
            }
        }
        let prefixed = PrefixedSource(prefix: Array(head[0..<n]), upstream: raw)
        // Bytes not read stay 0, which is no gzip magic.
        if GzipInflate.isGzip(head) { return GzipSource(upstream: prefixed) }
        return prefixed
    }
}
