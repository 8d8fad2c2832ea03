// `vigil rules explain ID` for a correlation: its window semantics, base rules and keys.
import EventModel

extension CompiledRuleSet {
    /// The plan of one correlation, for `vigil rules explain`.
    public func explain(_ c: CompiledCorrelation) -> String {
        var out = "correlation \(c.id): \(c.title)\n"
        out += "  defined at: \(c.location)\n"
        out += "  type: \(c.type.rawValue), timespan \(c.timespanText) (\(c.timespanSeconds) s of event time)\n"
        switch c.type {
        case .temporalOrdered:
            out += "  condition: every rule, in the order listed, first to last within the timespan\n"
        case .temporal:
            out += "  condition: distinct rules matched \(c.condition.summary) within the timespan\n"
        default:
            let what = c.type == .eventCount ? "events" : c.type == .valueCount ? "distinct values of \(c.condition.field ?? "?")"
                : c.type == .valueSum ? "sum of \(c.condition.field ?? "?")" : "average of \(c.condition.field ?? "?")"
            out += "  condition: \(what) \(c.condition.summary)\n"
        }
        out += c.condition.firesEarly
            ? "  window: sliding, ending at each new event of the group; fires on the event that meets the condition, then the group restarts\n"
            : "  window: anchored at the group's first event; judged when event time passes its end (or at end of input)\n"
        out += "  group-by: " + (c.groupBy.isEmpty ? "(none: one group)" : c.groupBy.joined(separator: ", ")) + "\n"
        out += "  severity: \(c.severity.rawValue); generate the referenced rules' own alerts: \(c.generate)\n"
        if !c.tactics.isEmpty || !c.techniques.isEmpty {
            out += "  attack: tactics [\(c.tactics.joined(separator: ", "))], techniques [\(c.techniques.joined(separator: ", "))]\n"
        }
        out += "  rules:\n"
        for (i, s) in c.steps.enumerated() {
            if let chain = s.chained, chain.correlation < correlations.correlations.count {
                let inner = correlations.correlations[chain.correlation]
                out += "    \(i + 1). \(s.reference) → correlation \(inner.id) (\(inner.title)) at \(inner.location): its alerts are this step's events\n"
                for (g, p) in zip(c.groupBy, chain.keyPositions) { out += "         key \(g): its group-by \(inner.groupBy[p])\n" }
                if let p = chain.valuePosition { out += "         value \(c.condition.field ?? ""): its group-by \(inner.groupBy[p])\n" }
                continue
            }
            let r = rules[s.ruleIndex]
            out += "    \(i + 1). \(s.reference) → rule \(r.id) (\(r.title)) at \(r.location)\n"
            for (g, src) in zip(c.groupBy, s.groupSources) { out += "         key \(g): \(src)\n" }
            if let v = s.valueSource { out += "         value \(c.condition.field ?? ""): \(v)\n" }
            out += "         entities: " + s.entities.map { "\($0.kind.rawValue)=\($0.source)" }.joined(separator: ", ") + "\n"
        }
        return out
    }
}
