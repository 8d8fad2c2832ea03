import FastJSON
import Glibc
import Logging

/// Logs for the long-running commands, to standard error (standard output may carry JSON lines):
/// text on a terminal, JSON lines otherwise (`log.format: auto`), or as forced. Call once, before
/// any logger is made.
public enum ServiceLogging {
    public static func bootstrap(level: Logger.Level, format: VigilConfig.LogSettings.Format = .text) {
        let json = format == .json || (format == .auto && isatty(2) == 0)
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, logLevel: level) }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
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

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        var all = metadata
        if let extra { all.merge(extra) { $1 } }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var w = JSONWriter()
        w.beginObject()
        w.key("ts"); w.writeString(EventTimeText.iso(seconds: Int64(ts.tv_sec), millis: Int(ts.tv_nsec / 1_000_000))); w.comma()
        w.key("level"); w.writeString(level.rawValue); w.comma()
        w.key("logger"); w.writeString(label); w.comma()
        w.key("msg"); w.writeString(message.description)
        for (k, v) in all.sorted(by: { $0.key < $1.key }) {
            w.comma()
            w.key(k); w.writeString("\(v)")
        }
        w.endObject()
        StandardStreams.writeError(w.text + "\n")
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
