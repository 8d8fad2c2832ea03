import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "baseline", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil baseline' is not built yet")
    }
}
