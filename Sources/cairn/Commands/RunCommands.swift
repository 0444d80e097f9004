import ArgumentParser
import CairnAssistant
import CairnCore
import CairnJobs
import CairnRuntime
import CairnStore
import Foundation
import Logging

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Inspect agent runs, and approve or reject the calls they wait on.",
        subcommands: [List.self, Show.self, Approve.self, Reject.self, Proposals.self]
    )

    struct List: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's agent runs, newest first.")

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: TenantOption

        @Option(help: "Only runs in this state: running, awaiting_approval, completed or failed.")
        var state: String?

        @Option(help: "At most this many runs (1–500).")
        var limit: Int = 50

        func run(settings: Settings, logger: Logger) async throws {
            let runState = try state.map { text throws(CairnError) -> AgentRun.State in try parseChoice(text, as: "a run state") }
            let page = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.agentRuns.list(for: administrator, state: runState, limit: limit)
            }
            for run in page.items { print(RunsCommand.summary(run)) }
            if page.nextCursor != nil { print("(more runs exist; narrow with --state, or raise --limit)") }
        }
    }

    struct Show: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run with every step and guardrail decision.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The run id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let run = try await RunsCommand.asAdministrator(ofRun: id, settings: settings, logger: logger) { store, runID, administrator in
                try await store.agentRuns.get(runID, for: administrator)
            }
            print(RunsCommand.summary(run))
            print("  goal:  \(run.goal)")
            print("  tools: \(run.tools.map(\.rawValue).joined(separator: ", "))")
            print("  used:  \(run.usage.modelCalls)/\(run.limits.modelCalls) model calls, \(run.usage.cost) of \(run.limits.cost)")
            for step in run.steps {
                var line = "  step \(step.position) \(step.kind.rawValue)"
                if let tool = step.tool { line += " \(tool) \(step.arguments ?? "")" }
                line += ": \(step.state.rawValue)"
                if let decider = step.decidedBy { line += " by \(decider)" }
                print(line)
                if let output = step.output, !output.isEmpty { print("    \(output.prefix(300))") }
                for decision in step.guardrails {
                    print("    guardrail \(decision.check) \(decision.decision): \(decision.detail) (\(decision.subject))")
                }
            }
            if let outcome = run.outcome { print("  outcome: \(outcome)") }
        }
    }

    struct Approve: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Approve the call a run waits on; it is made once and the run goes on.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The run id.")
        var id: String

        @Option(help: "The waiting step you read (as 'cairn runs show' lists it); another step waiting is refused.")
        var step: Int?

        func run(settings: Settings, logger: Logger) async throws {
            let run = try await RunsCommand.decide(.approve, id: id, step: step, settings: settings, logger: logger)
            print("Approved; run \(run.id) goes on.")
        }
    }

    struct Reject: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Reject the call a run waits on; the agent is told and goes on without it.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The run id.")
        var id: String

        @Option(help: "What the agent is told.")
        var reason: String?

        @Option(help: "The waiting step you read (as 'cairn runs show' lists it); another step waiting is refused.")
        var step: Int?

        func run(settings: Settings, logger: Logger) async throws {
            let run = try await RunsCommand.decide(.reject(reason: reason), id: id, step: step, settings: settings, logger: logger)
            print("Rejected; run \(run.id) goes on without the call.")
        }
    }

    struct Proposals: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "List the review proposals that approved agent calls made, newest first.")

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: TenantOption

        @Option(help: "At most this many proposals (1–500).")
        var limit: Int = 50

        func run(settings: Settings, logger: Logger) async throws {
            let page = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.agentRuns.proposals(for: administrator, limit: limit)
            }
            for proposal in page.items {
                print(
                    "\(proposal.createdAt.formatted(.iso8601))  document \(proposal.documentID)  proposed by \(proposal.proposedBy), "
                        + "approved by \(proposal.approvedBy)  run \(proposal.runID): \(proposal.reason)"
                )
            }
            if page.items.isEmpty { print("No review proposals.") }
            if page.nextCursor != nil { print("(more proposals exist; raise --limit)") }
        }
    }

    private static func decide(_ decision: AgentRuns.Decision, id: String, step: Int?, settings: Settings, logger: Logger) async throws -> AgentRun {
        let cap = try settings.queueLimits.perTenant
        return try await asAdministrator(ofRun: id, settings: settings, logger: logger) { store, runID, administrator in
            try await store.agentRuns.decide(decision, on: runID, step: step, by: administrator, tenantQueueCap: cap)
        }
    }

    /// Runs `body` on the run named by `text`, acting as its tenant's local administrator.
    private static func asAdministrator<Result: Sendable>(
        ofRun text: String,
        settings: Settings,
        logger: Logger,
        _ body: @Sendable (CairnStore, AgentRunID, Principal) async throws -> Result
    ) async throws -> Result {
        try await asOwningTenantAdministrator(
            of: text,
            noun: "a run id",
            settings,
            logger: logger,
            owner: { try await $0.agentRuns.tenant(ofRun: $1) },
            body
        )
    }

    /// One line: id, state, owner, steps, creation time and goal.
    static func summary(_ run: AgentRun) -> String {
        "\(run.id)  \(run.state.rawValue)  \(run.owner)  \(run.usage.modelCalls) model calls  created \(run.createdAt.formatted(.iso8601))  \(run.goal.prefix(80))"
    }
}
