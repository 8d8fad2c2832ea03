import FastJSON
import Synchronization

/// A record built on first use, at most once. Vigil builds some events itself (assembled
/// operations); most are never read beyond their typed fields, so their JSON waits until a rule
/// path, an alert's evidence or `vigil events` asks for it.
/// Safe to share between threads: the build runs under the lock.
public final class DeferredRecord: Sendable {
    private let state: Mutex<(document: JSONDocument?, build: (@Sendable () -> JSONDocument)?)>
    private let route: (@Sendable (UnsafeBufferPointer<UInt8>) -> [JSONValue]?)?

    /// - Parameters:
    ///   - build: makes the whole record.
    ///   - route: answers a path lookup (folded bytes, as `JSONPathLookup.values(at:in:)` takes)
    ///     from the parts the record would be built from, without building it: exactly what the
    ///     lookup in the built record would give; nil for a path it does not answer (then the
    ///     record is built). Rules read a few paths of most such records; only the few that
    ///     alert need the whole record (their evidence).
    public init(_ build: @escaping @Sendable () -> JSONDocument,
                route: (@Sendable (UnsafeBufferPointer<UInt8>) -> [JSONValue]?)? = nil) {
        state = Mutex((nil, build))
        self.route = route
    }

    /// The values at a folded path, when `route` answers it without the built record.
    func routedValues(at foldedPath: UnsafeBufferPointer<UInt8>) -> [JSONValue]? {
        route?(foldedPath)
    }

    /// True once the record has been built.
    public var isBuilt: Bool { state.withLock { $0.document != nil } }

    public var document: JSONDocument {
        state.withLock { s in
            if let d = s.document { return d }
            let d = s.build!()
            s.document = d
            s.build = nil   // drop what the builder captured
            return d
        }
    }
}

/// Where an event's record lives: parsed already (every decoded record), deferred, or dropped
/// (`Event.droppingRecord()`: reads give an empty object).
enum RecordStorage: Sendable {
    case document(JSONDocument)
    case deferred(DeferredRecord)
    case dropped

    @inline(__always) var document: JSONDocument {
        switch self {
        case .document(let d): return d
        case .deferred(let r): return r.document
        case .dropped: return Self.empty
        }
    }

    // A literal that always parses.
    static let empty = try! JSONDocument.parse("{}")
}
