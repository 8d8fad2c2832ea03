// Open correlation windows across restarts.
//
// Invariants:
// - Saved windows are exactly the correlator's open groups as of the save: `save(to:)` writes every
//   group a batch created or changed and deletes every group it closed (fired, judged, expired,
//   evicted); the caller runs it in the transaction that stores the batch's alerts and checkpoints,
//   so the stored windows and the stored alerts always agree (a window that fired is gone in the
//   same commit as its alert).
// - Windows are keyed by correlation rule id and group-by key. At restore, windows whose
//   correlation is no longer loaded, or whose `definitionHash` changed, are dropped (counted, and
//   deleted at the next save); windows already past their timespan are judged or expired by the
//   next event's sweep or at finish, like any other.
// - The fence: events reach the correlator in event-time order, so after a restore any event older
//   than the newest one a window took (or as old, with an id taken at that time) was already taken
//   before the save. `vigil run` re-reads from a checkpoint behind such events (the event-time
//   buffer held an earlier one); a rerun replay reads them again. They are skipped
//   (`stats.alreadyTaken`), so a restart neither counts an event twice nor raises an alert again.
// - Bounds are those of memory: `maxGroups` windows per correlation, `maxEventsPerGroup` entries,
//   `evidenceSample` evidence records and `maxEntities` entities per window.
import EventModel
import Foundation
import StateStore

extension Correlator {
    /// Every open window, in correlation then key order.
    public func snapshot() -> CorrelationSnapshot {
        var windows: [CorrelationSnapshot.Window] = []
        for (ci, state) in states.enumerated() {
            for key in state.groups.keys.sorted() { windows.append(window(ci, key: key, group: state.groups[key]!)) }
        }
        return CorrelationSnapshot(now: now, taken: taken, windows: windows)
    }

    /// Takes in saved windows (see the invariants above); call before the first event.
    @discardableResult
    public func restore(_ snapshot: CorrelationSnapshot) -> CorrelationRestoreReport {
        var report = CorrelationRestoreReport()
        var index: [String: Int] = [:]
        for (ci, c) in set.correlations.enumerated() where index[c.id] == nil { index[c.id] = ci }
        let hashes = definitionHashes
        for w in snapshot.windows {
            guard let ci = index[w.correlationId] else {
                report.droppedRemoved += 1
                discarded.append((w.correlationId, w.key))
                continue
            }
            let steps = set.correlations[ci].steps.count
            guard hashes[ci] == w.definition, !w.entries.isEmpty, w.entries.allSatisfy({ $0.step >= 0 && $0.step < steps }) else {
                report.droppedChanged += 1
                discarded.append((w.correlationId, w.key))
                continue
            }
            var entries = w.entries.sorted { ($0.time, $0.seq) < ($1.time, $1.seq) }
            if entries.count > configuration.maxEventsPerGroup {
                report.droppedEvents += entries.count - configuration.maxEventsPerGroup
                entries.removeFirst(entries.count - configuration.maxEventsPerGroup)
            }
            let trimmed = entries.count < w.entries.count
            let group = Group(time: w.first)
            group.entries = entries
            group.last = max(w.last, entries.last!.time)
            for e in w.entities { group.add(e, cap: configuration.maxEntities) }
            states[ci].groups[w.key] = group
            if trimmed { states[ci].touched.insert(w.key) }   // the store gets the trimmed window
            seq = max(seq, entries.map(\.seq).max()!)
            report.restored += 1
        }
        // The cap may be lower than when the windows were saved.
        for state in states where state.groups.count > configuration.maxGroups {
            let victims = state.groups.sorted { ($0.value.last, $0.key) < ($1.value.last, $1.key) }
                .prefix(state.groups.count - configuration.maxGroups)
            for (key, _) in victims { state.groups[key] = nil; state.touched.insert(key) }
            report.evictedGroups += victims.count
        }
        report.restored -= report.evictedGroups
        now = max(now, snapshot.now)
        if snapshot.taken.time > taken.time { taken = snapshot.taken }
        fence = taken.time == .min ? nil : taken
        stats.restoredGroups += report.restored
        stats.discardedGroups += report.dropped
        stats.evictedGroups += report.evictedGroups
        stats.droppedEvents += report.droppedEvents
        stats.openGroups = states.reduce(0) { $0 + $1.groups.count }
        return report
    }

