import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil replay' is not built yet")
    }
}
