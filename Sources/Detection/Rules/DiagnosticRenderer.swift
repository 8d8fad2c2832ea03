// Renders diagnostics the way compilers do: the location line, then the source line and a caret.
//
//   detections/network/nsg_open.yml:14:9: error[rule.unknown-modifier]: unknown modifier 'containz'
//      14 |         destinationPortRange|containz: '22'
//         |                              ^
import EventModel
import Foundation

public enum DiagnosticRenderer {
    /// The diagnostic with its source line and caret (the file is read from disk; `source` overrides).
    public static func render(_ d: Diagnostic, source: String? = nil) -> String {
        var out = d.description
        guard let line = d.location.line else { return out }
        let text = source ?? FileManager.default.contents(atPath: d.location.file).map { String(decoding: $0, as: UTF8.self) }
        guard let text else { return out }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return out }
        let src = String(lines[line - 1]).replacingOccurrences(of: "\r", with: "")
        let num = String(line)
        let gutter = String(repeating: " ", count: num.count)
        out += "\n \(num) | \(src)"
        if let col = d.location.column, col >= 1 {
            // Keep tabs so the caret lines up under tab-indented text.
            let prefix = src.prefix(col - 1).map { $0 == "\t" ? "\t" : " " }.joined()
            out += "\n \(gutter) | \(prefix)^"
        }
        return out
    }

    /// All diagnostics, rendered, errors and warnings counted at the end.
    public static func render(all diagnostics: [Diagnostic]) -> String {
        var cache: [String: String] = [:]
        var parts: [String] = []
        for d in diagnostics {
            if cache[d.location.file] == nil {
                cache[d.location.file] = FileManager.default.contents(atPath: d.location.file).map { String(decoding: $0, as: UTF8.self) } ?? ""
            }
            parts.append(render(d, source: cache[d.location.file]))
        }
        return parts.joined(separator: "\n")
    }

    public static func summary(_ diagnostics: [Diagnostic]) -> String {
        let e = diagnostics.filter { $0.level == .error }.count
        let w = diagnostics.filter { $0.level == .warning }.count
        return "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")"
    }
}
