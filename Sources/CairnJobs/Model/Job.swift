public import CairnCore
public import Foundation

/// Where a job is in its life.
public enum JobState: String, Sendable, CaseIterable {
    /// Waiting to be claimed.
    case queued
    /// Leased to a worker.
    case running
    /// Finished with a result.
    case succeeded
    /// Its last attempt failed; it will be claimed again at `runAt`.
    case failed
    /// Out of attempts, or failed with an error marked non-retryable. Kept with its whole error
    /// history until replayed.
    case dead
    /// Cancelled before or while running.
    case cancelled
}

/// One failed attempt, as kept in the job's error history.
public struct JobAttemptError: Sendable, Equatable, Codable {
    public let attempt: Int
    public let at: Date
    public let message: String
    public let retryable: Bool

    /// An attempt's failure, for the history.
    public init(attempt: Int, at: Date, message: String, retryable: Bool) {
        self.attempt = attempt
        self.at = at
        self.message = message
        self.retryable = retryable
    }
}

/// Identifies a background job.
public typealias JobID = EntityID<Job>

/// A durable job, as stored.
public struct Job: Sendable, Equatable {
    public let id: JobID
    public let tenantID: TenantID
    /// What the job does, e.g. `document.ingest`; workers register handlers by kind.
    public let kind: String
    /// JSON text handed to the handler.
    public let payload: String
    /// Higher runs first among a tenant's ready jobs.
    public let priority: Int
    /// Not claimed before this instant.
    public let runAt: Date
    /// Attempts started so far.
    public let attempt: Int
    public let maxAttempts: Int
    public let state: JobState
    /// The worker holding the lease while running.
    public let leaseOwner: String?
    public let leaseExpiresAt: Date?
    /// Unique per tenant and kind when present: enqueueing the same key again returns this job.
    public let idempotencyKey: String?
    /// 0…1, reported by the handler.
    public let progress: Double
    public let progressMessage: String?
    /// JSON text the handler returned.
    public let result: String?
    /// Every failed attempt, oldest first.
    public let errors: [JobAttemptError]
    /// Set by a cancellation request; a running handler sees it at its next check.
    public let cancelRequested: Bool
    public let createdAt: Date
    public let updatedAt: Date
    public let finishedAt: Date?

    /// A job as read from storage.
    public init(
        id: JobID,
        tenantID: TenantID,
        kind: String,
        payload: String,
        priority: Int,
        runAt: Date,
        attempt: Int,
        maxAttempts: Int,
        state: JobState,
        leaseOwner: String?,
        leaseExpiresAt: Date?,
        idempotencyKey: String?,
        progress: Double,
        progressMessage: String?,
        result: String?,
        errors: [JobAttemptError],
        cancelRequested: Bool,
        createdAt: Date,
        updatedAt: Date,
        finishedAt: Date?
    ) {
        self.id = id
        self.tenantID = tenantID
        self.kind = kind
        self.payload = payload
        self.priority = priority
        self.runAt = runAt
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.state = state
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.idempotencyKey = idempotencyKey
        self.progress = progress
        self.progressMessage = progressMessage
        self.result = result
        self.errors = errors
        self.cancelRequested = cancelRequested
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

/// When a failed attempt is tried again: exponential backoff with full jitter.
///
/// The delay after attempt *n* is uniform in [0, min(cap, base × 2^(n−1))]. Full jitter spreads
/// retries of jobs that failed together (a dependency outage) instead of retrying them in
/// lock-step when it comes back.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration

    /// A policy; defaults to 1 second doubling up to 10 minutes.
    public init(base: Duration = .seconds(1), cap: Duration = .seconds(600)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling of the delay after `attempt` (1-based), before jitter.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let grown = base * (1 << exponent)
        return min(grown, cap)
    }

    /// The delay after `attempt`, with `unit` a uniform random number in [0, 1).
    public func delay(afterAttempt attempt: Int, unit: Double) -> Duration {
        ceiling(afterAttempt: attempt) * min(max(unit, 0), 1)
    }
}
