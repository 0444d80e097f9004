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
        subcommands: [Serve.self, WorkerCommand.self, Migrate.self, IngestCommand.self, SearchCommand.self, AskCommand.self, DemoCommand.self, EvalCommand.self, BenchCommand.self, TenantCommand.self, KeyCommand.self, JobsCommand.self, RunsCommand.self, AuditCommand.self, ConfigCommand.self]
    )
}

/// Shared behaviour of the commands: configuration loading, logging bootstrap, and turning
/// failures into one plain sentence on standard error with a non-zero exit.
protocol CairnCommand: AsyncParsableCommand {
    /// Settings given as options of this command.
    var commandLineSettings: [Setting: String] { get }
    func run(settings: Settings, logger: Logger) async throws
}

extension CairnCommand {
    var commandLineSettings: [Setting: String] { [:] }

    func run() async throws {
        do {
            let settings = try await Settings.load(arguments: commandLineSettings)
            let level = try settings.logLevel
            LoggingSystem.bootstrap(
                { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
                metadataProvider: Tracing.loggingMetadataProvider
            )
            try await run(settings: settings, logger: Logger(label: "cairn"))
        } catch let error as CairnError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        } catch let exit as ExitCode {
            throw exit
        } catch {
            // Anything else (a port in use, a missing resource) still gets one sentence; the
            // detail goes to the structured log.
            Logger(label: "cairn").error("Command failed", metadata: ["error": "\(String(reflecting: error))"])
            FileHandle.standardError.write(Data("error: \(String(describing: error))\n".utf8))
            throw ExitCode.failure
        }
    }
}
