import Foundation
import TestSupport
import Testing

/// `vigil report` writes its file private (0600), as the state database and the alerts file are:
/// it carries the alerts' evidence.
@Suite struct ReportCommandTests {
    @Test(.enabled(if: VigilBinary.exists, VigilBinary.skipReason))
    func theReportIsPrivate() throws {
        let folder = TemporaryFolder(prefix: "vigil-report")
        let state = folder.path("state.db"), out = folder.path("report.html")
        let sample = PackageRoot.url.appendingPathComponent("samples").path
        let replay = try VigilBinary.run(["replay", "--quiet", "--state", state, "--output", "jsonl:" + folder.path("a.jsonl"), sample])
        #expect(replay.status == 0, "\(replay.stderr)")
        let report = try VigilBinary.run(["report", "--state", state, "--out", out])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(fileMode(out).map { $0 & 0o777 } == 0o600)
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("<html"))
    }
}
