// A baseline's learning marks (`LearnedMark`), one per source of its events. A mark says which
// stretches of event time a baseline learned, on the ground that a run reads every event from its
// first one on. That holds for one stream of logs, not across streams kept apart: an identity's
// Activity Log and its Azure ML data-plane logs (`AmlDataStoreEvent`, …) are exported to different
// storage containers and are often learned by different runs (`vigil baseline learn activity/`, and
// later `vigil baseline learn insights-logs-amldatastoreevent/` when that export is added). With one
// mark per baseline, the second run's events fell inside the first's stretches and were taken as
// learned: the data-plane history was never learned. So each source keeps its own mark, and an
// event is skipped only when its own source's mark covers it.
//
// A source is the stream an event comes from (`LearningSource`): the Activity Log (its records and
// the operations assembled from them), or, for the other kinds, the kind and the record's category
// (a diagnostic setting exports each category on its own); and the subscription, where the event
// names a resource (each subscription's Activity Log is exported by a setting of its own, and a
// subscription added later is backfilled by a run of its own: an identity active in both has
// baselines, `global` ones, that both reach). Marks stored before sources were told
// apart say nothing of which source they covered: such a mark is kept as it was read, still skips
// every source's events it covers (as before), and new learning goes to the sources' own marks.
// A baseline stored before marks existed has none: everything read is learned (as before), and
// each source's mark starts at its first event learned.
//
// Categories come from the input, so one baseline keeps at most `LearningSource.maxPerBaseline`
// named marks; a further source shares its `other` mark. Which sources share it depends only on
// the marks the baseline has, never on the order a run meets names: a stored mark keeps its name.

import EventModel

/// Where an event comes from, as marks tell learning apart: "activity" for Activity Log records and
/// assembled operations, otherwise the kind and the category lower-cased ("resourceLog/amldatastoreevent");
/// then "@" and the subscription id, lower-cased, where the event's resource has one
/// ("activity@3f2a…", "signIn/signinlogs" for tenant-wide logs).
enum LearningSource {
    static let activity = "activity"
    static let overflow = "other"
    /// Its id in every detector (`AnomalyDetector.sourceNames`).
    static let overflowId: Int32 = 0
    /// Most named marks one baseline keeps: a further source shares its `other` mark.
    static let maxPerBaseline = 64

    /// The stream part of an event's source: Activity Log records and assembled operations are one
    /// stream (`.activity`, no category); other kinds are told apart by category.
    static func stream(of event: Event) -> (kind: EventKind, category: String?) {
        let kind = event.kind
        return kind == .activity || kind == .operation ? (.activity, nil) : (kind, event.category)
    }

    static func name(kind: EventKind, category: String?, subscription: String?) -> String {
        var name: String
        switch kind {
        case .activity, .operation: name = activity
        default:
            if let category, !category.isEmpty {
                // ("@" starts the subscription: one in a category is escaped, so names cannot meet.)
                name = kind.rawValue + "/" + BaselineKeys.percentEscaped(category.lowercased(), separator: "@")
            } else {
                name = kind.rawValue
            }
        }
        if let subscription, !subscription.isEmpty { name += "@" + subscription.lowercased() }
        return name
    }
}

/// The marks of one baseline in memory, by source id (`AnomalyDetector` interns the names).
struct SourceMarks {
    private struct Mark {
        let source: Int32
        /// The stored mark, as stored and as read, until this run first meets the source in this
        /// baseline (unmet, it is stored again as it was).
        var stored: LearnedMark?
        var read: ReadMark?
        /// What this run learned, carrying the stored mark on; made when the run first meets the
        /// source here, with the time it started reading that source.
        var recent: RecentLearning?
        var already: AlreadyLearned
        /// `recent` is made (checked instead of the optional: cheaper on the hot path).
        var ready = false
        /// It was stored: a source without a stored mark may have been learned under `other`.
        var wasStored = false
        /// For a source without a stored mark, in a baseline with a stored `other` mark: what that
        /// mark covers, this source's own copy (checking stops past its newest listed event, so a
        /// shared one, advanced by one source's events, would stop for another's earlier ones).
        var viaOther: AlreadyLearned?
    }

    private var marks: [Mark] = []
    /// The mark the last event used: the next one is almost always of the same source.
    private var last = 0
    /// A mark stored before sources were told apart: kept as read; it skips what it covers, for every source.
    private var legacy: (mark: LearnedMark, already: AlreadyLearned)?
    private let window: Int64
    /// What stands for a stored mark's `since` when it has none (marks written before it was kept).
    private let fallbackSince: Int64

    /// A baseline with nothing learned yet.
    init(window: Int64) {
        self.window = window
        fallbackSince = .min
    }

