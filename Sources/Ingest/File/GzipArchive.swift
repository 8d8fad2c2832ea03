// Whole-file gzip inflation for archives dropped into a tailed tree.
// (EventDecoding's streaming reader will replace this once it lands; the contract is the same:
// all members, and "incomplete" distinguished from "corrupt".)
import CZlib

enum GzipArchive {
    enum Failure: Error, Equatable {
        /// The stream ends early: the file is probably still being copied in.
        case incomplete
        case corrupt(String)
    }

    static func isGzip(_ head: [UInt8]) -> Bool { head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B }

    /// Inflates every member of `data`.
    static func inflate(_ data: [UInt8]) throws(Failure) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)   // zlib keeps a back pointer: never &local
        stream.initialize(to: z_stream())
        defer { inflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
        guard czlib_inflate_init_gzip(stream) == Z_OK else { throw .corrupt("inflateInit failed") }
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 8)
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        let result: Failure? = data.withUnsafeBufferPointer { input -> Failure? in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            while true {
                let rc: Int32 = chunk.withUnsafeMutableBufferPointer { buf in
                    stream.pointee.next_out = buf.baseAddress
                    stream.pointee.avail_out = uInt(buf.count)
                    return CZlib.inflate(stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.pointee.avail_out)
                out.append(contentsOf: chunk[0..<produced])
                switch rc {
                case Z_STREAM_END:
                    if stream.pointee.avail_in == 0 { return nil }
                    // Another member follows (concatenated gzip files are valid gzip).
                    guard inflateReset(stream) == Z_OK else { return .corrupt("inflateReset failed") }
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    if stream.pointee.avail_in == 0 { return .incomplete }
                    continue
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                    return .corrupt(message)
                }
            }
        }
        if let result { throw result }
        return out
    }
}
