import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "incidents", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil incidents' is not built yet")
    }
}
