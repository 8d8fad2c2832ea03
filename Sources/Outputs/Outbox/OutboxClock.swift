import Foundation

/// Time for the dispatcher: wall-clock seconds and a blocking sleep. Tests use `ManualOutboxClock`.
public protocol OutboxClock: Sendable {
    /// Unix seconds.
    func now() -> Double
    /// Blocks for `seconds` (the dispatcher calls it only from its own thread).
    func sleep(seconds: Double)
}

public struct SystemOutboxClock: OutboxClock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
    public func sleep(seconds: Double) {
        if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
    }
}

/// A clock that moves only when told to or when slept on: sleeping advances it at once and records
/// how long each sleep was.
public final class ManualOutboxClock: OutboxClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Double
    private var slept: [Double] = []

    public init(now: Double = 1_700_000_000) { current = now }

    public func now() -> Double { lock.withLock { current } }
    public func sleep(seconds: Double) { lock.withLock { slept.append(seconds); current += max(0, seconds) } }
    public func advance(by seconds: Double) { lock.withLock { current += seconds } }
    /// Every sleep so far, in order.
    public var sleeps: [Double] { lock.withLock { slept } }
}

/// Asks a running dispatcher loop to stop after its current batch.
public final class OutboxStopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    public init() {}
    public func stop() { lock.withLock { stopped = true } }
    public var isStopped: Bool { lock.withLock { stopped } }
}
