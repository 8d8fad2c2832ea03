import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tail", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil tail' is not built yet")
    }
}
