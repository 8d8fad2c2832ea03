// The parsed (not yet compiled) form of a Sigma document: what the YAML said, with a location for
// every part a diagnostic may point at. The compiler lowers it; nothing here knows about events.
import EventModel

/// A value and where it was written.
public struct Located<T: Sendable>: Sendable {
    public var value: T
    public var location: SourceLocation
    public init(_ value: T, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// One value of a detection item, typed as YAML resolved it.
public struct SigmaValue: Sendable {
    public enum Kind: Sendable, Equatable { case string, number, bool, null }
    public var kind: Kind
    /// Text as written (numbers spelled as in the YAML; `null` for null).
    public var text: String
    public var location: SourceLocation
    /// True when the text came from `%placeholder%` expansion.
    public var expanded: Bool = false

    public init(kind: Kind, text: String, location: SourceLocation) {
        self.kind = kind
        self.text = text
        self.location = location
    }
}

/// `field|mod1|mod2: values` inside a selection.
public struct SigmaFieldItem: Sendable {
    /// The field name as written (empty for a modifier-only key like `|contains`, which Sigma treats as keywords).
    public var field: String
    public var fieldLocation: SourceLocation
    public var modifiers: [Located<String>]
    public var values: [SigmaValue]
    /// True when the values were written as a YAML list (an empty list never matches).
    public var valuesWereList: Bool
}

/// A named search identifier of `detection:`.
public struct SigmaSelection: Sendable {
    public enum Body: Sendable {
        /// OR over maps; each map is an AND over its field items.
        case fieldMaps([[SigmaFieldItem]])
        /// Keyword search: any string value of the record contains one of these.
        case keywords([SigmaValue])
    }
    public var name: String
    public var location: SourceLocation
    public var body: Body
}

/// The boolean condition over selections, with quantifiers already expanded against the rule's
/// selection names.
public indirect enum ConditionExpr: Sendable {
    case selection(String, SourceLocation)
    case and([ConditionExpr])
    case or([ConditionExpr])
    case not(ConditionExpr)
    /// `1 of x*` / `all of them`, kept for `explain`; `terms` are the selections it covers.
    case quantified(all: Bool, pattern: String, terms: [String], SourceLocation)

    /// The selection names this expression reads.
    public var referencedSelections: [String] {
        switch self {
        case .selection(let n, _): return [n]
        case .and(let xs), .or(let xs): return xs.flatMap(\.referencedSelections)
        case .not(let x): return x.referencedSelections
        case .quantified(_, _, let terms, _): return terms
        }
    }
}

public struct SigmaLogSource: Sendable, Hashable {
    public var product: String?
    public var service: String?
    public var category: String?
    public var location: SourceLocation

    public static func == (a: SigmaLogSource, b: SigmaLogSource) -> Bool {
        a.product?.lowercased() == b.product?.lowercased() && a.service?.lowercased() == b.service?.lowercased()
            && a.category?.lowercased() == b.category?.lowercased()
    }
    public func hash(into h: inout Hasher) {
        h.combine(product?.lowercased()); h.combine(service?.lowercased()); h.combine(category?.lowercased())
    }
    public var description: String {
        [product.map { "product: \($0)" }, service.map { "service: \($0)" }, category.map { "category: \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
    }
}

/// The `vigil:` extension block.
public struct VigilExtension: Sendable {
    /// Entity kind → field path (`vigil.caller`, `properties.requestbody.properties.principalId`, …).
    public var entities: [(kind: Entity.Kind, path: String, location: SourceLocation)] = []
    public var groupBy: [Entity.Kind] = []
    public var groupMatchAll = false
    public var baselineArea: String?
    public var baselineControls: [String] = []
    public var attackV19: [String] = []
    public init() {}
}

/// A Sigma correlation (stateful; parsed so it is reported precisely, run by the correlation issue).
public struct SigmaCorrelation: Sendable {
    public var type: Located<String>
    public var rules: [Located<String>]
    public var groupBy: [String]
    public var timespan: Located<String>?
    public var conditionText: String?
    public var location: SourceLocation
    /// The whole `correlation:` block, for the correlation compiler (aliases, condition, generate).
    public var node: YAMLTree? = nil
}

/// A Sigma meta-filter: extra conditions ANDed onto the listed rules (allow-lists).
public struct SigmaFilter: Sendable {
    public var rules: [Located<String>]
    public var selections: [SigmaSelection]
    public var condition: ConditionExpr
    public var location: SourceLocation
}

/// One Sigma document (rule, filter or correlation) as parsed.
public struct ParsedRule: Sendable {
    public enum Kind: String, Sendable { case rule, filter, correlation }

    public var kind: Kind
    public var file: String
    /// Index of the YAML document inside the file (multi-document files).
    public var document: Int
    public var location: SourceLocation
    public var id: Located<String>?
    public var name: String?
    public var title: String
    public var status: String?
    public var description: String?
    public var level: Located<String>?
    public var tags: [Located<String>]
    public var falsepositives: [String]
    public var logsource: SigmaLogSource
    public var selections: [SigmaSelection]
    public var condition: ConditionExpr?
    public var conditionText: String
    public var filter: SigmaFilter?
    public var correlation: SigmaCorrelation?
    public var vigil: VigilExtension
    /// False when the loader reported an error for this document; the compiler skips it.
    public var isValid = true

    /// The id when present, else the title (rules without ids are legal in tests).
    public var key: String { id?.value ?? name ?? title }

    public var severity: Severity { level.flatMap { Severity(lenient: $0.value) } ?? .medium }

    public func selection(_ name: String) -> SigmaSelection? { selections.first { $0.name == name } }
}

/// Everything the loader read: rules, filters and correlations, in file order.
public struct RuleSet: Sendable {
    public var rules: [ParsedRule]
    /// Vigil's own anomaly rules (`vigil_rule: anomaly`), found in the same directories.
    public var anomalyRules: [AnomalyRule]
    public init(rules: [ParsedRule] = [], anomalyRules: [AnomalyRule] = []) {
        self.rules = rules
        self.anomalyRules = anomalyRules
    }

    public var detectionRules: [ParsedRule] { rules.filter { $0.kind == .rule } }
    public var filters: [ParsedRule] { rules.filter { $0.kind == .filter } }
    public var correlations: [ParsedRule] { rules.filter { $0.kind == .correlation } }
}
