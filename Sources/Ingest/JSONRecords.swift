import EventDecoding
import EventModel
import FastJSON

/// One JSON text (a tailed line, a message body) into events, decoded exactly as `vigil replay`
/// decodes a file (`RecordReader.decode(message:)`): a `{"records":[…]}` envelope, a `value` list,
/// an array or one record, gzip included. So a record has the same id, hence the same alert ids,
/// whether it is tailed, consumed from Event Hubs or replayed later. Unreadable input and records
/// of unknown shape become diagnostics located at `base`, never silent drops.
public enum JSONRecords {
    public static func decode(_ bytes: [UInt8], at base: SourcePosition, normalizer: Normalizer,
                              into consumer: inout some EventConsumer) throws {
        var reader = RecordReader(options: ReaderOptions(normalizer: normalizer))
        try bytes.withUnsafeBytes { try reader.decode(message: $0, position: base, into: &consumer) }
    }

    /// A tailed line decoded as above; a multi-line document decoded as replay decodes that part of
    /// its file (each record at its own line and offset, with its index in the envelope or array);
    /// a stray span between documents reported once.
    public static func decode(_ line: TailLine, normalizer: Normalizer, into consumer: inout some EventConsumer) throws {
        switch line.kind {
        case .line:
            try decode(line.bytes, at: line.position, normalizer: normalizer, into: &consumer)
        case .document:
            var reader = RecordReader(options: ReaderOptions(normalizer: normalizer))
            try reader.read(bytes: line.bytes, name: line.path, line: line.lineNumber, offset: line.offset, into: &consumer)
        case .stray:
            consumer.diagnostic(Diagnostic(.error, code: InputCode.malformedJSON,
                                           "unexpected bytes after a JSON document (\(line.bytes.count) bytes, up to the next one): skipped",
                                           at: SourceLocation(file: line.path, line: line.lineNumber, offset: line.offset)))
        }
    }

    /// Collects events and diagnostics in arrays.
    public struct Collector: EventConsumer {
        public var events: [Event] = []
        public var diagnostics: [Diagnostic] = []
        public init() {}
        public mutating func event(_ event: Event) { events.append(event) }
        public mutating func diagnostic(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
    }
}
