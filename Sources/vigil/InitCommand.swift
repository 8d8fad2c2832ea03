import ArgumentParser
import Glibc
import Pipeline

/// `vigil init`: writes a commented vigil.yaml covering every source and sink.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented vigil.yaml covering every source and sink.",
        discussion: "Edit it, export the variables it names, then check it with 'vigil run --config vigil.yaml --check'.")

    @Option(help: ArgumentHelp("Where to write it ('-' for standard output).", valueName: "file"))
    var output: String = "vigil.yaml"

    @Flag(help: "Overwrite an existing file.")
    var force = false

    func run() throws {
        if output == "-" {
            StandardStreams.writeOutput(ConfigTemplate.text)
            return
        }
        if access(output, F_OK) == 0 && !force {
            throw ValidationError("\(output) exists; pass --force to overwrite it")
        }
        guard let f = fopen(output, "w") else {
            throw ValidationError("cannot write \(output): \(String(cString: strerror(errno)))")
        }
        let ok = fputs(ConfigTemplate.text, f) >= 0
        if fclose(f) != 0 || !ok { throw ValidationError("cannot write \(output): \(String(cString: strerror(errno)))") }
        StandardStreams.writeError("""
        wrote \(output). Set these environment variables (or edit the file), then check it:
          \(ConfigTemplate.requiredEnvironment.joined(separator: " "))
          vigil run --config \(output) --check

        """)
    }
}
