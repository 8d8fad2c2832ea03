import CZlib
import EventDecoding
import EventModel
import FastJSON
import Foundation

/// Collects what a reader hands on.
struct Collector: EventConsumer {
    var events: [Event] = []
    var diagnostics: [Diagnostic] = []

    mutating func event(_ event: Event) throws { events.append(event) }
    mutating func diagnostic(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    var codes: [String] { diagnostics.map(\.code) }
}

struct ReadResult {
    var events: [Event]
    var diagnostics: [Diagnostic]
    var stats: ReadStats
    var codes: [String] { diagnostics.map(\.code) }
    /// Each event's record as compact JSON.
    var records: [String] { events.map { $0.record.root.jsonText } }
}

/// Chunk sizes every format is read with: one byte at a time (every boundary), small, default.
let chunkSizes = [1, 7, 4 << 20]

func read(_ bytes: [UInt8], name: String = "input", chunkSize: Int = 4 << 20, maxLineBytes: Int = ReaderOptions.defaultMaxLineBytes) throws -> ReadResult {
    // The framing tests use small non-Azure records: keep them as unknown-shape events.
    var reader = RecordReader(options: ReaderOptions(maxLineBytes: maxLineBytes, chunkSize: chunkSize, normalizer: Normalizer(acceptsUnknownShapes: true)))
    var c = Collector()
    try reader.read(bytes: bytes, name: name, into: &c)
    return ReadResult(events: c.events, diagnostics: c.diagnostics, stats: reader.stats)
}

func read(_ text: String, name: String = "input", chunkSize: Int = 4 << 20, maxLineBytes: Int = ReaderOptions.defaultMaxLineBytes) throws -> ReadResult {
    try read(Array(text.utf8), name: name, chunkSize: chunkSize, maxLineBytes: maxLineBytes)
}

func hash(_ text: String) -> UInt64 { fastHash64(text) }

/// gzip of `bytes` as one member (tests build multi-member streams by concatenating these).
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer { deflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
    precondition(czlib_deflate_init_gzip(stream, 6) == Z_OK)
    var input = bytes
    var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(bytes.count))) + 64)
    let produced = input.withUnsafeMutableBufferPointer { inBuf in
        out.withUnsafeMutableBufferPointer { outBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = UInt32(inBuf.count)
            stream.pointee.next_out = outBuf.baseAddress
            stream.pointee.avail_out = UInt32(outBuf.count)
            precondition(deflate(stream, Z_FINISH) == Z_STREAM_END)
            return outBuf.count - Int(stream.pointee.avail_out)
        }
    }
    return Array(out[0..<produced])
}

func gzip(_ text: String) -> [UInt8] { gzip(Array(text.utf8)) }

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-decode-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
