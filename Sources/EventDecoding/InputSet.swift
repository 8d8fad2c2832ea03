// Command-line paths → the files to read. `vigil replay` reads them side by side, merged by event
// time (Pipeline's MergedInput, which orders the files itself); readers that go one file after
// another, such as `vigil events`, keep the order given here.
//
// Files are taken as given, `-` is standard input, directories are walked recursively (hidden
// entries skipped). Inside a directory, files in the Azure storage-export layout
// (`…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`, under `insights-activity-logs/` or
// `insights-logs-<category>/`) come first, oldest hour first across all containers; other files
// follow, ordered by path. With `from`/`to`, whole export-hour files that cannot hold an event in
// range are skipped without being opened.
import EventModel
import Foundation

public struct InputFile: Sendable, Hashable, CustomStringConvertible {
    /// File path, or `-` for standard input.
    public var path: String
    /// Start of the hour an export blob covers, from its `y=/m=/d=/h=` path segments.
    public var exportHour: EventTime?

    public init(path: String, exportHour: EventTime? = nil) {
        self.path = path
        self.exportHour = exportHour
    }

    public static let standardInput = InputFile(path: "-")

    public var isStandardInput: Bool { path == "-" }
    public var description: String { path }
}

/// Paths that could not be used (missing, unreadable), all of them at once.
public struct InputSetError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

public struct InputSet: Sendable {
    public private(set) var files: [InputFile] = []
    /// Export-hour files left out because their hour cannot hold an event in [from, to).
    public private(set) var skippedByTime: [InputFile] = []

    /// How far an event's time may lie outside the hour of the blob it was written to (Azure writes
    /// events in the hour they were received; late arrivals and clock skew are common).
    public static let exportSlackSeconds: Int64 = 3600

    public init(paths: [String], from: EventTime? = nil, to: EventTime? = nil) throws(InputSetError) {
        var problems: [Diagnostic] = []
        var seen = Set<String>()
        let fm = FileManager.default
        func add(_ file: InputFile) {
            guard seen.insert(file.path).inserted else { return }
            if let hour = file.exportHour, !InputSet.hour(hour, mayOverlap: from, to) {
                skippedByTime.append(file)
            } else {
                files.append(file)
            }
        }
        for path in paths {
            if path == "-" { add(.standardInput); continue }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                problems.append(Diagnostic(.error, code: InputCode.notFound, "no such file or directory", at: SourceLocation(file: path)))
                continue
            }
            if !isDirectory.boolValue {
                add(InputFile(path: path, exportHour: InputSet.exportHour(ofPath: path)))
                continue
            }
            for file in InputSet.walk(path, problems: &problems) { add(file) }
        }
        if !problems.isEmpty { throw InputSetError(diagnostics: problems) }
    }

    /// The hour encoded by the last `y=YYYY/m=MM/d=DD/h=HH` run of segments in `path`, if any.
    public static func exportHour(ofPath path: String) -> EventTime? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 4 else { return nil }
        func value(_ segment: Substring, _ key: String, digits: ClosedRange<Int>) -> Int64? {
            guard segment.count > key.count + 1, segment.lowercased().hasPrefix(key + "=") else { return nil }
            let v = segment.dropFirst(key.count + 1)
            guard digits.contains(v.count), v.allSatisfy(\.isASCII), let n = Int64(v) else { return nil }
            return n
        }
        var k = parts.count - 4
        while k >= 0 {
            if let y = value(parts[k], "y", digits: 4...4), let mo = value(parts[k + 1], "m", digits: 1...2),
               let d = value(parts[k + 2], "d", digits: 1...2), let h = value(parts[k + 3], "h", digits: 1...2),
               (1...12).contains(mo), (1...31).contains(d), h < 24 {
                let days = EventTime.daysFromCivil(y, mo, d)
                return EventTime(seconds: days * 86_400 + h * 3600)
            }
            k -= 1
        }
        return nil
    }

    /// Whether an export blob for `hour` can hold an event in [from, to), allowing for slack.
    static func hour(_ hour: EventTime, mayOverlap from: EventTime?, _ to: EventTime?) -> Bool {
        if let from, hour.adding(seconds: 3600 + exportSlackSeconds) <= from { return false }
        if let to, hour.adding(seconds: -exportSlackSeconds) >= to { return false }
        return true
    }

    /// Every regular file under `root`: export-hour files by (hour, path), then the rest by path.
    private static func walk(_ root: String, problems: inout [Diagnostic]) -> [InputFile] {
        let url = URL(fileURLWithPath: root)
        let keys: [URLResourceKey] = [.isRegularFileKey]
        guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: keys,
                                                          options: [.skipsHiddenFiles]) else {
            problems.append(Diagnostic(.error, code: InputCode.unreadable, "cannot list directory", at: SourceLocation(file: root)))
            return []
        }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        let rootPath = url.standardizedFileURL.path
        var timed: [InputFile] = []
        var other: [InputFile] = []
        for case let item as URL in walker {
            guard (try? item.resourceValues(forKeys: Set(keys)))?.isRegularFile == true else { continue }
            // Keep the user's spelling of the root in the paths we report.
            var full = item.standardizedFileURL.path
            if full.hasPrefix(rootPath + "/") { full = prefix + full.dropFirst(rootPath.count + 1) }
            let file = InputFile(path: full, exportHour: exportHour(ofPath: String(full.dropFirst(prefix.count))))
            if file.exportHour != nil { timed.append(file) } else { other.append(file) }
        }
        timed.sort { a, b in
            if a.exportHour! != b.exportHour! { return a.exportHour! < b.exportHour! }
            return a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
        }
        other.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return timed + other
    }
}
