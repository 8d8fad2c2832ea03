// Replay checkpoints under merging: per file, the offset a re-read must start from so that nothing
// not yet committed is skipped.
//
// With files merged, a commit happens in the middle of many files at once, and the detection stage
// still holds the newest events (the event-time buffer until the watermark passes them, the
// operation assembler up to its timeout, both `lateness` of event time). `DetectionStage` does not
// say which events it holds, so the hold is bounded from outside: an event counts as through
// detection once the newest event time fed is `hold` (lateness + operation timeout) past it. A file's checkpoint is
// the first byte of its earliest record not yet through (records are tracked in file order, so the
// position never passes a held one even when the file is out of order), and the file's decoded
// length once it is read to its end and all its events are through. Untimed and late events are
// released at once by the buffer.
import EventDecoding
import EventModel
import StateStore

struct ReplayCheckpoints {
    private struct File {
        let source: String
        /// Fed records not yet known to be through detection, in file order (a queue from `head`).
        var times: [Int64] = []
        var offsets: [Int64] = []
        var head = 0
        /// Offset of the newest record known to be through (a re-read from it repeats only it).
        var through: Int64?
        /// Decoded length, once the file is read to its end.
        var end: Int64?
        var saved: Int64?
    }

    private var files: [File]
    private var newest: Int64 = .min
    private let holdNanos: Int64

    init(files: [InputFile], holdSeconds: Int64) {
        self.files = files.map { File(source: "replay:" + $0.path) }
        holdNanos = max(0, holdSeconds) * 1_000_000_000
    }

    mutating func fed(_ event: Event, file: Int) {
        let time = event.time?.nanoseconds ?? .min
        if time > newest { newest = time }
        guard let offset = event.position.offset else { return }
        files[file].times.append(time)
        files[file].offsets.append(offset)
    }

    mutating func ended(_ file: Int, decodedBytes: Int64) {
        files[file].end = decodedBytes
    }

    /// Positions that moved since the last call. `drained`: the detection stage has released
    /// everything (after `finish()`), so every fed event is through.
    mutating func moved(drained: Bool = false) -> [Checkpoint] {
        let limit = drained ? Int64.max : throughLimit
        var out: [Checkpoint] = []
        for i in files.indices {
            guard let resume = advance(i, through: limit), resume != files[i].saved else { continue }
            files[i].saved = resume
            out.append(Checkpoint(source: files[i].source, offset: resume))
        }
        return out
    }

    /// Records fed and not yet known to be through detection, over all files.
    var tracked: Int { files.reduce(0) { $0 + $1.times.count - $1.head } }

    /// Drops the records known to be through detection from the queues, without moving any
    /// checkpoint: for commits that do not save the baselines (checkpoints move only with those),
    /// so the queues hold what one commit feeds, not everything since the last save.
    mutating func dropThrough() {
        let limit = throughLimit
        for i in files.indices { _ = advance(i, through: limit) }
    }

    /// Records at or before this event time are through detection (the newest fed, less the hold).
    private var throughLimit: Int64 { newest == .min ? .min : newest - holdNanos }

    /// Drops the file's records through `limit` from its queue; returns its resume offset, if any.
    private mutating func advance(_ i: Int, through limit: Int64) -> Int64? {
        var f = files[i]
        files[i] = File(source: f.source)  // keep the arrays uniquely referenced while editing
        while f.head < f.times.count, f.times[f.head] <= limit {
            f.through = f.offsets[f.head]
            f.head += 1
        }
        if f.head > 4096, f.head * 2 > f.times.count {
            f.times.removeFirst(f.head)
            f.offsets.removeFirst(f.head)
            f.head = 0
        }
        let resume: Int64?
        if f.head < f.times.count { resume = f.offsets[f.head] }
        else if let end = f.end { resume = end }
        else { resume = f.through }
        files[i] = f
        return resume
    }
}
