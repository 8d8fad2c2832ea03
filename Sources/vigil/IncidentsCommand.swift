import ArgumentParser
import EventModel
import Foundation
import Incidents
import StateStore

/// `--state PATH`: where the state database lives.
struct StateDatabaseOptions: ParsableArguments {
    @Option(name: .customLong("state"), help: ArgumentHelp("State database file.", valueName: "path"))
    var path: String = StateDatabase.defaultPath

    /// Opens the existing database for browsing.
    func openForReading() throws -> StateDatabase {
        do { return try StateDatabase(path: path, readOnly: true) } catch let e as SQLiteError where e.kind == .cantOpen {
            throw ValidationError("no state database at \(path) (run 'vigil replay' or pass --state PATH)")
        }
    }

    func openForWriting() throws -> StateDatabase { try StateDatabase(path: path) }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json }

struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents", abstract: "Browse the incidents in the state database.",
        subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List incidents, most recent activity first.")
        @OptionGroup var state: StateDatabaseOptions
        @Option(help: "Lowest severity to show (informational, low, medium, high, critical).")
        var severity: String?
        @Option(help: "Only incidents active since TIME (ISO 8601, or a duration ago such as 24h, 7d).")
        var since: String?
        @Option(help: "Only incidents with an alert from this rule id.")
        var rule: String?
        @Option(help: "Only incidents with an entity containing this text (case-insensitive).")
        var entity: String?
        @Option(help: "At most this many incidents.")
        var limit: Int?
        @Option(help: "table, or json (one object per line).")
        var format: OutputFormat = .table

        func run() throws {
            var filter = IncidentFilter(ruleId: rule, entity: entity, limit: limit)
            if let severity {
                guard let s = Severity(lenient: severity) else { throw ValidationError("unknown severity '\(severity)'") }
                filter.minimumSeverity = s
            }
            if let since { filter.since = try parseSince(since) }
            let db = try state.openForReading()
            let incidents = try db.incidents(matching: filter)
            switch format {
            case .json:
                for i in incidents { print(IncidentJSON.incidentJSON(i, alerts: try db.alerts(ofIncident: i.id))) }
            case .table:
                var rows = [["ID", "SEVERITY", "STATUS", "REV", "ALERTS", "LAST ACTIVITY", "TITLE"]]
                for i in incidents {
                    rows.append([i.id, i.severity.rawValue, i.status.rawValue, String(i.revision), String(i.alertIds.count),
                                 i.lastActivity.iso8601, i.title])
                }
                printTable(rows)
                if incidents.isEmpty { print("(no incidents)") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one incident with its alerts and evidence.")
        @OptionGroup var state: StateDatabaseOptions
        @Argument(help: "Incident id.") var id: String
        @Option(help: "table, or json.") var format: OutputFormat = .table

        func run() throws {
            let db = try state.openForReading()
            guard let i = try db.incident(id: id) else { throw ValidationError("no incident \(id) in \(state.path)") }
            let alerts = try db.alerts(ofIncident: i.id)
            if format == .json {
                print(IncidentJSON.incidentJSON(i, alerts: alerts, withEvidence: Set(alerts.map(\.id))))
                return
            }
            print("Incident \(i.id) (revision \(i.revision))")
            print("Title:      \(i.title)")
            print("Severity:   \(i.severity.rawValue)    Status: \(i.status.rawValue)")
            print("Activity:   \(i.firstActivity.iso8601) .. \(i.lastActivity.iso8601)")
            if !i.tactics.isEmpty { print("Tactics:    \(i.tactics.joined(separator: ", "))") }
            if !i.techniques.isEmpty { print("Techniques: \(i.techniques.joined(separator: ", "))") }
            print("Entities:   \(i.entities.map(\.description).joined(separator: ", "))")
            print("\n\(i.description)\n")
            for a in alerts {
                print("Alert \(a.id)  [\(a.severity.rawValue)] \(a.ruleTitle) (rule \(a.ruleId)) at \(a.time.iso8601)")
                if let d = a.description { print("  \(d)") }
                print("  source: \(a.position)")
                for e in a.evidence { print("  evidence: \(e)") }
            }
        }
    }
}

/// `2025-03-04T09:00:00Z`, or `24h` / `7d` / `30m` / `90s` ago.
func parseSince(_ text: String, now: Date = Date()) throws -> EventTime {
    if let t = EventTime(parsing: text) { return t }
    let seconds = min(try parseDuration(text), 200 * 365 * 86_400)   // EventTime spans ±292 years
    return EventTime(seconds: Int64(now.timeIntervalSince1970) - Int64(seconds))
}

/// `90s`, `30m`, `24h`, `7d` (a bare number is seconds).
func parseDuration(_ text: String) throws -> Double {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
    var body = Substring(text.trimmingCharacters(in: .whitespaces))
    var scale = 1.0
    if let last = body.last, let u = units[Character(last.lowercased())] { scale = u; body = body.dropLast() }
    guard let n = Double(body), n >= 0 else {
        throw ValidationError("'\(text)' is not a duration (e.g. 90s, 30m, 24h, 7d) or an ISO 8601 time")
    }
    return n * scale
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
func printTable(_ rows: [[String]]) {
    guard let width = rows.first?.count else { return }
    var widths = [Int](repeating: 0, count: width)
    for r in rows { for (c, v) in r.enumerated() where c < width - 1 { widths[c] = max(widths[c], v.count) } }
    for r in rows {
        print(r.enumerated().map { c, v in c < width - 1 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0) : v }
            .joined(separator: "  "))
    }
}
