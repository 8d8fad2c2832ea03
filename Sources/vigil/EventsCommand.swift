import ArgumentParser
import Pipeline
import EventDecoding
import EventModel
import FastJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `vigil events`: prints every input record as the normalised event rules see, one JSON object per
/// line. Bad input is reported on stderr (and with `--errors` as JSON lines) and reading goes on.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print normalised events as JSON lines: what rules see.",
        discussion: """
        Reads files, directories (recursively; Azure storage-export trees oldest hour first) and '-' \
        (standard input). Formats are detected from content: JSON lines, {"records":[…]} envelopes, \
        arrays, single or pretty-printed documents, REST list bodies, Log Analytics CSV, and gzip of \
        any of these. Each line is the raw record with a "vigil" object of typed fields in front; \
        --fields prints only the given paths (vigil.* or raw, dotted, case-insensitive).
        """
    )

    @OptionGroup var input: InputOptions

    @Option(help: ArgumentHelp("Comma-separated paths to print instead of whole events.", valueName: "a,b,c"))
    var fields: String?

    @Flag(help: "Exit non-zero when any input error was reported.")
    var strict = false

    func run() throws {
        let fromTime = input.fromTime, toTime = input.toTime
        let started = MonotonicClock.now()
        let inputs: InputSet
        do {
            inputs = try InputSet(paths: input.paths, from: fromTime, to: toTime)
        } catch {
            for d in error.diagnostics { StandardStreams.writeError("\(d)\n") }
            throw ExitCode(2)
        }
        var errorFile: UnsafeMutablePointer<FILE>?
        if let errors = input.errors {
            guard let f = fopen(errors, "w") else {
                throw ValidationError("--errors: cannot open '\(errors)' for writing: \(String(cString: strerror(errno)))")
            }
            errorFile = f
        }
        defer { if let errorFile { fclose(errorFile) } }

        var printer = EventPrinter(fields: fields.map(Self.splitFields), errorFile: errorFile)
        var reader = RecordReader(options: ReaderOptions(maxLineBytes: input.maxLineBytes, from: fromTime, to: toTime))
        for file in inputs.files {
            try reader.read(file, into: &printer)
        }
        printer.flush()

        let stats = reader.stats
        let seconds = max(MonotonicClock.now() - started, 1e-9)
        let mb = Double(stats.bytesDecoded) / 1_000_000
        var summary = "vigil events: \(stats.summary)"
        if !inputs.skippedByTime.isEmpty { summary += ", \(inputs.skippedByTime.count) export files outside --from/--to" }
        summary += ", \(formatted(mb)) MB in \(formatted(seconds)) s (\(formatted(mb / seconds)) MB/s)\n"
        StandardStreams.writeError(summary)
        if strict, stats.errorCount > 0 { throw ExitCode(1) }
    }

    static func splitFields(_ text: String) -> [FieldPath] {
        text.split(separator: ",").map { part in
            FieldPath(String(part.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()))
        }.filter { !$0.text.isEmpty }
    }

    private func formatted(_ v: Double) -> String {
        let scaled = (v * 100).rounded() / 100
        return String(scaled)
    }
}

/// Prints events to stdout (buffered) and diagnostics to stderr and the `--errors` file.
struct EventPrinter: EventConsumer {
    let fields: [FieldPath]?
    let errorFile: UnsafeMutablePointer<FILE>?
    private var out = JSONWriter(capacity: 1 << 20)
    private let flushAt = 1 << 20

    init(fields: [FieldPath]?, errorFile: UnsafeMutablePointer<FILE>?) {
        self.fields = fields
        self.errorFile = errorFile
    }

    mutating func event(_ event: Event) throws {
        if let fields { event.writeFields(fields, to: &out) } else { event.writeJSON(to: &out) }
        out.raw(0x0A)
        if out.bytes.count >= flushAt { flush() }
    }

    mutating func diagnostic(_ diagnostic: Diagnostic) {
        StandardStreams.writeError("\(diagnostic)\n")
        guard let errorFile else { return }
        let line = DiagnosticReporter.json(diagnostic) + "\n"
        _ = line.withCString { fputs($0, errorFile) }
    }

    mutating func flush() {
        out.bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = write(1, buf.baseAddress! + done, buf.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
        out.removeAll()
    }
}
