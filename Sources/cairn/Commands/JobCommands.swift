import ArgumentParser
import CairnCore
import CairnJobs
import CairnRuntime
import CairnStore
import Foundation
import Logging

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect and steer background jobs.",
        subcommands: [List.self, Show.self, Cancel.self, Retry.self]
    )

    struct List: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's jobs, newest first.")

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: TenantOption

        @Option(help: "Only jobs in this state: queued, running, succeeded, failed, dead or cancelled.")
        var state: String?

        @Option(help: "Only jobs of this kind.")
        var kind: String?

        @Option(help: "At most this many jobs (1–500).")
        var limit: Int = 50

        func run(settings: Settings, logger: Logger) async throws {
            let jobState = try state.map { text throws(CairnError) -> JobState in try parseChoice(text, as: "a job state") }
            let page = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.jobs.list(for: administrator, state: jobState, kind: kind, limit: limit)
            }
            for job in page.items { print(JobsCommand.summary(job)) }
            if page.nextCursor != nil { print("(more jobs exist; narrow with --state or --kind, or raise --limit)") }
        }
    }

    struct Show: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job, with its progress, its workflow steps and every error.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The job id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let (job, steps) = try await JobsCommand.asOwner(ofJob: id, settings: settings, logger: logger) { store, jobID, owner in
                try await store.jobs.detail(jobID, for: owner)
            }
            print(JobsCommand.summary(job))
            print("  run at:   \(job.runAt.formatted(.iso8601))")
            print("  progress: \(Int(job.progress * 100))%\(job.progressMessage.map { " — \($0)" } ?? "")")
            if job.cancelRequested { print("  cancellation requested") }
            if let result = job.result { print("  result:   \(result)") }
            for step in steps {
                var line = "  step \(step.position) \(step.name): \(step.state.rawValue) (runs: \(step.runs))"
                if let error = step.error { line += " — \(error)" }
                print(line)
            }
            for error in job.errors {
                print(
                    "  attempt \(error.attempt) failed at \(error.at.formatted(.iso8601))\(error.retryable ? "" : " (not retryable)"): \(error.message)"
                )
            }
        }
    }

    struct Cancel: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job: at once if it waits, at its next check if it runs.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The job id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let job = try await JobsCommand.asOwner(ofJob: id, settings: settings, logger: logger) { store, jobID, owner in
                try await store.jobs.requestCancellation(jobID, by: owner)
            }
            print(job.state == .cancelled ? "Cancelled job \(job.id)." : "Cancellation requested; job \(job.id) stops at its next check.")
        }
    }

    struct Retry: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Replay a dead, cancelled or failed job from its first attempt.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The job id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let job = try await JobsCommand.asOwner(ofJob: id, settings: settings, logger: logger) { store, jobID, owner in
                try await store.jobs.replay(jobID, by: owner)
            }
            print("Job \(job.id) is queued again (its \(job.errors.count) earlier errors are kept).")
        }
    }

    /// Runs `body` on the job named by `text`, acting as its tenant's local administrator.
    static func asOwner<Result: Sendable>(
        ofJob text: String,
        settings: Settings,
        logger: Logger,
        _ body: @Sendable (CairnStore, JobID, Principal) async throws -> Result
    ) async throws -> Result {
        try await asOwningTenantAdministrator(
            of: text,
            noun: "a job id",
            settings,
            logger: logger,
            owner: { try await $0.jobs.tenant(ofJob: $1) },
            body
        )
    }

    /// One line: id, state, kind, attempts, creation time.
    static func summary(_ job: Job) -> String {
        "\(job.id)  \(job.state.rawValue)  \(job.kind)  attempt \(job.attempt)/\(job.maxAttempts)  created \(job.createdAt.formatted(.iso8601))"
    }
}
