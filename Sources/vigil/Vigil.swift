import ArgumentParser

/// The `vigil` command line. Each subcommand lives in its own file and stays thin: it parses flags,
/// builds a pipeline from the library modules and prints results.
@main
struct Vigil: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "SIEM event processor for Azure Machine Learning security logs.",
        discussion: """
        Reads Azure Activity Logs, resource (diagnostic) logs, Entra sign-in/audit logs and Defender \
        for Cloud alerts; runs Sigma rules; raises incidents and delivers them to Microsoft Sentinel.
        """,
        version: "0.1.0",
        subcommands: [
            ReplayCommand.self,
            EventsCommand.self,
            RulesCommand.self,
            IncidentsCommand.self,
            OutboxCommand.self,
            TailCommand.self,
            RunCommand.self,
            BaselineCommand.self,
            ReportCommand.self,
            InitCommand.self,
        ]
    )
}
