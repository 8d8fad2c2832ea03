import ArgumentParser
import StateStore

extension BaselineWriterLock {
    /// The lock a command holds while it uses a state database's anomaly baselines (`run`, `tail`
    /// and `replay` shared, `baseline learn` exclusive): while a holder of the other kind has it, the
    /// command refuses to start, `refuse` saying why (exit 2); where no lock can be taken at all,
    /// `warn` says so and the command goes on without it.
    static func hold(statePath: String, mode: Mode, refuse: (String) -> Void, warn: (String) -> Void) throws -> BaselineWriterLock {
        let lock: BaselineWriterLock
        do { lock = try BaselineWriterLock(statePath: statePath, mode: mode) } catch {
            refuse("\(error)")
            throw ExitCode(2)
        }
        if let why = lock.unavailable { warn(why) }
        return lock
    }
}
