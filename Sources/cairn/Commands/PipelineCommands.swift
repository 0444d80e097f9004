import ArgumentParser
import CairnCore
import CairnIngest
import CairnPipelines
import CairnRuntime
import CairnStore
import Foundation
import Logging

struct PipelinesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipelines",
        abstract: "Keep a tenant's extraction pipelines: versioned definitions, each immutable once created.",
        subcommands: [List.self, Show.self, Create.self, Eval.self, Golden.self, Promote.self]
    )

    struct List: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's pipelines: name, active version, latest version.")

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: DefaultTenantOption

        func run(settings: Settings, logger: Logger) async throws {
            let pipelines = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.pipelines.list(for: administrator)
            }
            guard !pipelines.isEmpty else {
                print("No pipelines yet; create one with 'cairn pipelines create NAME FILE'.")
                return
            }
            for pipeline in pipelines { print(PipelinesCommand.summary(pipeline)) }
        }
    }

    struct Show: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a pipeline's versions, and the definition of one (the active one by default)."
        )

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: DefaultTenantOption

        @Argument(help: "The pipeline's name.")
        var name: String

        @Option(help: "The version whose definition to print.")
        var version: Int?

        func run(settings: Settings, logger: Logger) async throws {
            let pipeline = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.pipelines.get(name, for: administrator)
            }
            print(PipelinesCommand.summary(pipeline))
            for version in pipeline.versions {
                let active = version.number == pipeline.activeVersion ? "  (active)" : ""
                print(
                    "  version \(version.number)  by \(version.createdBy)  \(version.createdAt.formatted(.iso8601))  sha256 \(version.checksum.prefix(12))\(active)"
                )
            }
            let number = version ?? pipeline.activeVersion ?? pipeline.latestVersion
            guard let shown = pipeline.versions.first(where: { $0.number == number }) else {
                throw CairnError(.notFound, "The pipeline '\(name)' has no version \(number.map(String.init) ?? "").")
            }
            print("\n# version \(shown.number)")
            print(shown.source)
        }
    }

    struct Create: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a version to a pipeline from a YAML or JSON definition (creating the pipeline on its first).",
            discussion: "The first version serves at once; a later one serves once promoted."
        )

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: DefaultTenantOption

        @Argument(help: "The pipeline's name: a lower-case letter, then letters, digits, _ and -.")
        var name: String

        @Argument(help: "The definition file (YAML or JSON).")
        var file: String

        func run(settings: Settings, logger: Logger) async throws {
            guard FileManager.default.fileExists(atPath: file) else { throw CairnError(.invalidInput, "There is no file at \(file).") }
            let source: String
            do {
                source = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CairnError(.invalidInput, "The definition file \(file) cannot be read as UTF-8 text.")
            }
            let pipeline = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.pipelines.createVersion(of: name, source: source, by: administrator)
            }
            let created = pipeline.latestVersion ?? 1
            print(
                "Created version \(created) of pipeline \(pipeline.name)\(pipeline.activeVersion == created ? " (active)" : "; version \(pipeline.activeVersion ?? 1) still serves")."
            )
        }
    }

    struct Eval: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a pipeline version on a golden set, as the extraction dev sets are scored.",
            discussion: """
                Runs the version over every document of DIR (documents/, labels/, optional schemas/): classified by \
                its keywords, extracted by the type's schema, checked by its rules, accepted at its threshold. Prints \
                a per-field table, then the line:
                  score=… documents=N fields=M auto_accepted=… auto_accepted_error=… cost_usd=… p95_ms=…
                """
        )

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: DefaultTenantOption

        @Argument(help: "The pipeline's name.")
        var name: String

        @Option(help: "The version to score (default: the active one).")
        var version: Int?

        @Option(help: "The golden set: a folder of documents/, labels/ and optional schemas/.")
        var golden: String

        func run(settings: Settings, logger: Logger) async throws {
            let set = try GoldenSet(folder: URL(fileURLWithPath: golden))
            let pipeline = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.pipelines.get(name, for: administrator)
            }
            let number = version ?? pipeline.activeVersion
            guard let chosen = pipeline.versions.first(where: { $0.number == number }) else {
                throw CairnError(.notFound, "The pipeline '\(name)' has no version \(number.map(String.init) ?? "active").")
            }
            let parser = DocumentParser(limits: ParsingLimits(), ocrLanguage: try settings.ocrLanguage)
            let report = try await PipelineEvaluation(parser: parser).evaluate(try chosen.definition, on: set)
            print("\(pipeline.name) version \(chosen.number) on \(set.folder.lastPathComponent):")
            for document in report.documents where document.failure != nil {
                print("\(document.id): failed: \(document.failure!)")
            }
            print(report.table)
            print(report.summaryLine)
        }
    }

    struct Golden: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep a pipeline's golden cases, which a version must score as well on before it serves.",
            subcommands: [Import.self]
        )

        struct Import: CairnCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import a golden set (documents/, labels/, optional schemas/) as the pipeline's golden cases."
            )

            @OptionGroup var logging: LoggingOptions

            @OptionGroup var tenant: DefaultTenantOption

            @Argument(help: "The pipeline's name.")
            var name: String

            @Argument(help: "The golden set's folder.")
            var folder: String

            func run(settings: Settings, logger: Logger) async throws {
                let set = try GoldenSet(folder: URL(fileURLWithPath: folder))
                let blobs = try LocalBlobStore(root: settings.blobDirectory)
                let count = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                    try await store.goldenCases.importSet(set, into: name, blobs: blobs, by: administrator)
                }
                print("Imported \(count) golden case\(count == 1 ? "" : "s") into \(name).")
            }
        }
    }

    struct Promote: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a version serve, if it scores on the golden cases no worse than the active one.",
            discussion: """
                Refused when the version scores worse overall or on a critical field than the active version, or \
                breaks its own cost or p95 bounds; the refusal names each with both figures. --override --reason \
                promotes anyway, audited with the reason. Rolling back is promoting an older version.
                """
        )

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: DefaultTenantOption

        @Argument(help: "The pipeline's name.")
        var name: String

        @Argument(help: "The version to promote.")
        var version: Int

        @Flag(help: "Promote despite regressions (needs --reason).")
        var override = false

        @Option(help: "Why the regressions are accepted; recorded in the audit trail.")
        var reason: String?

        func validate() throws {
            if override, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--override needs --reason \"…\".")
            }
        }

        func run(settings: Settings, logger: Logger) async throws {
            let blobs = try LocalBlobStore(root: settings.blobDirectory)
            let parser = DocumentParser(limits: ParsingLimits(), ocrLanguage: try settings.ocrLanguage)
            let outcome = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await PipelinePromotion(store: store, blobs: blobs, evaluation: PipelineEvaluation(parser: parser))
                    .promote(name, version: version, overrideReason: override ? reason : nil, by: administrator)
            }
            let score = String(format: "%.3f", outcome.candidate.score)
            let against = outcome.active.map { String(format: " (active version: %.3f)", $0.score) } ?? ""
            if outcome.regressions.isEmpty {
                print("Version \(version) of \(name) now serves: score \(score)\(against).")
            } else {
                print("Version \(version) of \(name) now serves, by override: \(outcome.regressions.joined(separator: "; ")).")
            }
        }
    }

    /// One line: name, active and latest version.
    static func summary(_ pipeline: Pipeline) -> String {
        "\(pipeline.name)  active: \(pipeline.activeVersion.map { "version \($0)" } ?? "none")  latest: version \(pipeline.latestVersion ?? 0)"
    }
}
