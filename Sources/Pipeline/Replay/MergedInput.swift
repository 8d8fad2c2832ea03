// Replay's inputs as one stream in event-time order: a k-way merge of the files.
//
// Each file is decoded by its own `InputLane` (a thread, a streaming `RecordReader`, a small bounded
// queue). The merge always hands on the event with the earliest time among the heads of the open
// files (ties by path, so the order of the arguments does not matter). Records inside one file are
// roughly, not strictly, in order; the detection stage's event-time buffer absorbs that, as it does
// for a single file. Events without a time take the time of the event before them in their file.
//
// Open files are capped (`maxOpenFiles`). When there are more files than that, they are opened in
// order of the earliest time they can hold: an export blob's hour (from its `y=/m=/d=/h=` path, minus
// the slack Azure allows for late writes) or, for other files, the time of their first record (one
// cheap read of the first chunk). Each file that ends makes room for the next. Only when more than
// `maxOpenFiles` files overlap in time does a file open after the merge has passed its start; its
// early events then arrive late, and a warning (`replay.merge-overflow`) says so once.
//
// Diagnostics travel with their file's events, in file order, and keep their file:line.
import EventDecoding
import EventModel

public struct MergeOptions: Sendable {
    /// Files decoded at once (one thread and one read buffer each).
    public var maxOpenFiles: Int = 64
    /// Events per hand-over from a file's thread; `queueBlocks` of them may wait per file.
    public var blockItems: Int = 64
    public var queueBlocks: Int = 2
    /// Read buffer per file while more than one is open (one file keeps the reader's own size).
    public var chunkSize: Int = 1 << 20
    /// Allowed lateness downstream: a file opened this far behind the merge is reported.
    public var latenessSeconds: Int64 = 900

    public init(maxOpenFiles: Int = 64) {
        self.maxOpenFiles = max(1, maxOpenFiles)
    }
}

/// Receives the merged stream on the caller's thread.
protocol MergedConsumer {
    /// `file` is the event's index in the input list.
    mutating func event(_ event: Event, file: Int) throws
    mutating func diagnostic(_ diagnostic: Diagnostic)
    /// The file is read to its end and every event of it was handed on.
    mutating func fileFinished(_ file: Int, stats: ReadStats) throws
    /// Events the consumer is done with, freed on a reading thread (`InputLane.next(returning:retired:)`).
    mutating func takeRetired() -> [Event]
}

public enum MergeCode {
    /// More files overlapped in time than `maxOpenFiles`; a file joined the merge late.
    public static let overflow = "replay.merge-overflow"
}

struct MergedInput {
    let files: [InputFile]
    let reader: ReaderOptions
    let options: MergeOptions
    /// All files' counters (each added when its file ends).
    private(set) var stats = ReadStats()
    /// Most files open at once during the run.
    private(set) var mostOpen = 0
    /// Files that were opened after the merge had passed their first event by more than the lateness.
    private(set) var joinedBehind = 0
    /// Items the lanes took back to free on their own threads (for tests).
    private(set) var itemsTakenBack = 0

    init(files: [InputFile], reader: ReaderOptions, options: MergeOptions) {
        self.files = files
        self.reader = reader
        self.options = options
    }

    /// Reads every file, handing on events in merged order. On a thrown error every file thread is
    /// stopped before it propagates.
    mutating func run<C: MergedConsumer>(into consumer: inout C) throws {
        var merge = Merge(input: self)
        defer { merge.cancelAll() }
        try merge.run(into: &consumer)
        stats = merge.stats
        mostOpen = merge.mostOpen
        joinedBehind = merge.joinedBehind
        itemsTakenBack = merge.itemsTakenBack
    }

    /// The order files are opened in: as given when all fit, else by the earliest time each can hold.
    func openingOrder() -> [Int] {
        if files.count <= options.maxOpenFiles { return Array(files.indices) }
        let starts = files.map(earliestTime)
        return files.indices.sorted { a, b in
            starts[a] != starts[b] ? starts[a] < starts[b] : files[a].path.utf8.lexicographicallyPrecedes(files[b].path.utf8)
        }
    }

    /// Standard input and files without a timed first record come first (`.min`).
    private func earliestTime(_ file: InputFile) -> Int64 {
        if file.isStandardInput { return .min }
        if let hour = file.exportHour { return hour.adding(seconds: -InputSet.exportSlackSeconds).nanoseconds }
        var probeOptions = reader
        probeOptions.chunkSize = 64 << 10
        probeOptions.from = nil
        probeOptions.to = nil
        var probe = FirstTimeProbe()
        var r = RecordReader(options: probeOptions)
        try? r.read(file, into: &probe)
        return probe.time?.nanoseconds ?? .min
    }
}

/// Stops reading at the first event that has a time (or after a few thousand without one).
private struct FirstTimeProbe: EventConsumer {
    struct Found: Error {}
    var time: EventTime?
    var untimed = 0
    mutating func event(_ event: Event) throws {
        if let t = event.time { time = t; throw Found() }
        untimed += 1
        if untimed >= 4096 { throw Found() }
    }
    mutating func diagnostic(_ diagnostic: Diagnostic) {}
}

/// The state of one merge run on the caller's thread.
private struct Merge {
    struct Head {
        let lane: InputLane
        var block: [LaneItem] = []
        var cursor = 0
    }

    let files: [InputFile]
    let reader: ReaderOptions
    let options: MergeOptions
    let ranks: [Int]
    var pending: ArraySlice<Int>
    var heads: [Head?] = []
    /// Per slot, the heap's key: the head event's time (for an untimed head, the time of the timed
    /// event before it) and the rank of the file's path (ties go to the smaller path).
    var times: [Int64] = []
    var slotRanks: [Int] = []
    var freeSlots: [Int] = []
    var openCount = 0
    /// Slots ordered by (time, rank) of their head: a binary min-heap.
    var heap: [Int] = []
    var emittedTime: Int64 = .min
    var emittedAny = false
    var stats = ReadStats()
    var mostOpen = 0
    var joinedBehind = 0
    var itemsTakenBack = 0

