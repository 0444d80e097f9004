public import CairnCore
public import Foundation
import SQLKit

/// The worker side of the queue. Workers serve every tenant, so these run platform-scoped, and
/// every write after the claim checks that the caller still holds the lease: a worker that lost
/// its lease to the reaper can no longer change the job.
extension JobRepository {
    /// Leases up to `limit` ready jobs to `worker`, fairly across tenants, never taking a
    /// tenant past `perTenantCap` running jobs.
    ///
    /// Tenants are served fewest-running first (ties in random order), and each gets at most
    /// its share of the batch before the next is asked, so one tenant's 10,000 queued jobs
    /// cannot hold back another tenant's single job for longer than a slot takes to free. The
    /// tenant's best job (priority, then age) comes straight off the `jobs_claimable` partial
    /// index, so the cost grows with the number of tenants with work, not with queue depth.
    ///
    /// On PostgreSQL `FOR UPDATE SKIP LOCKED` lets workers on any number of nodes claim at once
    /// without blocking each other or taking the same job; SQLite's single writer gives the
    /// same guarantee within its process.
    public func claim(worker: String, limit: Int, leaseFor lease: Duration, perTenantCap: Int, now: Date = Date()) async throws -> [Job] {
        guard limit > 0 else { return [] }
        let at = EpochMilliseconds.milliseconds(now)
        let expires = EpochMilliseconds.milliseconds(now, plus: lease)
        return try await database.transaction(.platform) { transaction in
            let tenants = try await transaction.sql.raw(
                """
                SELECT t.id AS tenant_id, (SELECT COUNT(*) FROM jobs r WHERE r.tenant_id = t.id AND r.state = 'running') AS running
                FROM tenants t
                WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = t.id AND j.state IN ('queued', 'failed') AND j.run_at <= \(bind: at))
                ORDER BY running, random()
                """
            ).all().map { (tenant: try $0.string("tenant_id"), running: Int(try $0.int64("running"))) }
                .filter { $0.running < perTenantCap }
            guard !tenants.isEmpty else { return [] }

            let share = max(1, (limit + tenants.count - 1) / tenants.count)
            let lock: SQLQueryString = transaction.engine == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            var ids: [String] = []
            for (tenant, running) in tenants where ids.count < limit {
                let take = min(share, limit - ids.count, perTenantCap - running)
                ids += try await transaction.sql.raw(
                    """
                    SELECT id FROM jobs
                    WHERE tenant_id = \(bind: tenant) AND state IN ('queued', 'failed') AND run_at <= \(bind: at)
                    ORDER BY priority DESC, run_at, id LIMIT \(bind: take)\(lock)
                    """
                ).all().map { try $0.string("id") }
            }
            guard !ids.isEmpty else { return [] }
            // RETURNING (both engines) hands back the leased rows without another round trip.
            return try await transaction.sql.raw(
                """
                UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = \(bind: worker),
                       lease_expires_at = \(bind: expires), updated_at = \(bind: at)
                WHERE id IN (\(binds: ids))
                RETURNING *
                """
            ).all().map(Self.job)
        }
    }

    /// Leases the next ready job, as `claim(worker:limit:…)` with a limit of one.
    public func claim(worker: String, leaseFor lease: Duration, perTenantCap: Int, now: Date = Date()) async throws -> Job? {
        try await claim(worker: worker, limit: 1, leaseFor: lease, perTenantCap: perTenantCap, now: now).first
    }

    /// What a heartbeat learned.
    public enum Heartbeat: Sendable, Equatable {
        /// The lease was extended; the handler should stop if `cancelRequested`.
        case held(cancelRequested: Bool)
        /// The lease is no longer this worker's (it expired and was reaped): stop, write nothing.
        case lost
    }

    /// Extends `worker`'s lease and records progress.
    public func heartbeat(
        _ id: JobID,
        worker: String,
        leaseFor lease: Duration,
        progress: Double? = nil,
        message: String? = nil,
        now: Date = Date()
    ) async throws -> Heartbeat {
        let at = EpochMilliseconds.milliseconds(now)
        let expires = EpochMilliseconds.milliseconds(now, plus: lease)
        return try await database.transaction(.platform) { transaction in
            guard let job = try await Self.leased(id, worker: worker, in: transaction) else { return .lost }
            let fraction = min(max(progress ?? job.progress, 0), 1)
            try await transaction.sql.raw(
                """
                UPDATE jobs SET lease_expires_at = \(bind: expires), progress = \(bind: fraction),
                       progress_message = \(bind: message ?? job.progressMessage), updated_at = \(bind: at)
                WHERE id = \(bind: id.description)
                """
            ).run()
            return .held(cancelRequested: job.cancelRequested)
        }
    }

