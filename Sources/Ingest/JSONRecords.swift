import EventDecoding
import EventModel
import FastJSON

/// One JSON text (a tailed line, a message body) into events: a `{"records":[…]}` envelope (what
/// Azure Monitor writes) becomes one event per record, any other JSON value one event. Unreadable
/// input and records of unknown shape become diagnostics, never silent drops.
///
/// (EventDecoding's format sniffing replaces the parsing here once it lands; the contract stays.)
public enum JSONRecords {
    public static func decode(_ bytes: [UInt8], at base: SourcePosition, normalizer: Normalizer,
                              into consumer: inout some EventConsumer) throws {
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(bytes)
        } catch {
            consumer.diagnostic(Diagnostic(.error, code: "ingest.json", "not JSON: \(error)",
                                           at: SourceLocation(file: base.description, line: base.line, offset: base.offset)))
            return
        }
        let root = document.root
        if root.type == .object, let records = root["records"], records.type == .array {
            for (index, record) in records.children.enumerated() {
                var position = base
                position.recordIndex = index
                var builder = JSONBuilder()
                builder.copy(record)
                try emit(builder.build(), bytesOf: record, position: position, normalizer: normalizer, into: &consumer)
            }
        } else {
            try emit(document, bytesOf: root, position: base, normalizer: normalizer, into: &consumer)
        }
    }

    /// The record identity: a hash of the record's bytes as re-serialised (the same record read twice,
    /// from a redelivered message or a re-read line, gets the same id).
    private static func emit(_ record: JSONDocument, bytesOf value: JSONValue, position: SourcePosition,
                             normalizer: Normalizer, into consumer: inout some EventConsumer) throws {
        var writer = JSONWriter()
        writer.write(value)
        let id = writer.bytes.withUnsafeBytes { fastHash64($0) }
        do {
            try consumer.event(try normalizer.normalize(record, position: position, id: id))
        } catch let diagnostic as Diagnostic {
            consumer.diagnostic(diagnostic)
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
