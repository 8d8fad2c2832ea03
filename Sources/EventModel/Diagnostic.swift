/// A located problem: bad input, a bad rule, a bad config key. A diagnostic without a location is
/// a bug in the code that made it.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible, Error {
    public enum Level: String, Sendable, Codable { case error, warning, note }

    public var level: Level
    /// Stable, dotted code: `input.malformed-json`, `rule.unknown-modifier`, `config.unknown-key`.
    public var code: String
    public var message: String
    public var location: SourceLocation

    public init(_ level: Level, code: String, _ message: String, at location: SourceLocation) {
        self.level = level
        self.code = code
        self.message = message
        self.location = location
    }

    /// `file:line:column: error[code]: message`
    public var description: String { "\(location): \(level.rawValue)[\(code)]: \(message)" }
}

/// A place in a text file (rules, config) or a byte stream (input).
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var offset: Int64?

    public init(file: String, line: Int? = nil, column: Int? = nil, offset: Int64? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String {
        var s = file
        if let line {
            s += ":\(line)"
            if let column { s += ":\(column)" }
        } else if let offset {
            s += "@\(offset)"
        }
        return s
    }
}
