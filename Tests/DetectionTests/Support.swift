@testable import Detection
import EventModel
import FastJSON
import Foundation

/// Builds events directly (the normaliser is another stage) and compiles rules from YAML text.
enum T {
    static let fieldMap: FieldMap = FieldMap.parse("""
    logsources:
      - name: activitylogs
        product: azure
        service: activitylogs
        kinds: [activity]
        fields:
          operationName: vigil.operationName
          Caller: vigil.caller
          CallerIpAddress: vigil.callerIp
          properties.message:
            logAnalytics: Properties.message
            default: properties.message
      - name: signinlogs
        product: azure
        service: signinlogs
        kinds: [signIn]
        known_fields: [ResultType, userAgent, location]
        fields:
          ResultType: vigil.result
      - name: resourcelogs
        product: azure
        service: resourcelogs
        kinds: [resourceLog]
        category_field: vigil.category
    """, file: "fieldmap.yml").0

    static func event(_ json: String, kind: EventKind = .activity, shape: RecordShape = .resourceLogExport,
                      operation: String? = nil, caller: String? = nil, ip: String? = nil, category: String? = nil,
                      result: String? = nil, id: UInt64 = 1) -> Event {
        var e = Event(kind: kind, shape: shape, record: try! JSONDocument.parse(json), position: SourcePosition(source: "test.json", line: 1), id: id)
        e.operationName = operation
        e.operation = operation?.lowercased()
        e.caller = caller
        e.callerIP = ip
        e.category = category
        e.result = result
        e.time = EventTime(parsing: "2024-05-01T10:00:00Z")
        return e
    }

    static func load(_ yaml: String, file: String = "rule.yml", placeholders: [String: [String]] = [:]) -> (RuleSet, [Diagnostic]) {
        let (rules, d1) = RuleLoader.parse(text: yaml, file: file, placeholders: placeholders)
        return (RuleSet(rules: rules), d1 + RuleLoader.duplicateIds(rules))
    }

    static func compile(_ yaml: String, file: String = "rule.yml", placeholders: [String: [String]] = [:]) -> (CompiledRuleSet, [Diagnostic]) {
        let (set, d1) = load(yaml, file: file, placeholders: placeholders)
        let (c, d2) = Compiler.compile(set, fieldMap: fieldMap)
        return (c, d1 + d2)
    }

    /// A one-selection activity-log rule.
    static func rule(_ detection: String, condition: String = "selection", service: String = "activitylogs") -> String {
        """
        title: t
        id: r1
        logsource:
          product: azure
          service: \(service)
        detection:
        \(detection.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
          condition: \(condition)
        level: high
        """
    }

    /// Does the rule (detection text) match the event?
    static func matches(_ detection: String, _ event: Event, condition: String = "selection") -> Bool {
        let (set, diags) = compile(rule(detection, condition: condition))
        precondition(set.rules.count == 1, "rule did not compile: \(diags)")
        let engine = Engine(rules: set)
        return !engine.matchingRules(event).isEmpty
    }

    static func errors(_ d: [Diagnostic]) -> [Diagnostic] { d.filter { $0.level == .error } }
}
