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

    /// Collects events and diagnostics in arrays.
    public struct Collector: EventConsumer {
        public var events: [Event] = []
        public var diagnostics: [Diagnostic] = []
        public init() {}
        public mutating func event(_ event: Event) { events.append(event) }
        public mutating func diagnostic(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
    }
}
