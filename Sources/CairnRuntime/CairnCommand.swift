package import ArgumentParser
import CairnCore
import CairnServer
import Foundation
package import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shared behaviour of the commands: configuration loading, logging bootstrap, and turning
/// failures into one plain sentence on standard error with a non-zero exit.
package protocol CairnCommand: AsyncParsableCommand {
    /// Settings given as options of this command.
    var commandLineSettings: [Setting: String] { get }
    /// `--verbose` (`@OptionGroup var logging: LoggingOptions` in each command).
    var logging: LoggingOptions { get }
    /// Whether the command runs as a service (`serve`, `worker`): it then logs JSON lines
    /// wherever its output goes, for the log pipeline that collects them.
    static var runsAsService: Bool { get }
    func run(settings: Settings, logger: Logger) async throws
}

extension CairnCommand {
    package var commandLineSettings: [Setting: String] { [:] }
    package static var runsAsService: Bool { false }

    package func run() async throws {
        OpenMPThreadLimit.ensure()
        do {
            let settings = try await Settings.load(arguments: commandLineSettings)
            let level = try settings.logLevel
            if !Self.runsAsService, isatty(STDERR_FILENO) == 1 {
                // A person is reading: routine events ("Index partition loaded") would bury the answer.
                let shown = logging.verbose ? level : max(level, .warning)
                LoggingSystem.bootstrap { _ in PlainLogHandler(level: shown) }
            } else {
                LoggingSystem.bootstrap(
                    { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
                    metadataProvider: Tracing.loggingMetadataProvider
                )
            }
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
