// gzip decoding over zlib: the only place in this module that touches z_stream.
//
// Concatenated members (what `cat a.gz b.gz` and Azure's append-style writers produce) decode to
// the joined text: after Z_STREAM_END the stream is reset for the next member. Zero padding after
// the last member is ignored. A stream that stops inside a member is "truncated"; a zlib data
// error or non-gzip bytes after a member is "corrupt". Either way, everything inflated before the
// fault is handed over first.
import CZlib

final class GzipSource: ByteSource {
    private let upstream: ByteSource
    /// zlib keeps a back pointer to its stream, so the z_stream must never move: heap-allocated.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity = 1 << 18
    private var inputEOF = false
    /// Between members: the previous one ended (or none began yet) and the next header is pending.
    private var betweenMembers = true
    private var started = false
    private var finished = false
    private(set) var failure: SourceFailure?
    private(set) var members = 0
    /// Compressed bytes consumed by zlib (for error messages).
    private var compressedConsumed: Int64 = 0

    var rawBytesRead: Int64 { upstream.rawBytesRead }

    init(upstream: ByteSource) {
        self.upstream = upstream
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(capacity: inputCapacity)
    }

    deinit {
        if started { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    /// Moves unread input to the front and reads more. False when the upstream has ended.
    private func fillInput() -> Bool {
        guard !inputEOF else { return false }
        let pending = Int(stream.pointee.avail_in)
        if pending > 0, let next = stream.pointee.next_in, next != input {
            input.update(from: next, count: pending)
        }
        let n = upstream.read(into: input + pending, count: inputCapacity - pending)
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(pending + n)
        if n == 0 { inputEOF = true }
        return n > 0
    }

    private func fail(_ code: String, _ message: String) {
        failure = SourceFailure(code: code, message: message)
        finished = true
    }

    /// At a member boundary: skips zero padding, then expects the next member's magic bytes.
    /// Returns false when the stream ended cleanly or failed.
    private func beginNextMember() -> Bool {
        while true {
            while stream.pointee.avail_in > 0, stream.pointee.next_in.pointee == 0 {
                stream.pointee.next_in += 1
                stream.pointee.avail_in -= 1
                compressedConsumed += 1
            }
            if stream.pointee.avail_in >= 2 { break }
            if !fillInput() {
                if stream.pointee.avail_in == 0 {
                    if members == 0 { fail(InputCode.truncatedGzip, "gzip stream ends inside the header") } else { finished = true }
                    return false
                }
                if stream.pointee.avail_in == 1 {
                    fail(InputCode.truncatedGzip, "gzip stream ends inside a member header at compressed byte \(compressedConsumed)")
                    return false
                }
            }
        }
        let p = stream.pointee.next_in!
        guard p[0] == 0x1F, p[1] == 0x8B else {
            fail(InputCode.corruptGzip, "bytes after gzip member \(members) at compressed byte \(compressedConsumed) are not gzip")
            return false
        }
        let rc = started ? inflateReset(stream) : czlib_inflate_init_gzip(stream)
        guard rc == Z_OK else {
            fail(InputCode.corruptGzip, "zlib could not start a member (code \(rc))")
            return false
        }
        started = true
        betweenMembers = false
        return true
    }

    func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        guard !finished, count > 0 else { return 0 }
        stream.pointee.next_out = buffer
        stream.pointee.avail_out = UInt32(min(count, Int(UInt32.max)))
        let initial = Int(stream.pointee.avail_out)
        while stream.pointee.avail_out > 0 {
            if betweenMembers {
                // Hand over what this call produced before looking for another member.
                if Int(stream.pointee.avail_out) < initial { break }
                if !beginNextMember() { break }
            }
            if stream.pointee.avail_in == 0, !fillInput() {
                fail(InputCode.truncatedGzip, "gzip stream ends inside member \(members + 1) (compressed size \(compressedConsumed) bytes)")
                break
            }
            let before = stream.pointee.avail_in
            let rc = inflate(stream, Z_NO_FLUSH)
            compressedConsumed += Int64(before - stream.pointee.avail_in)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                members += 1
                betweenMembers = true
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                fail(InputCode.corruptGzip, "corrupt gzip data in member \(members + 1) near compressed byte \(compressedConsumed): \(reason)")
            }
            if finished { break }
        }
        return initial - Int(stream.pointee.avail_out)
    }
}

/// Whole-buffer gzip inflation, for callers that hold a complete archive in memory (archives
/// dropped into a tailed tree): the same decoder as the streaming reader, so the same contract —
/// every member, zero padding after the last ignored, and a stream that stops early told apart
/// from a corrupt one.
public enum GzipInflate {
    public enum Failure: Error, Equatable {
        /// The stream ends inside a member or its header: the file is probably still being copied in.
        case incomplete
        /// Not gzip, or damaged data; the message says where.
        case corrupt(String)
    }

    /// gzip's magic bytes.
    public static func isGzip(_ head: [UInt8]) -> Bool { head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B }

    /// Inflates every member of `data`.
    public static func all(_ data: [UInt8]) throws(Failure) -> [UInt8] {
        let source = GzipSource(upstream: MemorySource(data))
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 8)
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        while true {
            let n = chunk.withUnsafeMutableBufferPointer { source.read(into: $0.baseAddress!, count: $0.count) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        if let failure = source.failure {
            throw failure.code == InputCode.truncatedGzip ? .incomplete : .corrupt(failure.message)
        }
        return out
    }
}
