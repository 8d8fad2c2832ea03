import ArgumentParser
import EventDecoding
import EventModel
import FastJSON
import Glibc
import Ingest
import Logging

/// `vigil tail PATH...`: follows files and export trees and prints each event as a JSON line.
/// Keeps no state: every run starts per `--from-beginning` / `--from-end`.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow log files and export directory trees; print events as JSON lines.",
        discussion: "Waits for each line's newline, follows renames and truncation, reads dropped-in .gz archives once.")

    @Argument(help: "Files or directories to follow (directories recursively).")
    var paths: [String]

    @Flag(name: .customLong("from-beginning"), help: "Read files that exist at startup from their beginning (default).")
    var fromBeginning = false

    @Flag(name: .customLong("from-end"), help: "Read only what is appended to files that exist at startup.")
    var fromEnd = false

    @Flag(name: .customLong("no-inotify"), help: "Poll instead of using inotify.")
    var noInotify = false

    @Option(name: .customLong("max-events"), help: "Stop after this many events (for scripts and tests).")
    var maxEvents: Int?

    func validate() throws {
        if fromBeginning && fromEnd { throw ValidationError("--from-beginning and --from-end exclude each other") }
        if paths.isEmpty { throw ValidationError("give at least one file or directory") }
    }

    func run() throws {
        var config = TailConfiguration(startPosition: fromEnd ? .end : .beginning)
        config.useInotify = !noInotify
        let source = TailSource(paths: paths, configuration: config, checkpoints: InMemoryCheckpointStore(),
                                logger: Logger(label: "vigil.tail"))
        var printer = TailEventPrinter(limit: maxEvents)
        let normalizer = Normalizer()
        while !printer.done {
            let lines = try source.poll(maxLines: 4096)
            for line in lines where !printer.done {
                try JSONRecords.decode(line.bytes, at: line.position, normalizer: normalizer, into: &printer)
            }
            fflush(nil)   // every stream: lines appear as they are read
            if lines.isEmpty { source.wait(timeout: .seconds(1)) }
        }
    }
}

/// Prints `{"source":…,"id":…,"kind":…,"shape":…,"record":{…}}` per event; diagnostics go to stderr.
struct TailEventPrinter: EventConsumer {
    let limit: Int?
    var printed = 0
    var done: Bool { limit.map { printed >= $0 } ?? false }

    mutating func event(_ event: Event) {
        guard !done else { return }
        var w = JSONWriter()
        w.beginObject()
        w.key("source"); w.writeString(event.position.description); w.comma()
        w.key("id"); w.writeString(event.idString); w.comma()
        w.key("kind"); w.writeString(event.kind.rawValue); w.comma()
        w.key("shape"); w.writeString(event.shape.rawValue); w.comma()
        w.key("record"); w.write(event.record.root)
        w.endObject()
        print(w.text)
        printed += 1
    }

    mutating func diagnostic(_ diagnostic: Diagnostic) {
        let text = "\(diagnostic)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
