import ArgumentParser
import CairnCore
import CairnServer
import Foundation
import Logging

/// `cairn`: one binary, several roles. Everything testable lives in the libraries; this target
/// parses arguments, reads configuration and wires services.
@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Document-grounded AI for regulated enterprises.",
        subcommands: [
            Serve.self, WorkerCommand.self, Migrate.self, IngestCommand.self, SearchCommand.self, AskCommand.self, ExtractCommand.self,
            PipelinesCommand.self, CasesCommand.self, DemoCommand.self, EvalCommand.self,
            BenchCommand.self, TenantCommand.self, KeyCommand.self, JobsCommand.self, RunsCommand.self, AuditCommand.self, ConfigCommand.self,
        ]
    )
}
