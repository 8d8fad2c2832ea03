import ArgumentParser
import EventModel
import Foundation
import Pipeline

/// `vigil report`: one self-contained HTML file from the state database.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of incidents, alerts and baseline coverage.",
        discussion: """
        The file needs no network: CSS and charts are inline and it runs no script. It shows a timeline \
        of alerts (and events, when written by a replay), alerts per rule and severity, every incident with \
        its alerts, entities and evidence, and the baseline coverage matrix of the rules in --rules.
        """)

    @OptionGroup var state: StateDatabaseOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("HTML file to write.", valueName: "file.html"))
    var out: String = "vigil-report.html"
    @Option(help: "Only activity since TIME (ISO 8601, or a duration ago such as 24h, 7d).")
    var since: String?
    @Option(help: ArgumentHelp("Rules folder for the coverage matrix (default: detections/ when it exists).",
                               valueName: "dir"))
    var rules: String?
    @Option(help: "At most this many incidents, most recently active first.")
    var limit: Int = 200

    func run() throws {
        let sinceTime = try since.map { try parseSince($0) }
        let coverage = try loadCoverage()
        let db = try state.openForReading()
        let now = EventTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9))
        let model = try ReportModel(database: db, since: sinceTime, generatedAt: now,
                                    limits: .init(incidents: limit), coverage: coverage)
        let html = HTMLReport.render(model)
        do {
            try html.write(toFile: out, atomically: true, encoding: .utf8)
            // Private, as the state database and the alerts file are: the report carries evidence.
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: out)
        } catch {
            throw ValidationError("cannot write \(out): \(error.localizedDescription)")
        }
        print("wrote \(out): \(model.incidents.count) of \(model.totalIncidents) incidents, \(model.totalAlerts) alerts, "
            + "\(html.utf8.count / 1024) KiB")
    }

    /// The coverage matrix of `--rules`, or of detections/ when it exists; problems go to stderr.
    private func loadCoverage() throws -> CoverageMatrix? {
        let folder = rules ?? "detections"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            if let rules { throw ValidationError("no rules folder at \(rules)") }
            return nil
        }
        let scan = try RuleBaselineScanner.scan(folder: folder)
        for d in scan.diagnostics { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
        return CoverageMatrix(rules: scan.rules)
    }
}
