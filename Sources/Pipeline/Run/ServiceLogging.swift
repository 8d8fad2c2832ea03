import EventModel
import FastJSON
import Glibc
import Logging

/// Logs for the long-running commands, to standard error (standard output may carry JSON lines):
/// text on a terminal, JSON lines otherwise (`log.format: auto`), or as forced. Call once, before
/// any logger is made.
public enum ServiceLogging {
    /// Whether the logs are JSON lines (set once by `bootstrap`, before any thread starts): the
    /// diagnostics the service writes to standard error are then JSON lines too (`line(for:)`),
    /// so a log collector reading standard error never meets a line it cannot parse.
    nonisolated(unsafe) public private(set) static var writesJSON = false

    public static func bootstrap(level: Logger.Level, format: VigilConfig.LogSettings.Format = .text) {
        let json = isJSON(format)
        writesJSON = json
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, logLevel: level) }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }

    /// JSON lines under `format`: `auto` means JSON when standard error is no terminal.
    private static func isJSON(_ format: VigilConfig.LogSettings.Format) -> Bool {
        format == .json || (format == .auto && isatty(2) == 0)
    }
}

extension ServiceLogging {
    /// How the service writes a diagnostic to standard error: `file:line: level[code]: message`,
    /// or, when the logs are JSON lines, a log line of logger `vigil.diagnostics` whose message is
    /// the diagnostic's, with its code and location as fields.
    public static func line(for d: Diagnostic) -> String {
        guard writesJSON else { return "\(d)" }
        return JSONLogHandler.line(level: logLevel(of: d.level), logger: diagnosticsLogger, message: d.message) { w in
            w.comma(); w.key("code"); w.writeString(d.code)
            w.comma(); w.key("file"); w.writeString(d.location.file)
            if let line = d.location.line { w.comma(); w.key("line"); w.raw(String(line)) }
            if let column = d.location.column { w.comma(); w.key("column"); w.raw(String(column)) }
            if let offset = d.location.offset { w.comma(); w.key("offset"); w.raw(String(offset)) }
        }
    }

    /// What stops the service before `bootstrap` (its config could not be read, so its
    /// `log.format` is unknown), written as the default format (`auto`) would: JSON when standard
    /// error is no terminal.
    public static func startupLine(_ text: String) -> String {
        isJSON(.auto) ? jsonLine(text, level: .critical) : text
    }

    /// A message of the service's own (not a diagnostic) as `line(for:)` writes it.
    public static func line(_ text: String, level: Logger.Level) -> String {
        writesJSON ? jsonLine(text, level: level) : text
    }

    /// The logger of what the service writes to standard error itself (not through a `Logger`).
    private static let diagnosticsLogger = "vigil.diagnostics"

    private static func jsonLine(_ text: String, level: Logger.Level) -> String {
        JSONLogHandler.line(level: level, logger: diagnosticsLogger, message: text) { _ in }
    }

    static func logLevel(of level: Diagnostic.Level) -> Logger.Level {
        switch level {
        case .error: return .error
        case .warning: return .warning
        case .note: return .notice
        }
    }
}

/// One JSON object per line: `{"ts":…,"level":…,"logger":…,"msg":…,<metadata>}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let line = Self.line(level: event.level, logger: label, message: event.message.description) { w in
            for (k, v) in all.sorted(by: { $0.key < $1.key }) {
                w.comma()
                w.key(k); w.writeString("\(v)")
            }
        }
        StandardStreams.writeError(line + "\n")
    }

    /// `{"ts":…,"level":…,"logger":…,"msg":…` then what `fields` writes (each field after a comma).
    static func line(level: Logger.Level, logger: String, message: String, fields: (inout JSONWriter) -> Void) -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var w = JSONWriter()
        w.beginObject()
        w.key("ts"); w.writeString(EventTimeText.iso(seconds: Int64(ts.tv_sec), millis: Int(ts.tv_nsec / 1_000_000))); w.comma()
        w.key("level"); w.writeString(level.rawValue); w.comma()
        w.key("logger"); w.writeString(logger); w.comma()
        w.key("msg"); w.writeString(message)
        fields(&w)
        w.endObject()
        return w.text
    }
}

enum EventTimeText {
    /// `2026-11-03T14:05:09.123Z`.
    static func iso(seconds: Int64, millis: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
