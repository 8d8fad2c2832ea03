import EventModel
import Foundation

/// JSON bodies of stored alerts and incidents: sorted keys, so the same value is the same text.
enum StateCodec {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func encode(_ alert: Alert) -> String {
        var w = StateJSON(capacity: 1024)
        w.alert(alert)
        return w.text
    }

    static func encode(_ incident: Incident) -> String {
        var w = StateJSON(capacity: 256 + 40 * incident.alertIds.count)
        w.incident(incident)
        return w.text
    }

    static func encode(_ strings: [String]) -> String {
        var w = StateJSON(capacity: 128)
        w.strings(strings)
        return w.text
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
