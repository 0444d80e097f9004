import CairnCore
import CairnStore
import Foundation
import Logging
import Tracing

/// One step of a workflow: an action and, optionally, the action that undoes it.
public struct WorkflowStep: Sendable {
    public let name: String
    let action: @Sendable (JobContext) async throws -> Void
    let compensation: (@Sendable (JobContext) async throws -> Void)?

    public init(
        _ name: String,
        run action: @escaping @Sendable (JobContext) async throws -> Void,
        compensate compensation: (@Sendable (JobContext) async throws -> Void)? = nil
    ) {
        self.name = name
        self.action = action
        self.compensation = compensation
    }
}

/// A job kind that is an ordered list of steps with compensations: a saga.
///
/// Each step's completion is persisted under the lease as it happens, so an attempt that runs
/// after a crash, a lost lease or a shutdown skips the steps already done. A failure that will
/// not be retried (not retryable, or on the last attempt), or a cancellation, undoes the
/// completed steps in reverse order, each compensation recorded as it happens; the job then
/// ends `dead` (or `cancelled`) with the steps' states visible through the API. Ingestion
/// (store blob → parse → chunk → embed → index → activate) is built this way.
public protocol Workflow: JobHandler {
    /// The steps for this job, in order. The names must be the same on every attempt.
    func steps(for job: JobContext) throws -> [WorkflowStep]

    /// Called once the workflow has failed for good (or was cancelled) and its completed steps
    /// were compensated: where a workflow records the outcome on what it worked on. `reason`
    /// is the failing step's own sentence.
    func workflowFailed(_ job: JobContext, reason: String) async throws
}

extension Workflow {
    public func workflowFailed(_ job: JobContext, reason: String) async throws {}

    public func run(_ job: JobContext) async throws -> String? {
        let steps = try steps(for: job)
        guard let stored = try await job.store.jobs.beginSteps(of: job.job.id, named: steps.map(\.name), worker: job.lease.worker) else {
            throw JobStop.leaseLost
        }
        var done = stored.map { $0.state == .succeeded }
        for (index, step) in steps.enumerated() where !done[index] {
            let position = index + 1
            do {
                try job.checkCancellation()
                try await record(.started, step: position, of: job)
                try await withSpan("workflow step \(step.name)") { span in
                    span.attributes["cairn.job.id"] = job.job.id.description
                    span.attributes["cairn.workflow.step"] = position
                    try await step.action(job)
                }
            } catch JobStop.cancellationRequested {
                job.logger.info("Workflow cancelled; compensating completed steps", metadata: ["step": "\(step.name)"])
                try await compensate(steps, done: done, job: job)
                try await workflowFailed(job, reason: "The job was cancelled.")
                throw JobStop.cancellationRequested
            } catch let stop as JobStop {
                // Shutdown or a lost lease: the next attempt resumes at this step.
                throw stop
            } catch {
                let failure = JobFailure.describing(error)
                if failure.retryable, !job.isFinalAttempt { throw failure }
                try await record(.failed(failure.message), step: position, of: job)
                job.logger.warning("Workflow step failed for good; compensating", metadata: ["step": "\(step.name)", "error": "\(failure.message)"])
                try await compensate(steps, done: done, job: job)
                try await workflowFailed(job, reason: failure.message)
                throw JobFailure.permanent(
                    "Step \(position) (\(step.name)) failed: \(failure.message) Completed steps were compensated in reverse order."
                )
            }
            try await record(.succeeded, step: position, of: job)
            done[index] = true
        }
        return #"{"steps":\#(steps.count)}"#
    }

    /// Undoes the completed steps, last first. A compensation that fails is recorded and the
    /// others still run: leaving more undone would be worse.
    private func compensate(_ steps: [WorkflowStep], done: [Bool], job: JobContext) async throws {
        for index in steps.indices.reversed() where done[index] {
            guard let compensation = steps[index].compensation else { continue }
            let position = index + 1
            do {
                try await withSpan("workflow compensate \(steps[index].name)") { span in
                    span.attributes["cairn.job.id"] = job.job.id.description
                    span.attributes["cairn.workflow.step"] = position
                    try await compensation(job)
                }
                try await record(.compensated, step: position, of: job)
            } catch let stop as JobStop where stop == .leaseLost {
                throw stop
            } catch {
                let message = JobFailure.describing(error).message
                job.logger.error("Compensation failed", metadata: ["step": "\(steps[index].name)", "error": "\(message)"])
                try await record(.compensationFailed(message), step: position, of: job)
            }
        }
    }

    private func record(_ transition: JobRepository.StepTransition, step position: Int, of job: JobContext) async throws {
        guard try await job.store.jobs.record(transition, step: position, of: job.job.id, worker: job.lease.worker) else {
            throw JobStop.leaseLost
        }
    }
}