    /// Reads the saved windows from `store` and restores them. Rows that cannot be decoded are
    /// counted as unreadable and deleted at the next save.
    @discardableResult
    public func load(from store: CorrelationStore) throws -> CorrelationRestoreReport {
        var snapshot = CorrelationSnapshot()
        var unreadable = 0
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = Self.floatDecoding
        for row in try store.correlationWindows() {
            guard let body = try? decoder.decode(WindowBody.self, from: Data(row.body.utf8)) else {
                unreadable += 1
                discarded.append((row.correlationId, row.groupKey))
                continue
            }
            snapshot.windows.append(.init(correlationId: row.correlationId, definition: row.definition, key: row.groupKey,
                                          first: row.firstNanos, last: row.lastNanos, entries: body.entries, entities: body.entities))
        }
        let clock = try store.correlationClock()
        if let clock {
            snapshot.now = clock.nowNanos
            snapshot.taken = TakenMark(time: clock.fedNanos, ids: Set(clock.fedIds))
        }
        var report = restore(snapshot)
        report.unreadable = unreadable
        stats.discardedGroups += unreadable
        savedClock = clock
        return report
    }

    /// `load(from:)` for a pipeline that must start anyway: problems become diagnostics (a note
    /// saying what was restored and dropped; a warning when the store could not be read, in which
    /// case the run starts with no open windows).
    public func resume(from store: CorrelationStore) -> [Diagnostic] {
        let at = SourceLocation(file: (store as? StateDatabase)?.path ?? "correlation state")
        do {
            let r = try load(from: store)
            guard r.restored + r.dropped + r.evictedGroups > 0 else { return [] }
            var text = "restored \(r.restored) open correlation window\(r.restored == 1 ? "" : "s")"
            if r.dropped > 0 {
                text += "; dropped \(r.dropped) (\(r.droppedRemoved) of correlations no longer loaded, "
                    + "\(r.droppedChanged) of correlations whose definition changed, \(r.unreadable) unreadable)"
            }
            if r.evictedGroups > 0 { text += "; evicted \(r.evictedGroups) over the open-group cap" }
            return [Diagnostic(.note, code: "state.correlation-windows", text, at: at)]
        } catch {
            return [Diagnostic(.warning, code: "state.correlation-windows",
                               "could not read the saved correlation windows (\(error)); correlations start with no open windows", at: at)]
        }
    }

    /// Writes what changed since the last save: deletes closed windows, upserts changed ones, and
    /// the clock. Call it inside the transaction that commits the batch's alerts.
    public func save(to store: CorrelationStore) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = Self.floatEncoding
        for d in discarded { try store.removeCorrelationWindow(correlationId: d.correlationId, groupKey: d.key) }
        for (ci, state) in states.enumerated() where !state.touched.isEmpty {
            let id = set.correlations[ci].id
            for key in state.touched {
                if let g = state.groups[key] {
                    let w = window(ci, key: key, group: g)
                    let body = String(decoding: try encoder.encode(WindowBody(entries: w.entries, entities: w.entities)), as: UTF8.self)
                    try store.saveCorrelationWindow(StoredCorrelationWindow(
                        correlationId: id, groupKey: key, definition: w.definition, firstNanos: w.first,
                        lastNanos: w.last, events: w.entries.count, body: body))
                } else {
                    try store.removeCorrelationWindow(correlationId: id, groupKey: key)
                }
            }
        }
        let clock = StoredCorrelationClock(nowNanos: now, fedNanos: taken.time, fedIds: taken.ids.sorted())
        if clock != savedClock, now != .min { try store.saveCorrelationClock(clock) }
        // Every write went through: forget what was pending.
        discarded.removeAll()
        for state in states { state.touched.removeAll(keepingCapacity: true) }
        savedClock = clock
    }

    /// Windows changed or closed since the last save (for tests and metrics).
    public var unsavedWindows: Int { states.reduce(discarded.count) { $0 + $1.touched.count } }

    /// The fence after a restore: was this event already taken before the save?
    func alreadyTaken(time t: Int64, id: String) -> Bool {
        guard let f = fence else { return false }
        if t > f.time {
            fence = nil
            return false
        }
        return t < f.time || f.ids.contains(id)
    }

    private func window(_ ci: Int, key: String, group g: Group) -> CorrelationSnapshot.Window {
        let c = set.correlations[ci]
        return CorrelationSnapshot.Window(correlationId: c.id, definition: definitionHashes[ci], key: key, first: g.first,
                                          last: g.last, entries: g.entries, entities: g.entities)
    }

    /// The stored body of a window.
    struct WindowBody: Codable {
        var entries: [CorrelationEntry]
        var entities: [Entity]
    }

    /// value_sum numbers can be ±inf or NaN ("inf" parses as a Double); JSON has no such numbers.
    static var floatEncoding: JSONEncoder.NonConformingFloatEncodingStrategy {
        .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    }
    static var floatDecoding: JSONDecoder.NonConformingFloatDecodingStrategy {
        .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    }
}
