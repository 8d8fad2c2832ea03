import ArgumentParser
import EventDecoding
import EventModel

/// The input options `vigil events` and `vigil replay` share: what to read, which time range,
/// where else input problems go, and the largest record accepted.
struct InputOptions: ParsableArguments {
    @Argument(help: "Files, directories, or '-' for standard input.")
    var paths: [String]

    @Option(help: ArgumentHelp("Only events at or after this time (ISO 8601).", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Only events before this time (ISO 8601).", valueName: "time"))
    var to: String?

    @Option(help: ArgumentHelp("Also write input problems to this file, as JSON lines.", valueName: "file"))
    var errors: String?

    @Option(help: "Longest line, element or document accepted, in bytes.")
    var maxLineBytes: Int = ReaderOptions.defaultMaxLineBytes

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one path (or '-' for standard input)") }
        if maxLineBytes < 1 { throw ValidationError("--max-line-bytes must be positive") }
        for (flag, value) in [("--from", from), ("--to", to)] {
            if let value, EventTime(parsing: value) == nil { throw ValidationError("\(flag): '\(value)' is not an ISO 8601 time") }
        }
    }

    /// `--from` as a time (`validate` has checked it parses).
    var fromTime: EventTime? { from.flatMap(EventTime.init(parsing:)) }
    /// `--to` as a time.
    var toTime: EventTime? { to.flatMap(EventTime.init(parsing:)) }
}
