// The reader's window onto a decoded byte stream.
//
// Invariants: bytes [0, end) are valid; `jsonPadding` readable bytes always follow `capacity`, so
// any span inside the window can be parsed in place (`JSONDocument.parse(_:padded: true)`);
// `baseOffset` is the stream offset of byte 0. Memory is bounded by `maxCapacity` whatever the
// input size: callers drop what they no longer need on every `refill`.
import FastJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class StreamBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    let maxCapacity: Int
    let chunkSize: Int
    private(set) var end = 0
    private(set) var baseOffset: Int64
    /// The stream offset of the source's first byte (0 unless the source is cut out of a file).
    let startOffset: Int64
    private(set) var atEOF = false
    let source: ByteSource

    init(source: ByteSource, chunkSize: Int, maxCapacity: Int, startOffset: Int64 = 0) {
        self.source = source
        self.startOffset = startOffset
        baseOffset = startOffset
        self.chunkSize = max(1, chunkSize)
        self.maxCapacity = max(maxCapacity, self.chunkSize)
        capacity = self.chunkSize
        base = .allocate(capacity: capacity + jsonPadding)
        (base + capacity).initialize(repeating: 0x20, count: jsonPadding)
    }

    deinit { base.deallocate() }

    @inline(__always) func offset(of index: Int) -> Int64 { baseOffset + Int64(index) }
    @inline(__always) func index(of offset: Int64) -> Int { Int(offset - baseOffset) }

    /// Drops the bytes before `keep`, then reads more. Returns false at the end of the stream (no
    /// new bytes). Indices into the window move down by `keep`; offsets stay valid.
    @discardableResult
    func refill(keepingFrom keep: Int) -> Bool {
        if atEOF { compact(keep); return false }
        compact(keep)
        if capacity - end < chunkSize, capacity < maxCapacity {
            grow(to: min(maxCapacity, max(capacity * 2, end + chunkSize)))
        }
        let room = capacity - end
        guard room > 0 else { return false }
        let n = source.read(into: base + end, count: min(room, chunkSize))
        if n == 0 { atEOF = true; return false }
        end += n
        return true
    }

    private func compact(_ keep: Int) {
        guard keep > 0 else { return }
        let live = end - keep
        if live > 0 { memmove(base, base + keep, live) }
        end = live
        baseOffset += Int64(keep)
    }

    private func grow(to newCapacity: Int) {
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity + jsonPadding)
        fresh.update(from: base, count: end)
        (fresh + newCapacity).initialize(repeating: 0x20, count: jsonPadding)
        base.deallocate()
        base = fresh
        capacity = newCapacity
    }
}
