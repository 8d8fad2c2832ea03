import Logging
import Synchronization

/// Keeps every line a `Logger` writes, in memory, so tests can check what was logged (and that no
/// secret ever was). Each line is level, message and metadata (the logger's merged with the call's).
public final class LogCapture: Sendable {
    public let lines = Mutex<[String]>([])

    public init() {}

    public var logger: Logger { Logger(label: "test") { _ in Handler(capture: self) } }
    public var text: String { lines.withLock { $0.joined(separator: "\n") } }
    public var count: Int { lines.withLock { $0.count } }

    public struct Handler: LogHandler {
        let capture: LogCapture
        public var metadata: Logger.Metadata = [:]
        public var logLevel: Logger.Level = .trace

        public init(capture: LogCapture) { self.capture = capture }

        public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                        file: String, function: String, line: UInt) {
            let merged = self.metadata.merging(metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append("\(level) \(message) \(merged)") }
        }
    }
}
