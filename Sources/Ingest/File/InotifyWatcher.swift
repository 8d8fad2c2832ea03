// inotify on the directories of the tailed trees, for low latency. Polling stays the safety net:
// inotify can overflow its queue, and network file systems do not report changes at all.
import Glibc

/// Watches directories (never single files: renames and re-creations are directory events) and
/// reports, after a wait, whether files changed and whether the tree's shape changed.
final class InotifyWatcher {
    struct Changes {
        var contentChanged = false
        /// Something was created, moved or deleted (or the queue overflowed): rescan the tree.
        var treeChanged = false
    }

    private let fd: Int32
    private var watched: [Int32: String] = [:]
    private var watchedPaths: Set<String> = []

    /// nil when inotify is unavailable (then the caller polls).
    init?() {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    private static let mask: UInt32 = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM
        | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)

    /// Adds a watch on `directory` (idempotent). Returns false if the kernel refused (limit reached).
    @discardableResult
    func watch(directory: String) -> Bool {
        if watchedPaths.contains(directory) { return true }
        let wd = inotify_add_watch(fd, directory, Self.mask)
        guard wd >= 0 else { return false }
        watched[wd] = directory
        watchedPaths.insert(directory)
        return true
    }

    /// Waits up to `timeoutMilliseconds` for events and drains them.
    func wait(timeoutMilliseconds: Int32) -> Changes {
        var changes = Changes()
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMilliseconds) > 0 else { return changes }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            buffer.withUnsafeBytes { raw in
                var at = 0
                while at + MemoryLayout<inotify_event>.size <= n {
                    let event = raw.loadUnaligned(fromByteOffset: at, as: inotify_event.self)
                    let m = event.mask
                    if m & UInt32(IN_Q_OVERFLOW) != 0 { changes.treeChanged = true }
                    if m & UInt32(IN_MODIFY | IN_CLOSE_WRITE) != 0 { changes.contentChanged = true }
                    if m & UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB) != 0 {
                        changes.treeChanged = true
                    }
                    if m & UInt32(IN_IGNORED) != 0, let path = watched.removeValue(forKey: event.wd) {
                        watchedPaths.remove(path)
                    }
                    at += MemoryLayout<inotify_event>.size + Int(event.len)
                }
            }
        }
        return changes
    }
}
