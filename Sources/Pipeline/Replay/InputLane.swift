// One input file of a merged replay, decoded on its own thread into a small bounded queue.
//
// `RecordReader` pushes records into a consumer; a k-way merge needs to pull the head of each file.
// A lane turns the one into the other: a thread runs the reader, and its consumer hands events (and
// diagnostics, in file order) over in blocks of `blockItems`, waiting while `queueBlocks` blocks are
// unread. So each open file costs its reader's buffer plus at most `(queueBlocks + 1) × blockItems`
// decoded events, whatever its size. The thread only ever waits on its own queue, and the merge only
// on the lane whose head it needs, so the two cannot deadlock.
import EventDecoding
import EventModel
import Foundation

/// What a lane hands the merge, in the file's order.
enum LaneItem: Sendable {
    case event(Event)
    case diagnostic(Diagnostic)
}

final class InputLane: @unchecked Sendable {
    let file: InputFile
    /// Index of the file in the replay's input list (checkpoints and ties are keyed by it).
    let index: Int

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var blocks: [[LaneItem]] = []
    private var endStats: ReadStats?
    private var cancelled = false
    private var exited = false

    private let blockItems: Int
    private let queueBlocks: Int

    init(file: InputFile, index: Int, blockItems: Int, queueBlocks: Int) {
        self.file = file
        self.index = index
        self.blockItems = max(1, blockItems)
        self.queueBlocks = max(1, queueBlocks)
    }

    /// Starts the reading thread.
    func start(options: ReaderOptions) {
        let thread = Thread { [self] in
            var writer = LaneWriter(lane: self, blockItems: blockItems)
            var reader = RecordReader(options: options)
            do {
                try reader.read(file, into: &writer)
                try put(writer.block)
                finish(reader.stats)
            } catch {
                // Only `LaneCancelled` reaches here: input problems are diagnostics, never thrown.
                finish(nil)
            }
        }
        thread.name = "vigil.replay.lane"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// The next block of items, waiting for the thread; nil once the file is read (then `stats`).
    func next() -> [LaneItem]? {
        condition.lock()
        defer { condition.unlock() }
        while blocks.isEmpty && !exited { condition.wait() }
        if blocks.isEmpty { return nil }
        let block = blocks.removeFirst()
        condition.broadcast()
        return block
    }

    /// The reader's counters for this file, once `next()` returned nil.
    var stats: ReadStats {
        condition.lock()
        defer { condition.unlock() }
        return endStats ?? ReadStats()
    }

    /// Stops the thread at its next hand-over and waits for it to end.
    func cancel() {
        condition.lock()
        cancelled = true
        blocks.removeAll()
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }

    // MARK: Reading thread

    fileprivate func put(_ block: [LaneItem]) throws(LaneCancelled) {
        condition.lock()
        defer { condition.unlock() }
        while blocks.count >= queueBlocks && !cancelled { condition.wait() }
        if cancelled { throw LaneCancelled() }
        if !block.isEmpty { blocks.append(block) }
        condition.broadcast()
    }

    private func finish(_ stats: ReadStats?) {
        condition.lock()
        endStats = stats
        exited = true
        condition.broadcast()
        condition.unlock()
    }
}

struct LaneCancelled: Error {}

/// The reader's consumer on the lane's thread: collects a block, hands it over when full.
private struct LaneWriter: EventConsumer {
    let lane: InputLane
    let blockItems: Int
    var block: [LaneItem] = []
    /// The merge stopped while a diagnostic was handed over (which cannot throw).
    var stopped = false

    init(lane: InputLane, blockItems: Int) {
        self.lane = lane
        self.blockItems = blockItems
        block.reserveCapacity(blockItems)
    }

    mutating func event(_ event: Event) throws {
        if stopped { throw LaneCancelled() }
        block.append(.event(event))
        if block.count >= blockItems { try handOver() }
    }

    mutating func diagnostic(_ diagnostic: Diagnostic) {
        block.append(.diagnostic(diagnostic))
        // A file of nothing but bad records must not pile diagnostics up either.
        if block.count >= blockItems {
            do { try handOver() } catch { stopped = true }
        }
    }

    private mutating func handOver() throws(LaneCancelled) {
        let full = block
        block = []
        block.reserveCapacity(blockItems)
        try lane.put(full)
    }
}
