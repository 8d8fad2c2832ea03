// libFuzzer harness: the gzip + framing reader (JSON lines, envelopes, arrays, gzip members).
// Built by Fuzz/run.sh (never part of `swift build`).
import EventDecoding
import EventModel

struct Sink: EventConsumer {
    var events = 0
    var diagnostics = 0
    mutating func event(_ event: Event) throws { events += 1 }
    mutating func diagnostic(_ diagnostic: Diagnostic) {
        diagnostics += 1
        if diagnostic.location.file != "fuzz" { fatalError("diagnostic without the file: \(diagnostic)") }
    }
}

// Small chunks and a small line limit reach the refill and skip paths with small inputs.
// Built once: making a Normalizer per input would dominate the run time.
let options = [(509, 256), (1 << 16, 16 << 20)].map { chunk, limit in
    ReaderOptions(maxLineBytes: limit, chunkSize: chunk, normalizer: Normalizer(acceptsUnknownShapes: true))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for o in options {
        var reader = RecordReader(options: o)
        var sink = Sink()
        do { try reader.read(bytes: bytes, name: "fuzz", into: &sink) } catch { return 0 }
    }
    return 0
}
