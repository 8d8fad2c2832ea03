import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "outbox", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil outbox' is not built yet")
    }
}
