public import CairnCore
import CairnStore
public import Foundation
import SQLKit

/// A workflow job's persisted step progress. Every transition is written as it happens, under
/// the worker's lease, so an attempt that starts after a crash knows which steps are done.
extension JobRepository {
    /// What happened to a step.
    public enum StepTransition: Sendable, Equatable {
        /// An attempt is running it (counted in `runs`).
        case started
        case succeeded
        /// Its failure ended the workflow (no attempts left, or not retryable).
        case failed(String)
        case compensated
        case compensationFailed(String)
    }

    /// The workflow's steps, created as `pending` on its first attempt. `nil` if `worker` no
    /// longer holds the lease.
    public func beginSteps(of id: JobID, named names: [String], worker: String) async throws -> [JobStep]? {
        try await database.transaction(.platform) { transaction in
            guard let job = try await Self.leased(id, worker: worker, in: transaction) else { return nil }
            var steps = try await Self.steps(of: id, in: transaction)
            if steps.isEmpty {
                for (index, name) in names.enumerated() {
                    try await transaction.sql.raw(
                        """
                        INSERT INTO job_steps (job_id, tenant_id, position, name, state, runs)
                        VALUES (\(bind: id.description), \(bind: job.tenantID.description), \(bind: index + 1), \(bind: name), 'pending', 0)
                        """
                    ).run()
                }
                steps = try await Self.steps(of: id, in: transaction)
            }
            guard steps.map(\.name) == names else {
                throw CairnError(.integrityViolation, "Job \(id)'s stored steps do not match its workflow's steps.")
            }
            return steps
        }
    }

    /// Records a step transition; `false` if `worker` no longer holds the lease (nothing is written).
    public func record(_ transition: StepTransition, step position: Int, of id: JobID, worker: String, now: Date = Date()) async throws -> Bool {
        let at = EpochMilliseconds.milliseconds(now)
        let assignments: SQLQueryString =
            switch transition {
            case .started: "runs = runs + 1, error = NULL"
            case .succeeded: "state = 'succeeded', finished_at = \(bind: at)"
            case .failed(let message): "state = 'failed', error = \(bind: message), finished_at = \(bind: at)"
            case .compensated: "state = 'compensated', compensated_at = \(bind: at)"
            case .compensationFailed(let message): "state = 'compensation_failed', error = \(bind: message), compensated_at = \(bind: at)"
            }
        return try await finish(id, worker: worker, now: now) { transaction, _, _ in
            var update: SQLQueryString = "UPDATE job_steps SET "
            update += assignments
            update += " WHERE job_id = \(bind: id.description) AND position = \(bind: position)"
            try await transaction.sql.raw(update).run()
        }
    }

    /// One of the tenant's jobs with its workflow steps (empty for plain jobs), read together;
    /// `notFound` for unknown ids and other tenants' jobs alike.
    public func detail(_ id: JobID, for principal: Principal) async throws -> (job: Job, steps: [JobStep]) {
        let tenant = principal.tenantID.description
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard let job = try await Self.fetch(id, tenant: tenant, in: transaction) else { throw Self.notFound(id) }
            return (job, try await Self.steps(of: id, in: transaction))
        }
    }

    static func steps(of id: JobID, in transaction: Transaction) async throws -> [JobStep] {
        try await transaction.sql.raw("SELECT * FROM job_steps WHERE job_id = \(bind: id.description) ORDER BY position").all().map { row in
            guard let state = JobStepState(rawValue: try row.string("state")) else {
                throw CairnError(.integrityViolation, "A stored workflow step is malformed.")
            }
            return JobStep(
                position: Int(try row.int64("position")),
                name: try row.string("name"),
                state: state,
                runs: Int(try row.int64("runs")),
                error: try row.decode(column: "error", as: String?.self),
                finishedAt: try row.optionalDate("finished_at"),
                compensatedAt: try row.optionalDate("compensated_at")
            )
        }
    }
}
