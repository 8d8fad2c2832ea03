import ArgumentParser
import Foundation
import StateStore

struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Inspect and manage the delivery outbox.",
        subcommands: [Status.self, Retry.self, Purge.self], defaultSubcommand: Status.self)

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue depth, age, attempts and dead letters per sink.")
        @OptionGroup var state: StateDatabaseOptions
        @Option(help: "table, or json.") var format: OutputFormat = .table

        func run() throws {
            let db = try state.openForReading()
            let now = Date().timeIntervalSince1970
            let sinks = try db.outboxStatus()
            let dead = try db.deadLetters()
            if format == .json {
                for s in sinks {
                    var o: [String: Any] = ["sink": s.sink, "depth": s.depth, "attempts": s.maxAttempts,
                                            "delivered": s.delivered, "deadLetters": s.deadLetters]
                    if let t = s.oldestCreatedAt { o["oldestAgeSeconds"] = Int(now - t) }
                    if let t = s.nextAttemptAt { o["nextAttemptInSeconds"] = max(0, Int(t - now)) }
                    if let e = s.lastError { o["lastError"] = e }
                    let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            print("outbox rows: \(try db.outboxCount), dead letters: \(dead.count)")
            var rows = [["SINK", "DEPTH", "OLDEST", "ATTEMPTS", "NEXT TRY", "DELIVERED", "DEAD", "LAST ERROR"]]
            for s in sinks {
                rows.append([s.sink, String(s.depth), s.oldestCreatedAt.map { age(now - $0) } ?? "-",
                             String(s.maxAttempts), s.nextAttemptAt.map { "in " + age(max(0, $0 - now)) } ?? "-",
                             String(s.delivered), String(s.deadLetters), s.lastError ?? ""])
            }
            printTable(rows)
            if sinks.isEmpty { print("(no sink has run yet)") }
            for d in dead.prefix(20) {
                print("dead letter: sink \(d.sink) row \(d.rowId) \(d.kind) \(d.objectId) rev \(d.revision), "
                      + "\(d.attempts) attempts: \(d.reason)")
            }
            if dead.count > 20 { print("… and \(dead.count - 20) more dead letters") }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back in the queue.")
        @OptionGroup var state: StateDatabaseOptions
        @Option(help: "Only dead letters of this sink.") var sink: String?
        @Option(name: .customLong("id"), help: "Only the dead letter of this outbox row.") var row: Int64?

        func run() throws {
            let n = try state.openForWriting().retryDeadLetters(sink: sink, rowId: row)
            print("re-queued \(n) dead letter\(n == 1 ? "" : "s")")
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete delivered rows or dead letters.",
            discussion: "Delivered rows are those every sink that has run has finished.")
        @OptionGroup var state: StateDatabaseOptions
        @Flag(name: .customLong("dead-letter"), help: "Purge dead letters.") var deadLetter = false
        @Flag(help: "Purge delivered outbox rows.") var delivered = false
        @Option(name: .customLong("older-than"), help: "Only entries older than this (e.g. 7d, 24h). Default 0.")
        var olderThan: String = "0"

        func validate() throws {
            if deadLetter == delivered { throw ValidationError("pass exactly one of --dead-letter or --delivered") }
        }

        func run() throws {
            let before = Date().timeIntervalSince1970 - (try parseDuration(olderThan))
            let db = try state.openForWriting()
            if deadLetter {
                print("purged \(try db.purgeDeadLetters(before: before)) dead letters")
            } else {
                print("purged \(try db.purgeDelivered(before: before)) delivered rows")
            }
        }
    }
}

/// `42s`, `5m`, `3h`, `2d`.
private func age(_ seconds: Double) -> String {
    let s = Int(seconds)
    if s < 120 { return "\(s)s" }
    if s < 7200 { return "\(s / 60)m" }
    if s < 172_800 { return "\(s / 3600)h" }
    return "\(s / 86_400)d"
}