    init(input: MergedInput) {
        files = input.files
        options = input.options
        var r = input.reader
        if input.files.count > 1 { r.chunkSize = min(r.chunkSize, input.options.chunkSize) }
        reader = r
        let all = input.files
        var ranks = [Int](repeating: 0, count: all.count)
        let byPath = all.indices.sorted { all[$0].path.utf8.lexicographicallyPrecedes(all[$1].path.utf8) }
        for (rank, i) in byPath.enumerated() { ranks[i] = rank }
        self.ranks = ranks
        pending = input.openingOrder()[...]
    }

    mutating func run<C: MergedConsumer>(into consumer: inout C) throws {
        while true {
            try fill(&consumer)
            guard let slot = heap.first else { return }
            try emitHead(slot, into: &consumer)
            if advance(slot, &consumer) {
                siftDown(0)
            } else {
                let last = heap.removeLast()
                if !heap.isEmpty { heap[0] = last; siftDown(0) }
                try close(slot, &consumer)
            }
        }
    }

    /// Opens files until `maxOpenFiles` are open or none is left; all threads start before any is waited on.
    private mutating func fill<C: MergedConsumer>(_ consumer: inout C) throws {
        while openCount < options.maxOpenFiles, !pending.isEmpty {
            var opened: [Int] = []
            while openCount < options.maxOpenFiles, let index = pending.popFirst() {
                let lane = InputLane(file: files[index], index: index, blockItems: options.blockItems, queueBlocks: options.queueBlocks)
                lane.start(options: reader)
                let slot = freeSlots.popLast() ?? {
                    heads.append(nil); times.append(.min); slotRanks.append(0)
                    return heads.count - 1
                }()
                heads[slot] = Head(lane: lane)
                times[slot] = .min
                slotRanks[slot] = ranks[index]
                openCount += 1
                opened.append(slot)
            }
            mostOpen = max(mostOpen, openCount)
            for slot in opened {
                if advance(slot, &consumer) {
                    noteIfBehind(slot, &consumer)
                    heap.append(slot)
                    siftUp(heap.count - 1)
                } else {
                    try close(slot, &consumer)
                }
            }
        }
    }

    private mutating func emitHead<C: MergedConsumer>(_ slot: Int, into consumer: inout C) throws {
        let head = heads[slot]!
        guard case .event(let event) = head.block[head.cursor] else { preconditionFailure("merge head is not an event") }
        heads[slot]!.cursor += 1
        if times[slot] > emittedTime { emittedTime = times[slot] }
        emittedAny = true
        try consumer.event(event, file: head.lane.index)
    }

    /// Moves the slot's cursor to its next event, handing on the diagnostics before it; false at the
    /// file's end.
    private mutating func advance<C: MergedConsumer>(_ slot: Int, _ consumer: inout C) -> Bool {
        while true {
            let head = heads[slot]!
            if head.cursor < head.block.count {
                switch head.block[head.cursor] {
                case .diagnostic(let d):
                    consumer.diagnostic(d)
                    heads[slot]!.cursor += 1
                case .event(let e):
                    if let t = e.time?.nanoseconds { times[slot] = t }
                    return true
                }
                continue
            }
            // The spent block goes back to its lane to be freed there (no copy of it may stay here).
            let lane = head.lane
            _ = consume head
            let used = heads[slot]!.block
            heads[slot]!.block = []
            heads[slot]!.cursor = 0
            guard let next = lane.next(returning: used, retired: consumer.takeRetired()) else { return false }
            heads[slot]!.block = next
        }
    }

    private mutating func close<C: MergedConsumer>(_ slot: Int, _ consumer: inout C) throws {
        let lane = heads[slot]!.lane
        heads[slot] = nil
        freeSlots.append(slot)
        openCount -= 1
        let laneStats = lane.stats
        stats.add(laneStats)
        itemsTakenBack += lane.itemsTakenBack
        try consumer.fileFinished(lane.index, stats: laneStats)
    }

    private mutating func noteIfBehind<C: MergedConsumer>(_ slot: Int, _ consumer: inout C) {
        let head = heads[slot]!
        guard emittedAny, times[slot] != .min,
              times[slot] < emittedTime - options.latenessSeconds * 1_000_000_000 else { return }
        joinedBehind += 1
        guard joinedBehind == 1 else { return }
        consumer.diagnostic(Diagnostic(.warning, code: MergeCode.overflow,
            "more than \(options.maxOpenFiles) input files overlap in time: this file was opened after the replay had passed its "
            + "first events, which arrive late (stateless rules only); raise --max-open-files or replay the overlapping files together",
            at: SourceLocation(file: head.lane.file.path)))
    }

    /// Stops every file still open (after an error; a no-op after a complete run).
    mutating func cancelAll() {
        for case let head? in heads { head.lane.cancel() }
        heads.removeAll()
    }

    // MARK: Heap on (time, rank)

    private func less(_ a: Int, _ b: Int) -> Bool {
        times[a] != times[b] ? times[a] < times[b] : slotRanks[a] < slotRanks[b]
    }

    private mutating func siftUp(_ i: Int) {
        var i = i
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(heap[i], heap[parent]) else { return }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ i: Int) {
        var i = i
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count, less(heap[l], heap[smallest]) { smallest = l }
            if r < heap.count, less(heap[r], heap[smallest]) { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
