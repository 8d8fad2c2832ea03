// libFuzzer harness: FastJSON parse → path lookups → writer round trip.
// Built by Fuzz/run.sh (never part of `swift build`).
import FastJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let doc = try? JSONDocument.parse(bytes) else { return 0 }
    let root = doc.root
    // Lookups: dotted keys, case folding, JSON inside strings.
    for path in ["a", "A.b", "properties.statusCode", "identity.claims.appid", "records", "x.y.z.w", ""] {
        _ = JSONPathLookup.values(at: path, in: root).map(\.scalarText)
        _ = JSONPathLookup.first(at: path, in: root)?.string
    }
    // Round trip: what the writer prints parses back to the same text.
    var w = JSONWriter()
    w.write(root)
    let again: JSONDocument
    do { again = try JSONDocument.parse(w.bytes) } catch {
        fatalError("writer output does not parse: \(String(decoding: w.bytes, as: UTF8.self))")
    }
    var w2 = JSONWriter()
    w2.write(again.root)
    if w.bytes != w2.bytes { fatalError("round trip is not stable") }
    return 0
}
