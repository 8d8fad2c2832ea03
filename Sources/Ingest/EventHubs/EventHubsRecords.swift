import EventDecoding
import EventModel
import FastJSON

/// Turns an Event Hubs message body into events: a `{"records":[…]}` envelope (what Azure Monitor
/// sends) becomes one event per record, any other JSON object one event. Unreadable bodies and
/// records become diagnostics, never silent drops.
///
/// (EventDecoding's format sniffing replaces the parsing here once it lands; the contract stays.)
public struct EventHubsRecords: Sendable {
    public let normalizer: Normalizer

    public init(normalizer: Normalizer = Normalizer()) { self.normalizer = normalizer }

    public func decode(_ message: KafkaMessage, into consumer: inout some EventConsumer) throws {
        let base = message.position
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(message.payload)
        } catch {
            consumer.diagnostic(Diagnostic(.error, code: "eventhubs.body", "message body is not JSON: \(error)",
                                           at: SourceLocation(file: base.description)))
            return
        }
        let root = document.root
        if root.type == .object, let records = root["records"], records.type == .array {
            for (index, record) in records.children.enumerated() {
                var position = base
                position.recordIndex = index
                var builder = JSONBuilder()
                builder.copy(record)
                try emit(builder.build(), bytesOf: record, position: position, into: &consumer)
            }
        } else {
            try emit(document, bytesOf: root, position: base, into: &consumer)
        }
    }

    /// Convenience: all events and diagnostics of a batch.
    public func decode(_ messages: [KafkaMessage]) -> (events: [Event], diagnostics: [Diagnostic]) {
        var collector = Collector()
        for m in messages { try? decode(m, into: &collector) }
        return (collector.events, collector.diagnostics)
    }

    private func emit(_ record: JSONDocument, bytesOf value: JSONValue, position: SourcePosition,
                      into consumer: inout some EventConsumer) throws {
        var writer = JSONWriter()
        writer.write(value)
        let id = writer.bytes.withUnsafeBytes { fastHash64($0) }
        do {
            try consumer.event(try normalizer.normalize(record, position: position, id: id))
        } catch let diagnostic as Diagnostic {
            consumer.diagnostic(diagnostic)
        }
    }

    struct Collector: EventConsumer {
        var events: [Event] = []
        var diagnostics: [Diagnostic] = []
        mutating func event(_ event: Event) { events.append(event) }
        mutating func diagnostic(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
    }
}