    /// The marks stored with a profile: `learned` (a mark without a source is one stored before
    /// sources were told apart) and `learnedBySource`. `sourceId` interns a source's name.
    init(stored profile: AccessProfile, window: Int64, sourceId: (String) -> Int32) {
        self.window = window
        fallbackSince = profile.firstSeen &* 1_000_000_000
        var stored = profile.learnedBySource ?? []
        if var mark = profile.learned {
            if mark.source == nil {
                // Its stretch starts where the profile's first event was when it was stored: pinned,
                // since history learned from here on moves `firstSeen` back.
                if mark.since == nil { mark.since = fallbackSince }
                legacy = (mark, AlreadyLearned(mark, window: window))
            } else {
                stored.insert(mark, at: 0)
            }
        }
        for mark in stored {
            let id = sourceId(mark.source ?? LearningSource.overflow)
            // (Two marks of one source are never written: a hand-edited profile's first stands.)
            guard !marks.contains(where: { $0.source == id }) else { continue }
            let read = ReadMark(mark, window: window, since: fallbackSince)
            marks.append(Mark(source: id, stored: mark, read: read, recent: nil, already: AlreadyLearned(read, window: window), wasStored: true))
        }
    }

    /// Whether this baseline learned before the event at `t` with `id` from `source`, which this
    /// run has read since `readingSince`.
    mutating func covers(_ t: Int64, id: UInt64, source: Int32, readingSince: Int64) -> Bool {
        if legacy != nil, legacy!.already.covers(t, id: id) { return true }
        let i = index(of: source, readingSince: readingSince)
        if marks[i].already.covers(t, id: id) { return true }
        // A source this baseline stored no mark of may have been learned under its `other` mark (a
        // run that met more names than `maxSourceNames`, or a baseline past `maxPerBaseline`): that
        // mark speaks for it too.
        guard marks[i].viaOther != nil, marks[i].viaOther!.covers(t, id: id) else { return false }
        // The source's own mark lists it too: a later run, which finds that mark stored and no
        // longer asks `other`, skips it as well.
        marks[i].recent!.learned(time: t, id: id)
        return true
    }

    /// Whether this baseline stored a mark of `source`.
    func hasStored(_ source: Int32) -> Bool { marks.contains { $0.source == source && $0.wasStored } }

    /// The event at `t` with `id` from `source` is learned.
    mutating func learned(time t: Int64, id: UInt64, source: Int32, readingSince: Int64) {
        let i = index(of: source, readingSince: readingSince)
        marks[i].recent!.learned(time: t, id: id)
    }

    /// The stored marks: the legacy one as read (nil when there is none) and one per source, each
    /// carried on to what this run read of its source (`readTo`, by source id), or as stored.
    func stored(readTo: (Int32) -> Int64, sourceName: (Int32) -> String) -> (legacy: LearnedMark?, bySource: [LearnedMark]) {
        let bySource = marks.compactMap { m -> LearnedMark? in
            guard var mark = m.recent.map({ $0.mark(readTo: readTo(m.source)) }) ?? m.stored else { return nil }
            mark.source = sourceName(m.source)
            return mark
        }
        return (legacy?.mark, bySource)
    }

    /// The position of `source`'s mark (its `other` mark when it has none and the baseline keeps
    /// `maxPerBaseline` named ones), made ready for this run the first time it meets the source
    /// here: its learning carried on from the stored mark, from `readingSince`.
    @inline(__always)
    private mutating func index(of source: Int32, readingSince: Int64) -> Int {
        if last < marks.count, marks[last].source == source, marks[last].ready { return last }
        return prepare(source, readingSince: readingSince)
    }

    /// `index(of:readingSince:)` past its fast path: finds, adds or makes ready the mark.
    private mutating func prepare(_ source: Int32, readingSince: Int64) -> Int {
        let i: Int
        if let found = marks.firstIndex(where: { $0.source == source }) {
            i = found
        } else if source != LearningSource.overflowId,
                  marks.count(where: { $0.source != LearningSource.overflowId }) >= LearningSource.maxPerBaseline {
            return prepare(LearningSource.overflowId, readingSince: readingSince)
        } else {
            let other = marks.first { $0.source == LearningSource.overflowId && $0.wasStored }
            marks.append(Mark(source: source, stored: nil, read: nil, recent: nil, already: .none,
                              viaOther: source == LearningSource.overflowId ? nil : other?.already))
            i = marks.count - 1
        }
        last = i
        guard !marks[i].ready else { return i }
        // A source without a stored mark starts at its first event learned (`.min`), never at the profile's first.
        marks[i].recent = RecentLearning(window: window, continuing: marks[i].read, since: marks[i].read == nil ? .min : fallbackSince,
                                         readingSince: readingSince)
        marks[i].ready = true
        marks[i].stored = nil
        marks[i].read = nil
        return i
    }
}
