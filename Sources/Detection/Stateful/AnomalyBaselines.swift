// Reading stored baselines back for people: `vigil baseline show`.
import EventModel

public enum AnomalyBaselines {
    /// Stored identity baselines, filtered by identity and workspace (case-insensitive substrings
    /// of the subject and of the scope name or key), sorted by scope then subject.
    public static func profiles(in store: BaselineStore, identity: String? = nil, workspace: String? = nil) throws -> [AccessProfile] {
        let id = identity?.lowercased(), ws = workspace?.lowercased()
        var out: [AccessProfile] = []
        for key in try store.baselineKeys(namespace: AnomalyDetector.profileNamespace) {
            guard let bytes = try store.baselineValue(namespace: AnomalyDetector.profileNamespace, key: key),
                  let p = AccessProfile.decode(bytes) else { continue }
            if let id, !p.subject.lowercased().contains(id) { continue }
            if let ws, !p.scopeName.lowercased().contains(ws), !p.scope.contains(ws) { continue }
            out.append(p)
        }
        return out.sorted { ($0.space, $0.scope, $0.subject.lowercased()) < ($1.space, $1.scope, $1.subject.lowercased()) }
    }

    /// Stored scopes (workspaces, subscriptions): since when they are watched.
    public static func scopes(in store: BaselineStore) throws -> [ScopeRecord] {
        try store.baselineKeys(namespace: AnomalyDetector.scopeNamespace).compactMap { key in
            try store.baselineValue(namespace: AnomalyDetector.scopeNamespace, key: key).flatMap(ScopeRecord.decode)
        }
    }

    /// Plain text, one block per baseline.
    public static func render(_ profiles: [AccessProfile]) -> String {
        var out = ""
        for p in profiles {
            let last = AccessProfile.day(p.lastSeen)
            let scope = p.space == "global" ? "anywhere" : "\(p.space == "workspace" ? "workspace" : p.space) \(p.scopeName)"
            out += "\(p.subject) on \(scope)\n"
            out += "  seen \(EventTime(seconds: p.firstSeen)) … \(EventTime(seconds: p.lastSeen)): \(p.events) events, "
                + "active on \(p.activeDays.count) days (\(p.activeDays(inLast: 30, before: last + 1)) of the last 30)\n"
            let ranges = p.ipRanges.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            out += "  ranges: \(ranges.isEmpty ? "none" : ranges)\n"
            out += "  busiest hours (UTC): \(p.busiestHours(5))\n"
            if !p.operations.isEmpty {
                let ops = p.operations.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }
                    .map { "\($0.key) (since \(EventTime(seconds: $0.value)))" }
                out += "  operations: \(ops.joined(separator: "\n              "))\n"
            }
            for (rule, days) in p.daily.sorted(by: { $0.key < $1.key }) {
                out += "  \(rule): " + days.map { "\(EventTime(seconds: Int64($0.day) * 86_400).iso8601.prefix(10)) \($0.count)" }.joined(separator: ", ") + "\n"
            }
            let marks = (p.learnedBySource ?? []).map { ($0.source ?? LearningSource.overflow, $0) }
                + (p.learned.map { [("any source (a mark stored before sources were told apart)", $0)] } ?? [])
            if !marks.isEmpty {
                out += "  learned from: " + marks.map { "\($0.0) \(learnedSpan($0.1))" }.joined(separator: "\n                ") + "\n"
            }
        }
        return out
    }

    /// What a mark says was read, in words: "2026-11-01T09:00:00Z … 2026-11-03T23:48:03Z", and how
    /// many stretches with gaps between them (history read in pieces; a gap was never read).
    static func learnedSpan(_ mark: LearnedMark) -> String {
        let stretches = mark.stretches
        func time(_ ns: Int64) -> String { EventTime(nanoseconds: ns - ns % 1_000_000_000).iso8601 }
        let first = stretches.first?.first.map(time) ?? "its first event"
        let span = "\(first) … \(time(stretches.last?.last ?? mark.floor))"
        return stretches.count > 1 ? span + " (\(stretches.count) stretches)" : span
    }
}