    /// Records success; `false` if the lease was lost meanwhile (the result is then discarded).
    /// One statement: the lease check is its WHERE clause.
    public func complete(_ id: JobID, worker: String, result: String? = nil, now: Date = Date()) async throws -> Bool {
        let at = EpochMilliseconds.milliseconds(now)
        return try await database.transaction(.platform) { transaction in
            try await !transaction.sql.raw(
                """
                UPDATE jobs SET state = 'succeeded', result = \(bind: result), progress = 1, lease_owner = NULL, lease_expires_at = NULL,
                       finished_at = \(bind: at), updated_at = \(bind: at)
                WHERE id = \(bind: id.description) AND state = 'running' AND lease_owner = \(bind: worker)
                RETURNING id
                """
            ).all().isEmpty
        }
    }

    /// Records a failed attempt: retried after a backoff while attempts remain and the error is
    /// retryable, dead otherwise. `jitter` is a uniform random number in [0, 1).
    /// Returns the state the job is now in, or `nil` if the lease was lost meanwhile.
    @discardableResult
    public func fail(
        _ id: JobID,
        worker: String,
        message: String,
        retryable: Bool,
        policy: RetryPolicy = RetryPolicy(),
        jitter: Double = Double.random(in: 0..<1),
        now: Date = Date()
    ) async throws -> JobState? {
        let at = EpochMilliseconds.milliseconds(now)
        return try await database.transaction(.platform) { transaction in
            guard let job = try await Self.leased(id, worker: worker, in: transaction) else { return nil }
            let errors = job.errors + [JobAttemptError(attempt: job.attempt, at: now, message: message, retryable: retryable)]
            if retryable, job.attempt < job.maxAttempts {
                let retryAt = EpochMilliseconds.milliseconds(now, plus: policy.delay(afterAttempt: job.attempt, unit: jitter))
                try await transaction.sql.raw(
                    """
                    UPDATE jobs SET state = 'failed', errors = \(bind: try Self.encode(errors)), run_at = \(bind: retryAt),
                           lease_owner = NULL, lease_expires_at = NULL, updated_at = \(bind: at)
                    WHERE id = \(bind: id.description)
                    """
                ).run()
                return .failed
            }
            try await transaction.sql.raw(
                """
                UPDATE jobs SET state = 'dead', errors = \(bind: try Self.encode(errors)), lease_owner = NULL, lease_expires_at = NULL,
                       finished_at = \(bind: at), updated_at = \(bind: at)
                WHERE id = \(bind: id.description)
                """
            ).run()
            return .dead
        }
    }

    /// The handler stopped because cancellation was requested: the job ends `cancelled`.
    public func acknowledgeCancellation(_ id: JobID, worker: String, now: Date = Date()) async throws -> Bool {
        try await finish(id, worker: worker, now: now) { transaction, _, at in
            try await transaction.sql.raw(
                """
                UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, finished_at = \(bind: at), updated_at = \(bind: at)
                WHERE id = \(bind: id.description)
                """
            ).run()
        }
    }

    /// Hands a job back unfinished (the worker is shutting down): it is queued again at once and
    /// the interrupted attempt is not counted against `max_attempts`.
    public func release(_ id: JobID, worker: String, now: Date = Date()) async throws -> Bool {
        try await finish(id, worker: worker, now: now) { transaction, _, at in
            try await transaction.sql.raw(
                """
                UPDATE jobs SET state = 'queued', attempt = attempt - 1, run_at = \(bind: at), lease_owner = NULL, lease_expires_at = NULL,
                       updated_at = \(bind: at)
                WHERE id = \(bind: id.description)
                """
            ).run()
            try await transaction.announceJobs()
        }
    }

    /// Returns running jobs whose lease expired (their worker died or stalled) to the queue,
    /// recording the lost attempt; jobs out of attempts go dead. Returns how many were reaped.
    public func reapExpiredLeases(now: Date = Date()) async throws -> Int {
        let at = EpochMilliseconds.milliseconds(now)
        return try await database.transaction(.platform) { transaction in
            let lock: SQLQueryString = transaction.engine == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            let expired = try await transaction.sql.raw(
                "SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < \(bind: at)\(lock)"
            ).all().map(Self.job)
            for job in expired {
                let errors = job.errors + [
                    JobAttemptError(attempt: job.attempt, at: now, message: "The worker's lease expired before it finished.", retryable: true)
                ]
                let state = job.attempt < job.maxAttempts ? "queued" : "dead"
                try await transaction.sql.raw(
                    """
                    UPDATE jobs SET state = \(bind: state), errors = \(bind: try Self.encode(errors)), lease_owner = NULL, lease_expires_at = NULL,
                           finished_at = \(bind: state == "dead" ? at : nil), updated_at = \(bind: at)
                    WHERE id = \(bind: job.id.description)
                    """
                ).run()
            }
            if expired.contains(where: { $0.attempt < $0.maxAttempts }) { try await transaction.announceJobs() }
            return expired.count
        }
    }
}

extension JobRepository {
    /// Jobs waiting across all tenants (queued or awaiting a retry), counted up to `limit`: the
    /// global backpressure check reads at most that many index entries.
    public func waitingCount(upTo limit: Int) async throws -> Int {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw(
                "SELECT COUNT(*) AS n FROM (SELECT 1 FROM jobs WHERE state IN ('queued', 'failed') LIMIT \(bind: limit)) AS w"
            ).first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }
}
