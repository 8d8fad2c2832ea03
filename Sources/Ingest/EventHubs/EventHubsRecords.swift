import EventDecoding
import EventModel

/// Turns Event Hubs message bodies into events (see `JSONRecords`).
public struct EventHubsRecords: Sendable {
    public let normalizer: Normalizer

    public init(normalizer: Normalizer = Normalizer()) { self.normalizer = normalizer }

    public func decode(_ message: KafkaMessage, into consumer: inout some EventConsumer) throws {
        try JSONRecords.decode(message.payload, at: message.position, normalizer: normalizer, into: &consumer)
    }

    /// Convenience: all events and diagnostics of a batch.
    public func decode(_ messages: [KafkaMessage]) -> (events: [Event], diagnostics: [Diagnostic]) {
        var collector = JSONRecords.Collector()
        for m in messages { try? decode(m, into: &collector) }
        return (collector.events, collector.diagnostics)
    }

}
