import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil rules' is not built yet")
    }
}
