// Where anomaly baselines live between runs. `StateDatabase` (SQLite, the `baselines` table) is
// the durable one; `InMemoryBaselineStore` is the fake for tests and dry runs.
import StateStore

/// Namespaced key → bytes. Implementations must make `transaction` all-or-nothing.
public protocol BaselineStore: AnyObject {
    func baselineValue(namespace: String, key: String) throws -> [UInt8]?
    func setBaselineValue(_ value: [UInt8], namespace: String, key: String) throws
    /// Returns whether there was one.
    @discardableResult func removeBaselineValue(namespace: String, key: String) throws -> Bool
    /// Every key of a namespace, sorted.
    func baselineKeys(namespace: String) throws -> [String]
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Runs `action` once the writes so far are durable: when the outermost transaction commits
    /// (never if it rolls back), at once outside one.
    func afterCommit(_ action: @escaping () -> Void)
}

extension StateDatabase: BaselineStore {}

/// A `BaselineStore` in memory. `transaction` rolls back on a thrown error, like SQLite.
public final class InMemoryBaselineStore: BaselineStore, @unchecked Sendable {
    public private(set) var values: [String: [String: [UInt8]]] = [:]
    /// Counts writes, so tests can see batching.
    public private(set) var writes = 0

    public init() {}

    public func baselineValue(namespace: String, key: String) throws -> [UInt8]? { values[namespace]?[key] }

    public func setBaselineValue(_ value: [UInt8], namespace: String, key: String) throws {
        writes += 1
        values[namespace, default: [:]][key] = value
    }

    public func baselineKeys(namespace: String) throws -> [String] { (values[namespace]?.keys).map { $0.sorted() } ?? [] }

    @discardableResult
    public func removeBaselineValue(namespace: String, key: String) throws -> Bool {
        writes += 1
        return values[namespace]?.removeValue(forKey: key) != nil
    }

    private var depth = 0
    private var commitActions = CommitActions()

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let saved = values, actionsBefore = commitActions.mark
        depth += 1
        defer { depth -= 1 }
        let result: T
        do { result = try body() } catch {
            values = saved
            commitActions.rollBack(to: actionsBefore)
            throw error
        }
        if depth == 1 { commitActions.committed() }
        return result
    }

    public func afterCommit(_ action: @escaping () -> Void) {
        if depth == 0 { action() } else { commitActions.append(action) }
    }
}
