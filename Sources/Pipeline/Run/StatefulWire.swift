// The record format of the stateful topic (scale-out stage 1 → stage 2): one record in a
// `{"records":[…]}` envelope that also carries the event id stage 1 gave it,
// `{"vigil_id":"<16 hex digits>","records":[<record>]}`. Stage 1's id is a hash of the record's bytes
// as they arrived (spacing included, as in replay); the bytes re-published are the record
// re-serialised, so stage 2 could not derive the same id from them. Carrying it keeps one id per
// record across both stages: stateful alerts name the same events as stateless ones, and as a
// single process or a replay would. Still a readable JSON envelope, decoded like any other body.
import EventDecoding
import EventModel
import FastJSON
import Ingest

enum StatefulWire {
    private static let prefix = Array(#"{"vigil_id":""#.utf8)

    static func encode(_ event: Event) -> [UInt8] {
        var writer = JSONWriter()
        writer.raw(#"{"vigil_id":""# + event.idString + #"","records":["#)
        writer.write(event.record.root)
        writer.raw("]}")
        return writer.bytes
    }

    /// The events of one stateful-topic message, with the ids stage 1 gave them (a message
    /// without the id, from another producer, keeps the ids its bytes give).
    static func decode(_ payload: [UInt8], at position: SourcePosition, normalizer: Normalizer,
                       into collector: inout JSONRecords.Collector) throws {
        let before = collector.events.count
        try JSONRecords.decode(payload, at: position, normalizer: normalizer, into: &collector)
        guard let id = carriedId(payload) else { return }
        for i in before..<collector.events.count { collector.events[i].id = id }
    }

    static func carriedId(_ payload: [UInt8]) -> UInt64? {
        let start = prefix.count
        guard payload.count > start + 16, payload.starts(with: prefix), payload[start + 16] == UInt8(ascii: "\"") else { return nil }
        return UInt64(String(decoding: payload[start..<start + 16], as: UTF8.self), radix: 16)
    }
}
