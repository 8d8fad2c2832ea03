// One event checked against one baseline: whether it is an anomaly, and the sentence that says why
// in words and numbers.
import EventModel

struct Check {
    let event: Event
    let time: EventTime
    let subject: String
    let scope: ScopeValue
    let space: Space
    /// The identity's baseline in this scope before this event (nil: never seen here).
    let before: AccessProfile?
    let scopeRecord: ScopeRecord
    let range: String?

    var day: Int32 { AccessProfile.day(time.seconds) }

    /// Whether the rule's learning period is over for this event.
    func learned(_ rule: AnomalyRule) -> Bool {
        Check.learned(rule, time: time, subjectFirstSeen: before?.firstSeen, scopeFirstSeen: scopeRecord.firstSeen)
    }

    static func learned(_ rule: AnomalyRule, time: EventTime, subjectFirstSeen: Int64?, scopeFirstSeen: Int64) -> Bool {
        let need = Int64(rule.learningDays) * 86_400
        switch rule.kind {
        case .firstAccess, .firstSensitiveOperation:
            return scopeFirstSeen + need <= time.seconds
        case .newIPRange, .unusualHour, .volumeSpike:
            guard let subjectFirstSeen else { return false }
            return subjectFirstSeen + need <= time.seconds && scopeFirstSeen + need <= time.seconds
        }
    }

    /// Whether the event is an anomaly for `rule` against the baseline `before` it (nil: never
    /// seen here; ranges and operations by id), read in place: the cheap test the hot path runs for every selected rule;
    /// `finding` words it (and is non-nil exactly when this is true). Volume spikes: see `volumeSpike`.
    static func isAnomaly(_ rule: RuleFacts, operation: Int32?, time: EventTime, before: CacheBox<LiveProfile>?, range: Int32?) -> Bool {
        switch rule.kind {
        case .firstAccess:
            return before == nil
        case .firstSensitiveOperation:
            guard let operation else { return false }
            guard let before else { return true }
            return !before.value.operations.contains(operation)
        case .newIPRange:
            guard let before, let range else { return false }
            return !before.value.ranges.contains(range)
        case .unusualHour:
            let t = rule.thresholds
            guard let before, before.value.profile.events >= t.minEvents else { return false }
            let near = before.value.profile.eventsNear(hour: time.hourOfWeek, tolerance: t.toleranceHours)
            return Double(near) / Double(max(1, before.value.profile.events)) <= t.maxShare
        case .volumeSpike:
            return false
        }
    }

    /// The explanation when the event is an anomaly for `rule` (volume spikes: see `volumeSpike`).
    func finding(_ rule: AnomalyRule) -> String? {
        switch rule.kind {
        case .firstAccess: return firstAccess()
        case .firstSensitiveOperation: return firstSensitiveOperation()
        case .newIPRange: return newIPRange()
        case .unusualHour: return unusualHour(rule.thresholds)
        case .volumeSpike: return nil
        }
    }

    // MARK: kinds

    func firstAccess() -> String? {
        guard before == nil else { return nil }
        let watched = max(0, (time.seconds - scopeRecord.firstSeen) / 86_400)
        return "first access by \(subject) to \(scopePhrase) (\(operationPhrase)); "
            + "\(scope.name) has been watched for \(watched) days and used by \(scopeRecord.subjects) other "
            + "\(scopeRecord.subjects == 1 ? "identity" : "identities"); \(thisCall)"
    }

    func firstSensitiveOperation() -> String? {
        guard let op = event.operation, before?.operations[op] == nil else { return nil }
        let attempt = isFailure ? " (attempted, \(event.result ?? "failed"))" : ""
        return "first \(shortOperation) by \(subject) on \(scopePhrase)\(attempt); \(usage); \(thisCall)"
    }

    func newIPRange() -> String? {
        guard let before, let range, before.ipRanges[range] == nil else { return nil }
        return "\(subject) used \(scopePhrase) from a network range never seen for them: \(range) "
            + "(\(event.callerIP ?? "?"), \(operationPhrase)); \(usage)"
    }

    func unusualHour(_ t: AnomalyRule.Thresholds) -> String? {
        guard let before, before.events >= t.minEvents else { return nil }
        let hour = time.hourOfWeek
        let near = before.eventsNear(hour: hour, tolerance: t.toleranceHours)
        let share = Double(near) / Double(max(1, before.events))
        guard share <= t.maxShare else { return nil }
        let days = max(1, (time.seconds - before.firstSeen) / 86_400)
        let tolerance = t.toleranceHours > 0 ? " (±\(t.toleranceHours) h)" : ""
        let seen = near == 0 ? "was never active" : "had only \(near) of \(before.events) events (\(percent(share)))"
        return "\(subject) acted on \(scopePhrase) at \(AccessProfile.hourName(hour)) UTC (\(operationPhrase)); "
            + "in \(before.events) events over \(days) days \(subject) \(seen) at that hour of the week\(tolerance); "
            + "busiest hours: \(before.busiestHours())"
    }

    /// The explanation of a volume spike: today's count (this event included) first passed the
    /// threshold.
    func volumeSpike(_ rule: AnomalyRule, today: Int, busiest: Int, mean: Double, threshold: Int) -> String {
        let t = rule.thresholds
        let what = rule.categories.isEmpty ? "matching" : rule.categories.joined(separator: "/")
        let date = String(time.iso8601.prefix(10))
        return "\(subject) made \(today) \(what) calls on \(scopePhrase) on \(date) (so far); over the previous "
            + "\(t.historyDays) days their busiest day had \(busiest) and the daily mean was \(oneDecimal(mean)); "
            + "threshold max(\(t.minimum), \(oneDecimal(t.factor)) × \(busiest)) = \(threshold); \(thisCall)"
    }

    // MARK: phrases

    var scopePhrase: String {
        switch space.scope {
        case .workspace: return "workspace \(scope.name)"
        case .global: return "Azure"
        case .path(let p): return "\(p.split(separator: ".").last.map(String.init) ?? p) \(scope.name)"
        }
    }

    var usage: String {
        let active = before.map { "on \($0.activeDays(inLast: 30, before: day + 1)) of the last 30 days, \($0.rangesSummary)" } ?? ""
        if case .global = space.scope {
            guard before != nil else { return "\(subject) had never been seen before" }
            return "\(subject) was active \(active)"
        }
        guard let before else { return "\(subject) had never used \(scope.name) before" }
        return "\(subject) used \(scope.name) on \(before.activeDays(inLast: 30, before: day + 1)) of the last 30 days, \(before.rangesSummary)"
    }

    var thisCall: String {
        guard let range else { return "this call carried no caller address" }
        let new = before.map { $0.ipRanges[range] == nil && !$0.ipRanges.isEmpty } ?? false
        return "this call came from \(range)\(new ? " (new)" : "")"
    }

    var operationPhrase: String {
        let op = shortOperation
        guard let result = event.result else { return op }
        return "\(op), \(result)"
    }

    /// `datastores/listsecrets` from `Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action`.
    var shortOperation: String {
        guard let name = event.operationName ?? event.operation else { return event.category ?? "an event" }
        var parts = name.split(separator: "/")
        if parts.count > 2, parts.last?.lowercased() == "action" { parts.removeLast() }
        return parts.suffix(2).joined(separator: "/")
    }

    var isFailure: Bool {
        guard let r = event.result?.lowercased() else { return false }
        return r == "failure" || r == "failed"
    }
}

func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

func oneDecimal(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}
