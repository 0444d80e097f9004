import CairnCore
public import CairnJobs
import CairnStore

/// Runs `agent.run` jobs: each takes one run as far as it can go (see ``Agent``).
///
/// A job killed mid-run is claimed again when its lease lapses and carries on from the stored
/// steps; an approved side effect commits together with its step, so it is made once.
public struct AgentRunHandler: JobHandler {
    public let kind = AgentRuns.jobKind
    private let agent: Agent

    public init(agent: Agent) { self.agent = agent }

    public func run(_ job: JobContext) async throws -> String? {
        guard let id = AgentRunID(try job.payload(as: AgentRuns.JobPayload.self).run) else {
            throw JobFailure.permanent("The job names no agent run.")
        }
        do {
            try await agent.advance(id, tenant: job.job.tenantID) { try job.checkCancellation() }
        } catch JobStop.cancellationRequested {
            try? await agent.fail(id, tenant: job.job.tenantID, reason: "The run was cancelled.")
            throw JobStop.cancellationRequested
        } catch let stop as JobStop {
            throw stop
        } catch {
            // The queue retries what may pass; a run whose job will not run again is told so.
            let failure = JobFailure.describing(error)
            if !failure.retryable || job.isFinalAttempt {
                let reason = (error as? CairnError)?.message ?? "an internal error; the log has its detail"
                try? await agent.fail(id, tenant: job.job.tenantID, reason: "The run could not go on: \(reason)")
            }
            throw error
        }
        return nil
    }
}
