import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil init' is not built yet")
    }
}
