public import CairnCore
public import CairnStore
import Foundation
import Synchronization

/// How many waiting jobs the queue accepts before it pushes back.
public struct QueueLimits: Sendable, Equatable {
    /// Waiting (queued or retry-pending) jobs one tenant may have.
    public var perTenant: Int
    /// Waiting jobs across all tenants.
    public var total: Int

    public init(perTenant: Int = 10_000, total: Int = 100_000) {
        self.perTenant = perTenant
        self.total = total
    }
}

/// The front door for new jobs: checks the kind against the catalog, fills in its defaults and
/// applies backpressure before anything is written.
///
/// The per-tenant cap is exact (checked in the enqueue transaction). The total is checked
/// against a count at most a second old, shared by this process's requests, so the global
/// check costs one bounded query per second instead of one per enqueue; under a burst from
/// many nodes it can overshoot by what they enqueue within that second.
public final class JobQueue: Sendable {
    public let catalog: JobCatalog
    public let limits: QueueLimits
    private let store: CairnStore
    private let totalSample = Mutex<(count: Int, taken: ContinuousClock.Instant)?>(nil)

    public init(store: CairnStore, catalog: JobCatalog, limits: QueueLimits = QueueLimits()) {
        self.store = store
        self.catalog = catalog
        self.limits = limits
    }

    /// Enqueues a submission of a submittable kind; `overloaded` (with a retry delay) when a cap
    /// would be passed, and then nothing is written.
    public func submit(_ submission: NewJob, by principal: Principal) async throws -> (job: Job, created: Bool) {
        let new = newJob(submission, handler: try catalog.submittableHandler(for: submission.kind))
        try await checkTotal(adding: 1)
        return try await store.jobs.enqueue(new, by: principal, tenantQueueCap: limits.perTenant)
    }

    /// Enqueues jobs of any kind this deployment runs, on behalf of another operation (an
    /// upload's ingestion, a case pack's extractions), all or none.
    public func enqueue(_ submissions: [NewJob], by principal: Principal) async throws -> Int {
        let batch = try submissions.map { submission in
            guard let handler = catalog.handler(for: submission.kind) else {
                throw CairnError(.misconfigured, "No handler is registered for job kind '\(submission.kind)'.")
            }
            return newJob(submission, handler: handler)
        }
        try await checkTotal(adding: batch.count)
        return try await store.jobs.enqueueBatch(batch, by: principal, tenantQueueCap: limits.perTenant)
    }

    /// The submission with its handler's default attempts where it names none.
    private func newJob(_ submission: NewJob, handler: any JobHandler) -> NewJob {
        var job = submission
        job.maxAttempts = submission.maxAttempts ?? handler.defaultMaxAttempts
        return job
    }

    private func checkTotal(adding count: Int) async throws {
        let now = ContinuousClock.now
        let waiting: Int
        if let sample = totalSample.withLock({ $0 }), now - sample.taken < .seconds(1) {
            waiting = sample.count
        } else {
            waiting = try await store.jobs.waitingCount(upTo: limits.total + 1)
            totalSample.withLock { $0 = (waiting, now) }
        }
        guard waiting + count <= limits.total else {
            var error = CairnError(.overloaded, "Cairn's job queue is full (\(limits.total) waiting jobs); try again shortly.")
            error.retryAfter = .seconds(5)
            throw error
        }
        // Count this process's own enqueues into the sample so a burst here cannot overshoot.
        totalSample.withLock { $0?.count += count }
    }
}
