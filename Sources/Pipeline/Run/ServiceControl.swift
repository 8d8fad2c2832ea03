import Dispatch
import Glibc
import Synchronization

/// A one-way flag: set once (stop requested, thread finished), read from any thread.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func set() { flag.store(true, ordering: .releasing) }
    public var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Sleeps until set or `timeoutSeconds` passed (10 ms steps); returns whether it is set.
    @discardableResult
    public func wait(timeoutSeconds: Double) -> Bool {
        var left = timeoutSeconds
        while !isSet && left > 0 {
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
            left -= 0.01
        }
        return isSet
    }
}

/// SIGTERM and SIGINT set a `StopFlag` instead of killing the process: the service finishes its
/// batch, commits and exits 0. Keep the trap alive as long as the service runs.
public final class SignalTrap: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "vigil.signals")

    public init(_ signals: [Int32] = [SIGTERM, SIGINT], onSignal: @escaping @Sendable (Int32) -> Void) {
        // A parent may hand us a blocked mask (test runners do); blocked, the signal would wait forever.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in signals { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in signals {
            signal(sig, SIG_IGN)   // the dispatch source sees it; the default action must not run
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { onSignal(sig) }
            source.resume()
            sources.append(source)
        }
    }

    deinit { for s in sources { s.cancel() } }
}
