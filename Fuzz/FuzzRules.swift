// libFuzzer harness: the Sigma rule parser (YAML → ParsedRule with located diagnostics).
// Built by Fuzz/run.sh (never part of `swift build`).
import Detection

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (rules, diagnostics) = RuleLoader.parse(text: text, file: "fuzz.yml")
    for d in diagnostics { _ = d.description }
    _ = rules.count
    return 0
}
