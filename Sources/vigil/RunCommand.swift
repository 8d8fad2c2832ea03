import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil run' is not built yet")
    }
}
