// Who may write anomaly baselines into one state database. `vigil run`, `tail` and `replay` hold
// the baselines they use in memory and save them whole, so a baseline another process wrote in the
// meantime is overwritten at their next save. They take this lock shared (several of them may
// share a database: each owns different identities); `vigil baseline learn`, which writes
// baselines none of them knows of, takes it exclusive and is refused while any of them runs.
//
// An advisory `flock` on `<state path>.baselines.lock`, released when the process ends however it
// ends (the kernel drops it with the file descriptor), so a crash leaves nothing stale behind.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class BaselineWriterLock {
    public enum Mode: Sendable { case shared, exclusive }

    public struct Busy: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var mode: Mode
        public var description: String {
            switch mode {
            case .exclusive:
                return "another vigil process (run, tail or replay) holds the anomaly baselines of this state database (\(path)): stop it first, or what this learns would be overwritten at its next save"
            case .shared:
                return "vigil baseline learn is writing the anomaly baselines of this state database (\(path)): wait for it to finish"
            }
        }
    }

    public let path: String
    private let fd: Int32
    /// Why the lock could not be taken at all (the lock file cannot be made, or the file system
    /// has no `flock`, as some network mounts): the caller goes on without it and says so, rather
    /// than refusing to start over a safeguard.
    public let unavailable: String?

    /// Takes the lock for the state database at `statePath`, without waiting: throws `Busy` when a
    /// holder of the other kind has it (or another exclusive one).
    public init(statePath: String, mode: Mode) throws {
        path = statePath + ".baselines.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)   // private, as the state files are
        guard fd >= 0 else {
            unavailable = "cannot open \(path) (errno \(errno)): running without the baseline writer lock"
            return
        }
        guard flock(fd, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 else {
            let failure = errno
            close(fd)
            if failure == EWOULDBLOCK { throw Busy(path: statePath, mode: mode) }
            unavailable = "cannot lock \(path) (errno \(failure)): running without the baseline writer lock"
            return
        }
        unavailable = nil
    }

    deinit { if unavailable == nil { close(fd) } }   // closing the descriptor releases the lock
}
