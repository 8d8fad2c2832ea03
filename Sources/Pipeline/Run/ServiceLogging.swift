import Logging

/// Logs for the long-running commands: to standard error (standard output may carry JSON lines),
/// at `level`. Call once, before any logger is made.
public enum ServiceLogging {
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}
