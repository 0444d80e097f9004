import ArgumentParser
import CairnCore
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

        @Option(help: "Tenant name.")
        var tenant: String

        @Option(help: "Only jobs in this state: queued, running, succeeded, failed, dead or cancelled.")
        var state: String?

        @Option(help: "Only jobs of this kind.")
        var kind: String?

        @Option(help: "At most this many jobs (1–500).")
        var limit: Int = 50

        func run(settings: Settings, logger: Logger) async throws {
            let tenantName = try TenantName(tenant)
            let jobState = try state.map { text throws(CairnError) in
                guard let state = JobState(rawValue: text) else {
                    throw CairnError(.invalidInput, "'\(text)' is not a job state; use one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                return state
            }
            let page = try await withStore(settings, logger: logger) { store in
                guard let tenant = try await store.tenants.find(name: tenantName) else {
                    throw CairnError(.notFound, "There is no tenant named '\(tenantName)'.")
                }
                return try await store.jobs.list(for: .localAdministrator(of: tenant), state: jobState, kind: kind, limit: limit)
            }
            for job in page.items { print(JobsCommand.summary(job)) }
            if page.nextCursor != nil { print("(more jobs exist; narrow with --state or --kind, or raise --limit)") }
        }
    }

    struct Show: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job, with its progress and every error.")

        @Argument(help: "The job id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let jobID = try JobsCommand.parse(id)
            let job = try await withStore(settings, logger: logger) { store in
                try await store.jobs.get(jobID, for: .localAdministrator(of: try await store.jobs.tenant(ofJob: jobID)))
            }
            print(JobsCommand.summary(job))
            print("  run at:   \(job.runAt.formatted(.iso8601))")
            print("  progress: \(Int(job.progress * 100))%\(job.progressMessage.map { " — \($0)" } ?? "")")
            if job.cancelRequested { print("  cancellation requested") }
            if let result = job.result { print("  result:   \(result)") }
            for error in job.errors {
                print("  attempt \(error.attempt) failed at \(error.at.formatted(.iso8601))\(error.retryable ? "" : " (not retryable)"): \(error.message)")
            }
        }
    }

    struct Cancel: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job: at once if it waits, at its next check if it runs.")

        @Argument(help: "The job id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let jobID = try JobsCommand.parse(id)
            let job = try await withStore(settings, logger: logger) { store in
                try await store.jobs.requestCancellation(jobID, by: .localAdministrator(of: try await store.jobs.tenant(ofJob: jobID)))
            }
            print(job.state == .cancelled ? "Cancelled job \(job.id)." : "Cancellation requested; job \(job.id) stops at its next check.")
        }
    }

    struct Retry: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Replay a dead, cancelled or failed job from its first attempt.")

        @Argument(help: "The job id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let jobID = try JobsCommand.parse(id)
            let job = try await withStore(settings, logger: logger) { store in
                try await store.jobs.replay(jobID, by: .localAdministrator(of: try await store.jobs.tenant(ofJob: jobID)))
            }
            print("Job \(job.id) is queued again (its \(job.errors.count) earlier errors are kept).")
        }
    }

    static func parse(_ text: String) throws(CairnError) -> JobID {
        guard let id = JobID(text) else { throw CairnError(.invalidInput, "'\(text.prefix(80))' is not a job id (a UUID).") }
        return id
    }

    /// One line: id, state, kind, attempts, creation time.
    static func summary(_ job: Job) -> String {
        "\(job.id)  \(job.state.rawValue)  \(job.kind)  attempt \(job.attempt)/\(job.maxAttempts)  created \(job.createdAt.formatted(.iso8601))"
    }
}
