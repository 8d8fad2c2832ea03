// How far in event time one baseline (an identity in a scope) has learned, stored with it, so
// input read again is not learned twice. Learning is not idempotent (an event learned twice counts
// twice toward the identity's days, hours, ranges and volumes), yet input is read again all the
// time: `vigil replay` reads every file from its start on every run (the alerts table absorbs
// repeated alerts), `vigil run` re-reads from checkpoints kept behind what detection still held,
// `vigil baseline learn` may be pointed at history already learned.
//
// The detector meets events in event-time order (released by `EventTimeBuffer`; late ones never
// reach it), so what a baseline has learned is exactly: every event of it before `time`, and the
// first `count` of its events at `time`. Read again in the same order, the same events are the
// ones skipped (`AlreadyLearned`).
//
// Per baseline, not one mark for the whole store: a baseline of a rule added later, or of an
// identity whose events another process learned into another database until a rebalance, learns
// its history when that is read, whatever the other baselines have learned.
//
// `run` names the detector run that stored the mark (`AnomalyDetector` takes a new number from the
// store each time it starts). A baseline written back and read again in the same run (an
// eviction at the memory bound) learned its events at `time` in this run, so nothing is skipped.
public struct LearnedThrough: Codable, Sendable, Hashable {
    /// Nanoseconds since the epoch of the newest event learned.
    public private(set) var time: Int64
    /// Events learned at exactly `time`.
    public private(set) var count: Int
    /// The run that learned them.
    public private(set) var run: Int64

    public init(time: Int64, count: Int, run: Int64) {
        self.time = time
        self.count = count
        self.run = run
    }

    /// One more event learned, at `t`, in `run` (events come in event-time order).
    mutating func learned(at t: Int64, run: Int64) {
        self.run = run
        if t > time {
            time = t
            count = 1
        } else if t == time {
            count += 1
        }
    }
}

/// Which of a baseline's events the run skips because its stored mark says they are learned.
struct AlreadyLearned {
    private var mark: LearnedThrough?
    private var metAtMark = 0

    static let none = AlreadyLearned(nil)

    /// The mark `stored` with the baseline, unless the current run (`run`) wrote it.
    init(_ stored: LearnedThrough?, run: Int64 = 0) {
        mark = stored.flatMap { $0.count > 0 && $0.run != run ? $0 : nil }
    }

    /// Whether the baseline's next event, at `t`, was learned before.
    mutating func covers(_ t: Int64) -> Bool {
        guard let m = mark else { return false }
        if t < m.time { return true }
        if t == m.time, metAtMark < m.count {
            metAtMark += 1
            return true
        }
        mark = nil   // past the mark: nothing later was learned
        return false
    }
}
