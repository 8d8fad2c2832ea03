import EventModel
import FastJSON

/// Turns one decoded record (any supported shape) into an `Event`: classifies kind and shape and
/// fills the typed fields. Records of unknown shape are reported, never dropped silently.
///
/// (Interface fixed by the skeleton; the per-shape normalisers fill it in.)
public struct Normalizer: Sendable {
    public init() {}

    /// `id` is the record identity the reader computed (hash of the record's bytes).
    public func normalize(_ record: JSONDocument, position: SourcePosition, id: UInt64) throws(Diagnostic) -> Event {
        Event(kind: .unknown, shape: .unknown, record: record, position: position, id: id)
    }
}
