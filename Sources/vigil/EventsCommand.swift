import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil events' is not built yet")
    }
}
