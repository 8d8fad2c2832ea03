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
    /// What the merge and detection are done with, freed on the reading thread (`next(returning:retired:)`).
    private var spent: [Spent] = []
    private var takenBack = 0
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
                _ = try put(writer.block)
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
    /// `used` (the block before, read to its end) and `retired` (events detection is done with) go
    /// to the reading thread, which frees them at its next hand-over: glibc's malloc takes a lock
    /// for every free of another thread's memory that its allocations then wait on, which cost a
    /// fifth of a replay's CPU time when the merge's thread freed every decoded event.
    func next(returning used: consuming [LaneItem] = [], retired: consuming [Event] = []) -> [LaneItem]? {
        condition.lock()
        defer { condition.unlock() }
        if !exited {
            if !used.isEmpty { spent.append(.block(used)) }
            if !retired.isEmpty { spent.append(.events(retired)) }
        }
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

    /// Items (events and diagnostics) the reading thread has taken back to free (for tests).
    var itemsTakenBack: Int {
        condition.lock()
        defer { condition.unlock() }
        return takenBack
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

    /// Queues `block`; returns what the merge handed back since, for the caller to free outside the lock.
    fileprivate func put(_ block: [LaneItem]) throws(LaneCancelled) -> [Spent] {
        condition.lock()
        defer { condition.unlock() }
        while blocks.count >= queueBlocks && !cancelled { condition.wait() }
        if cancelled { throw LaneCancelled() }
        if !block.isEmpty { blocks.append(block) }
        condition.broadcast()
        return takeSpent()
    }

    /// Empties `spent` for the caller to free outside the lock. Call with the lock held.
    private func takeSpent() -> [Spent] {
        let done = spent
        spent = []
        for s in done { takenBack += s.count }
        return done
    }

    /// Frees on this thread what the merge handed back since the last `put`, then says the lane
    /// has exited: from then on `next` drops what it is handed itself, so nothing waits in `spent`.
    private func finish(_ stats: ReadStats?) {
        while true {
            condition.lock()
            if spent.isEmpty {
                endStats = stats
                exited = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let done = takeSpent()
            condition.unlock()
            _ = consume done
        }
    }
}

struct LaneCancelled: Error {}

/// What the merge hands back to a lane to be freed there.
enum Spent {
    case block([LaneItem])
    case events([Event])

    var count: Int {
        switch self {
        case .block(let b): b.count
        case .events(let e): e.count
        }
    }
}

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
        _ = try lane.put(full)
    }
}
