/// What `afterCommit` asked of a store with nested transactions (savepoints): each action waits for
/// the outermost transaction to commit, and is dropped if the transaction (or savepoint) it was
/// asked in rolls back. `SQLiteDatabase` and the in-memory baseline store of tests keep one each.
public struct CommitActions {
    private var actions: [() -> Void] = []

    public init() {}

    /// Where a transaction begins: give it to `rollBack(to:)` if that transaction rolls back.
    public var mark: Int { actions.count }

    public mutating func append(_ action: @escaping () -> Void) { actions.append(action) }

    /// Drops what was asked since `mark`.
    public mutating func rollBack(to mark: Int) { actions.removeSubrange(mark...) }

    /// The outermost transaction committed: runs every action waiting, once.
    public mutating func committed() {
        let due = actions
        actions = []
        for action in due { action() }
    }
}
