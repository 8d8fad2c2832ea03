/// Baseline areas × controls × the rules that guard them: what `vigil rules coverage` prints and the
/// HTML report's coverage section shows.
///
/// Every catalogue control is listed under its default area, guarded or not, so gaps show; a rule's
/// (area, control) pair outside that default (IM-8 under containers) adds a row there too. Controls
/// that are processes (secure development, training, Blueprints) are marked as not visible in logs.
public struct CoverageMatrix: Sendable, Hashable {
    /// A rule's `vigil.baseline` block, with its id and title.
    public struct Rule: Sendable, Hashable {
        public var id: String
        public var title: String
        public var area: String
        public var controls: [String]
        /// Where it was read from (empty when built in code).
        public var file: String

        public init(id: String, title: String, area: String, controls: [String], file: String = "") {
            self.id = id
            self.title = title
            self.area = area
            self.controls = controls
            self.file = file
        }
    }

    public enum Status: String, Sendable, Hashable {
        /// At least one rule guards it.
        case guarded
        /// Logs could show it, but no rule does yet.
        case gap
        /// A process: no log line can show it.
        case processOnly = "process-only"
    }

    public struct Control: Sendable, Hashable {
        public var id: String
        public var title: String
        public var visibleInLogs: Bool
        /// `false` when a rule names a control the catalogue does not know.
        public var inCatalogue: Bool
        public var rules: [Rule]

        public var status: Status { !visibleInLogs && rules.isEmpty ? .processOnly : rules.isEmpty ? .gap : .guarded }
    }

    public struct Area: Sendable, Hashable {
        public var name: String
        public var controls: [Control]
    }

    public var areas: [Area]
    public var rules: [Rule]

    /// Rules as `(id, title, area, controls)`; `catalogue` supplies the controls every matrix lists.
    public init(rules: [(id: String, title: String, area: String, controls: [String])],
                catalogue: BaselineCatalogue = .azureMachineLearning) {
        self.init(rules: rules.map { Rule(id: $0.id, title: $0.title, area: $0.area, controls: $0.controls) },
                  catalogue: catalogue)
    }

    public init(rules: [Rule], catalogue: BaselineCatalogue = .azureMachineLearning) {
        self.rules = rules
        var areaOrder = catalogue.areas
        var rows: [String: [Control]] = [:]   // area (lowercased) → rows, in insertion order
        func areaKey(_ name: String) -> String {
            if let known = areaOrder.first(where: { $0.equalsIgnoringCase(name) }) { return known }
            areaOrder.append(name)
            return name
        }
        func addRow(area: String, controlId: String) -> (String, Int) {
            let a = areaKey(area)
            if let i = rows[a, default: []].firstIndex(where: { $0.id.equalsIgnoringCase(controlId) }) { return (a, i) }
            let known = catalogue.control(id: controlId)
            rows[a, default: []].append(Control(id: known?.id ?? controlId, title: known?.title ?? "(not in the catalogue)",
                                                visibleInLogs: known?.visibleInLogs ?? true, inCatalogue: known != nil,
                                                rules: []))
            return (a, rows[a]!.count - 1)
        }
        for c in catalogue.controls { _ = addRow(area: c.area, controlId: c.id) }
        for rule in rules.sorted(by: { ($0.title, $0.id) < ($1.title, $1.id) }) {
            for c in rule.controls {
                let (a, i) = addRow(area: rule.area, controlId: c)
                rows[a]![i].rules.append(rule)
            }
        }
        areas = areaOrder.compactMap { name in
            guard let r = rows[name], !r.isEmpty else { return nil }
            // Catalogue order first, then controls only rules named, by id.
            let known = r.filter(\.inCatalogue), extra = r.filter { !$0.inCatalogue }.sorted { $0.id < $1.id }
            return Area(name: name, controls: known + extra)
        }
    }

    /// Distinct control ids (across areas) by their status; a control guarded in any area counts as guarded.
    public var controlIdsByStatus: [Status: Set<String>] {
        var byId: [String: Status] = [:]
        for a in areas {
            for c in a.controls {
                let s = c.status
                if byId[c.id] != .guarded { byId[c.id] = s }
            }
        }
        var out: [Status: Set<String>] = [:]
        for (id, s) in byId { out[s, default: []].insert(id) }
        return out
    }

    /// One line of totals: "48 rules guard 20 of 23 log-visible controls; 3 process-only controls".
    public var summaryLine: String {
        let s = controlIdsByStatus
        let guarded = s[.guarded]?.count ?? 0, visible = guarded + (s[.gap]?.count ?? 0)
        let process = s[.processOnly]?.count ?? 0
        return "\(rules.count) rule\(rules.count == 1 ? "" : "s") guard \(guarded) of \(visible) log-visible controls; "
            + "\(process) process-only control\(process == 1 ? "" : "s") cannot show in logs"
    }

    /// The `vigil rules coverage` text: per area, each control with its status and the rules guarding it.
    ///
    ///     identity
    ///       IM-8   guarded  Restrict the exposure of credentials and secrets
    ///              - Azure ML Workspace Secrets Listed by a User (9f1c…)
    ///       PA-6   gap      Use privileged access workstations
    public func renderText() -> String {
        let idWidth = max(6, areas.flatMap(\.controls).map(\.id.count).max() ?? 0)
        var out = "Baseline coverage: \(summaryLine)\n"
        for area in areas {
            out += "\n\(area.name)\(area.name == BaselineCatalogue.processArea ? " (not visible in logs)" : "")\n"
            for c in area.controls {
                let status = c.status.rawValue
                out += "  " + c.id.padded(to: idWidth) + " " + status.padded(to: 13) + " " + c.title + "\n"
                for r in c.rules {
                    out += String(repeating: " ", count: idWidth + 17) + "- \(r.title) (\(r.id))\n"
                }
            }
        }
        return out
    }
}

extension String {
    func padded(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
