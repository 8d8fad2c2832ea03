// The one place the tail code touches file descriptors. One owner per fd, closed in deinit.
import Glibc

/// What `stat`/`fstat` tell the tailer: which inode, how big, when last changed.
struct FileStatus: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Int64        // nanoseconds
    var links: Int
    var isDirectory: Bool
    var isRegular: Bool

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        links = Int(st.st_nlink)
        isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        isRegular = (st.st_mode & S_IFMT) == S_IFREG
    }

    static func of(path: String) -> FileStatus? {
        var st = stat()
        return stat(path, &st) == 0 ? FileStatus(st) : nil
    }

    var fileID: FileID { FileID(device: device, inode: inode) }
}

/// (device, inode): which open file a path points at *now*. Never an identity across time.
struct FileID: Hashable {
    var device: UInt64
    var inode: UInt64
}

/// An open, read-only file descriptor. Holding it keeps a deleted or renamed file readable.
final class PosixFile {
    let fd: Int32

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    func status() -> FileStatus? {
        var st = stat()
        return fstat(fd, &st) == 0 ? FileStatus(st) : nil
    }

    /// Reads up to `count` bytes at `offset`, appending them to `buffer`; returns the number read
    /// (0 at end of file).
    func read(at offset: Int64, count: Int, into buffer: inout [UInt8]) -> Int {
        let chunk = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
            initialized = max(0, pread(fd, raw.baseAddress, count, off_t(offset)))
        }
        buffer.append(contentsOf: chunk)
        return chunk.count
    }

    /// The whole file from `offset` on.
    func readAll(from offset: Int64 = 0) -> [UInt8] {
        var out: [UInt8] = []
        var at = offset
        while true {
            let n = read(at: at, count: 1 << 20, into: &out)
            if n == 0 { return out }
            at += Int64(n)
        }
    }
}

/// Newline counting and searching over byte buffers.
enum Lines {
    static func count(in bytes: ArraySlice<UInt8>) -> Int {
        bytes.withUnsafeBufferPointer { buf in
            var n = 0
            for b in buf where b == 0x0A { n += 1 }
            return n
        }
    }

    /// Index of the first newline at or after `from`, if any.
    static func firstNewline(in bytes: [UInt8], from: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buf -> Int? in
            guard from < buf.count, let base = buf.baseAddress else { return nil }
            guard let p = memchr(base + from, 0x0A, buf.count - from) else { return nil }
            return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
    }
}
