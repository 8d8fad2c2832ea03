import Foundation
import TestSupport
import Testing

/// Vigil against an independent Sigma implementation: scripts/sigma-crosscheck.py runs pySigma's SQLite
/// backend and `vigil replay` on the same corpus events and compares the (rule id, event id) sets.
/// Skips, saying why, without the corpus, the built binary, python3 or pySigma.
@Suite struct ConformanceTests {
    static let vigil = PackageRoot.url.appendingPathComponent(".build/debug/vigil").path
    static let script = PackageRoot.url.appendingPathComponent("scripts/sigma-crosscheck.py").path

    struct Output { var status: Int32; var stdout: String }

    /// Runs `python3 ARGS`, output to a file (a pipe could stall a large output); nil when python3 cannot start.
    static func python(_ arguments: [String]) -> Output? {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: out) }
        guard FileManager.default.createFile(atPath: out.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: out) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + arguments
        p.standardOutput = handle
        p.standardError = handle
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        try? handle.close()
        return Output(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }

    /// Why the cross-check cannot run here, or nil when it can.
    static func skipReason() -> String? {
        guard let corpus = Corpus.root else { return Corpus.skipReason }
        guard FileManager.default.fileExists(atPath: corpus.appendingPathComponent("rules/sigma").path) else { return "no rules/sigma in the corpus: cross-check skipped" }
        guard FileManager.default.isExecutableFile(atPath: vigil) else { return "no .build/debug/vigil (run `swift build`): cross-check skipped" }
        guard let probe = python(["-c", "import sigma.backends.sqlite"]) else { return "python3 not found: cross-check skipped" }
        guard probe.status == 0 else { return "pySigma missing (pip install pysigma pysigma-backend-sqlite): cross-check skipped" }
        return nil
    }

    /// Typed fields from Vigil's normaliser on both sides, or (`--typed-from-raw`) read by the script
    /// from the raw record, which checks the normaliser as well.
    @Test(arguments: [[], ["--typed-from-raw"]])
    func vigilAndPySigmaMatchTheSameCorpusEvents(extra: [String]) throws {
        if let why = Self.skipReason() {
            print(why)
            return
        }
        let corpus = try #require(Corpus.root)
        let r = try #require(Self.python([Self.script, "--vigil", Self.vigil, "--corpus", corpus.path] + extra))
        #expect(r.status == 0, "\(r.stdout.suffix(4000))")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.last == "identical", "\(lines.suffix(20))")
        // The comparison covered something: all 91 SigmaHQ rules convert (rules-placeholder with the
        // script's site values) and both sides found the same non-empty set of matches.
        let compared = try #require(lines.first { $0.hasPrefix("rules: ") })
        #expect(compared.contains("converted by pySigma and compared: 91"), "\(compared)")
        let matches = try #require(lines.first { $0.hasPrefix("matches: ") })
        let numbers = matches.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count >= 4 && numbers[0] == numbers[2] && numbers[0] > 0, "\(matches)")
    }
}
