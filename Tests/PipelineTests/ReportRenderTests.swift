import Foundation
import Pipeline
import TestSupport
import Testing

/// Renders a report in headless Chromium (Debian's `chromium`) through scripts/render-report.sh and
/// checks that a screenshot came out. Skips, saying so, when chromium is not installed. Set
/// VIGIL_REPORT_KEEP=/some/folder to keep the HTML and PNG for looking at.
@Suite struct ReportRenderTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: chromium != nil, "chromium is not installed: headless render skipped"), .timeLimit(.minutes(2)))
    func rendersInHeadlessChromium() throws {
        let folder = ReportTemporaryFolder()
        let html = HTMLReport.render(try ReportFixtures.demoModel(in: folder))
        let page = folder.path("report.html"), png = folder.path("report.png")
        try html.write(toFile: page, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = PackageRoot.url.appendingPathComponent("scripts/render-report.sh")
        process.arguments = [page, png, "1400x2600"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]))   // PNG signature
        // Width and height from the IHDR chunk: the requested window size.
        let be32 = { (o: Int) in data[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        #expect(be32(16) == 1400 && be32(20) == 2600)
        #expect(data.count > 50_000)   // a blank page compresses to a few KB

        if let keep = ProcessInfo.processInfo.environment["VIGIL_REPORT_KEEP"] {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            for name in ["report.html", "report.png", "demo.db"] {
                let target = (keep as NSString).appendingPathComponent(name)
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: folder.path(name), toPath: target)
            }
        }
    }
}
