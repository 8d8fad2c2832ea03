import EventModel
import Foundation
import Yams

/// Reads only `id`, `title` and the `vigil.baseline` block (`{area: identity, controls: [IM-8]}`) of
/// the rules under a folder, for the coverage matrix.
///
/// Interim: the Detection module's rule loader owns rule parsing; once the coverage command and the
/// report can reach loaded rules, build `CoverageMatrix` from those and retire this scanner.
public enum RuleBaselineScanner {
    public struct Result: Sendable {
        public var rules: [CoverageMatrix.Rule]
        /// Located problems: unreadable YAML, a baseline block without an area or controls.
        public var diagnostics: [Diagnostic]
        /// Rule files (a `title` and a `detection`) that have no `vigil.baseline` block.
        public var rulesWithoutBaseline: [String]

        public init(rules: [CoverageMatrix.Rule] = [], diagnostics: [Diagnostic] = [], rulesWithoutBaseline: [String] = []) {
            self.rules = rules
            self.diagnostics = diagnostics
            self.rulesWithoutBaseline = rulesWithoutBaseline
        }
    }

    /// Every `*.yml` / `*.yaml` below `folder` except test files (`*.tests.yml`), in path order.
    public static func scan(folder: String) throws -> Result {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Diagnostic(.error, code: "rules.no-folder", "no rules folder here", at: SourceLocation(file: folder))
        }
        var files: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let relative = enumerator?.nextObject() as? String {
            let lower = relative.lowercased()
            guard lower.hasSuffix(".yml") || lower.hasSuffix(".yaml"), !lower.contains(".tests.") else { continue }
            files.append((folder as NSString).appendingPathComponent(relative))
        }
        var result = Result()
        for file in files.sorted() {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                result.diagnostics.append(Diagnostic(.error, code: "rules.unreadable", "cannot read this file as UTF-8",
                                                     at: SourceLocation(file: file)))
                continue
            }
            scan(text: text, file: file, into: &result)
        }
        return result
    }

    /// Scans one file's text (all its YAML documents).
    public static func scan(text: String, file: String, into result: inout Result) {
        do {
            var documents = try Yams.compose_all(yaml: text)
            while let document = documents.next() {
                guard let title = document["title"]?.string, document["detection"] != nil || document["correlation"] != nil
                else { continue }   // field maps, configs, test files
                let id = document["id"]?.string ?? title
                guard let baseline = document["vigil"]?["baseline"] else {
                    result.rulesWithoutBaseline.append(file)
                    continue
                }
                let at = SourceLocation(file: file, line: baseline.mark?.line, column: baseline.mark?.column)
                guard let area = baseline["area"]?.string, !area.isEmpty else {
                    result.diagnostics.append(Diagnostic(.error, code: "rule.baseline-area",
                                                         "vigil.baseline has no 'area'", at: at))
                    continue
                }
                let controlsNode = baseline["controls"]
                let controls = controlsNode?.sequence?.compactMap(\.string) ?? controlsNode?.string.map { [$0] } ?? []
                if controls.isEmpty {
                    result.diagnostics.append(Diagnostic(.error, code: "rule.baseline-controls",
                                                         "vigil.baseline has no 'controls'", at: at))
                    continue
                }
                result.rules.append(CoverageMatrix.Rule(id: id, title: title, area: area, controls: controls, file: file))
            }
            if let error = documents.error { throw error }
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _) {
            result.diagnostics.append(Diagnostic(.error, code: "rule.yaml", problem,
                                                 at: SourceLocation(file: file, line: mark.line, column: mark.column)))
        } catch {
            result.diagnostics.append(Diagnostic(.error, code: "rule.yaml", "\(error)", at: SourceLocation(file: file)))
        }
    }
}
