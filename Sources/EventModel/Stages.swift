/// The contracts between stages. Each implementation's doc comment restates what it guarantees.

/// Receives normalised events in source order, and diagnostics for records that could not be read.
/// Readers call `event` for every record they decode and `diagnostic` for every one they cannot;
/// they never drop a record silently.
public protocol EventConsumer {
    mutating func event(_ event: Event) throws
    mutating func diagnostic(_ diagnostic: Diagnostic)
}

/// Turns events into alerts. Stateless rules answer at once; stateful ones may answer later, on
/// `advance(to:)` (event-time watermark) or `finish()`.
public protocol Detector {
    mutating func process(_ event: Event) -> [Alert]
    mutating func advance(to watermark: EventTime) -> [Alert]
    mutating func finish() -> [Alert]
}

extension Detector {
    public mutating func advance(to watermark: EventTime) -> [Alert] { [] }
    public mutating func finish() -> [Alert] { [] }
}
