import EventModel

/// One item the outbox hands to a sink: an alert or an incident revision, already serialised.
public struct OutboxItem: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable { case alert, incident }
    /// Outbox row id (monotonic per database).
    public var rowId: Int64
    public var kind: Kind
    /// Alert id or incident id: the idempotency key sinks use where the target allows.
    public var objectId: String
    /// Incident revision (1 for alerts).
    public var revision: Int
    /// The object as JSON text (`{"type":"alert",…}` / `{"type":"incident",…}`).
    public var payload: String

    public init(rowId: Int64, kind: Kind, objectId: String, revision: Int, payload: String) {
        self.rowId = rowId
        self.kind = kind
        self.objectId = objectId
        self.revision = revision
        self.payload = payload
    }
}

/// Why a delivery failed, and whether trying again can help.
public struct DeliveryError: Error, Sendable, CustomStringConvertible {
    public enum Disposition: Sendable, Equatable {
        /// Try again later; `retryAfter` seconds when the target said so (Retry-After).
        case retry(retryAfter: Double?)
        /// Will never succeed as sent (bad request, forbidden after auth refresh, …): dead-letter it.
        case permanent
        /// Not deliverable *yet*: the target lacks something another outbox row brings (a Sentinel
        /// comment whose incident is not created yet). Not a failure: every row of the batch not in
        /// `delivered` waits a short delay and goes again, without counting an attempt and without
        /// holding back the rows behind it, until `OutboxConfiguration.maxDeferSeconds`; then it is
        /// dead-lettered with the reason. Only defer rows whose order relative to later rows does not
        /// matter (alerts, never incident revisions).
        case deferred
    }
    public var disposition: Disposition
    /// Human-readable reason, never containing secrets (tokens, keys, signatures).
    public var reason: String
    /// Items of the batch that were accepted before the failure (partial success), by row id.
    public var delivered: [Int64]
    /// Items of the batch that are deferred (see `Disposition.deferred`) while something else failed;
    /// with disposition `.deferred`, every item not delivered is deferred and this may stay empty.
    public var deferred: [Int64]
    /// Why the `deferred` items wait, when `reason` is about another failure of the batch.
    public var deferredReason: String?

    public init(_ disposition: Disposition, _ reason: String, delivered: [Int64] = [], deferred: [Int64] = [],
                deferredReason: String? = nil) {
        self.disposition = disposition
        self.reason = reason
        self.delivered = delivered
        self.deferred = deferred
        self.deferredReason = deferredReason
    }

    public var description: String { reason }
}

/// A destination for alerts and incidents.
///
/// Contract (every implementation, checked by one shared conformance test):
/// - `deliver` returns only after the target has accepted every item of the batch (durably, where
///   the target says so); on failure it throws `DeliveryError`, naming the items it did deliver
///   (and those it defers: not deliverable until another row is).
/// - Redelivering an item already accepted is harmless: sinks use `objectId`/`revision` as
///   idempotency keys where the target allows, and the target-side effect is the same.
/// - Errors and logs never contain secrets.
public protocol Sink: Sendable {
    /// Stable name from the config (`sentinel`, `jsonl`, …); outbox progress is tracked per name.
    var name: String { get }
    /// Largest batch the sink wants at once.
    var maxBatch: Int { get }
    func deliver(_ batch: [OutboxItem]) throws(DeliveryError)
    /// Flushes and releases resources; called on shutdown.
    func close() throws
}

extension Sink {
    public var maxBatch: Int { 100 }
    public func close() throws {}
}
