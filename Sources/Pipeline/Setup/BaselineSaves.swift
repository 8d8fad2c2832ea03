/// When the learned anomaly baselines are saved, and so when source positions may move (a
/// position must never cover learning the store lacks): every `everyEvents` events or, when set,
/// every `interval`, and at the end; at every commit when nothing learns baselines. Saving
/// re-encodes every baseline touched since the last save, so saving at every commit cost as much
/// as learning. Replay and run share it.
struct BaselineSaves {
    /// Events between saves by default in `vigil run` (`RunOptions.baselineEvents`; with a 30 s
    /// interval: a live stream is slow).
    static let defaultRunEvents = 100_000
    /// Events between saves by default in `vigil replay` (`ReplayOptions.baselineEvents`; with the
    /// same 30 s interval, a replay at tens of thousands of events a second saves every 1M).
    static let defaultReplayEvents = 1_000_000

    let learns: Bool
    let everyEvents: Int
    let interval: Duration?
    /// Events since the last save.
    private(set) var events = 0
    private var lastSave = ContinuousClock.now

    init(learns: Bool, everyEvents: Int, interval: Duration? = nil) {
        self.learns = learns
        self.everyEvents = everyEvents
        self.interval = interval
    }

    mutating func count(_ n: Int) { events += n }

    /// Whether this commit saves the baselines; `final`: the last one; `wanted`: the baselines ask
    /// for it (`DetectionStage.baselineSaveWanted`).
    func due(final: Bool, wanted: Bool = false) -> Bool {
        final || wanted || !learns || events >= everyEvents || interval.map { ContinuousClock.now - lastSave >= $0 } ?? false
    }

    mutating func saved() {
        events = 0
        lastSave = .now
    }
}
