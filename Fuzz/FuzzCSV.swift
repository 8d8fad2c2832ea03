// libFuzzer harness: the CSV reader. A header line is prepended so the sniffer always picks CSV.
// Built by Fuzz/run.sh (never part of `swift build`).
import EventDecoding
import EventModel

struct Sink: EventConsumer {
    mutating func event(_ event: Event) throws { _ = event.record.root.jsonText }
    mutating func diagnostic(_ diagnostic: Diagnostic) {}
}

let options = [61, 1 << 16].map { ReaderOptions(maxLineBytes: 512, chunkSize: $0, normalizer: Normalizer(acceptsUnknownShapes: true)) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array("TimeGenerated,OperationName,Caller,\"Properties\"\n".utf8) + Array(UnsafeBufferPointer(start: data, count: size))
    for o in options {
        var reader = RecordReader(options: o)
        var sink = Sink()
        do { try reader.read(bytes: bytes, name: "fuzz.csv", into: &sink) } catch { return 0 }
    }
    return 0
}
