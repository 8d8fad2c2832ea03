import ArgumentParser

// Not built yet: its issue replaces this file. It fails loudly rather than pretending to work.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "(not built yet)")

    func run() throws {
        throw ValidationError("'vigil report' is not built yet")
    }
}
