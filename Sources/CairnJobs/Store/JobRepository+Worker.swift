public import CairnCore
public import CairnStore
public import Foundation
import PostgresKit
import PostgresNIO
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
    /// On PostgreSQL the claim is one statement whose `FOR UPDATE SKIP LOCKED` lets workers on
    /// any number of nodes claim at once without blocking each other or taking the same job;
    /// `session` (a worker's own connection) spares it a transaction's round trips. SQLite has
    /// no `LATERAL`, so there it is three statements in one transaction, whose single writer
    /// gives the same guarantee within its process.
    public func claim(
        worker: String,
        limit: Int,
        leaseFor lease: Duration,
        perTenantCap: Int,
        now: Date = Date(),
        via session: (any PlatformSession)? = nil
    ) async throws -> [Job] {
        guard limit > 0 else { return [] }
        let at = EpochMilliseconds.milliseconds(now)
        let expires = EpochMilliseconds.milliseconds(now, plus: lease)
        let run: @Sendable (Transaction) async throws -> [Job] = { transaction in
            switch transaction.engine {
            case .postgres:
                try await transaction.execute(ClaimStatement(worker: worker, limit: limit, at: at, expires: expires, perTenantCap: perTenantCap))
            case .sqlite:
                try await Self.claimStepwise(worker: worker, limit: limit, at: at, expires: expires, perTenantCap: perTenantCap, in: transaction)
            }
        }
        if let session { return try await session.run(run) }
        return try await database.transaction(.platform, run)
    }

    private static func claimStepwise(
        worker: String,
        limit: Int,
        at: Int64,
        expires: Int64,
        perTenantCap: Int,
        in transaction: Transaction
    ) async throws -> [Job] {
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
        var ids: [String] = []
        for (tenant, running) in tenants where ids.count < limit {
            let take = min(share, limit - ids.count, perTenantCap - running)
            ids += try await transaction.sql.raw(
                """
                SELECT id FROM jobs
                WHERE tenant_id = \(bind: tenant) AND state IN ('queued', 'failed') AND run_at <= \(bind: at)
                ORDER BY priority DESC, run_at, id LIMIT \(bind: take)
                """
            ).all().map { try $0.string("id") }
        }
        guard !ids.isEmpty else { return [] }
        return try await transaction.sql.raw(
            """
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = \(bind: worker),
                   lease_expires_at = \(bind: expires), updated_at = \(bind: at)
            WHERE id IN (\(binds: ids))
            RETURNING *
            """
        ).all().map(Self.job)
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

    /// A successful attempt to record.
    public struct Completion: Sendable, Equatable, Encodable {
        public var id: JobID
        public var result: String?

        public init(id: JobID, result: String? = nil) {
            self.id = id
            self.result = result
        }

        /// `{"id": …, "result": …}`, as the completion statements read the batch.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id.description, forKey: .id)
            try container.encode(result, forKey: .result)
        }

        private enum CodingKeys: String, CodingKey {
            case id
            case result
        }
    }

    /// Records successes in one statement, whose WHERE clause is the lease check.
    /// Returns the ids recorded; a job missing from it had lost its lease meanwhile, and its
    /// result is discarded. Workers batch completions through their `session`.
    public func complete(
        _ completions: [Completion],
        worker: String,
        now: Date = Date(),
        via session: (any PlatformSession)? = nil
    ) async throws -> Set<JobID> {
        guard !completions.isEmpty else { return [] }
        let at = EpochMilliseconds.milliseconds(now)
        let outcomes = String(decoding: try JSONEncoder().encode(completions), as: UTF8.self)
        let run: @Sendable (Transaction) async throws -> Set<JobID> = { transaction in
            let ids: [String]
            switch transaction.engine {
            case .postgres:
                ids = try await transaction.execute(CompleteStatement(outcomes: outcomes, worker: worker, at: at))
            case .sqlite:
                ids = try await transaction.sql.raw(
                    """
                    UPDATE jobs SET state = 'succeeded', result = outcome.result, progress = 1, lease_owner = NULL, lease_expires_at = NULL,
                           finished_at = \(bind: at), updated_at = \(bind: at)
                    FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.result') AS result FROM json_each(\(bind: outcomes))) AS outcome
                    WHERE jobs.id = outcome.id AND jobs.state = 'running' AND jobs.lease_owner = \(bind: worker)
                    RETURNING jobs.id
                    """
                ).all().map { try $0.string("id") }
            }
            return try Set(
                ids.map { id in
                    guard let id = JobID(id) else { throw CairnError(.integrityViolation, "A stored job row is malformed.") }
                    return id
                }
            )
        }
        if let session { return try await session.run(run) }
        return try await database.transaction(.platform, run)
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
            try await transaction.announceWork()
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
                let errors =
                    job.errors + [
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
            if expired.contains(where: { $0.attempt < $0.maxAttempts }) { try await transaction.announceWork() }
            return expired.count
        }
    }
}

extension JobRepository {
    /// Deletes up to `limit` jobs that finished (succeeded, cancelled or dead) before `cutoff`,
    /// with their workflow steps; returns how many went. The retention task calls it until it
    /// returns less than `limit`, so no statement holds locks on more than `limit` rows.
    public func prune(finishedBefore cutoff: Date, limit: Int = 1_000) async throws -> Int {
        let before = EpochMilliseconds.milliseconds(cutoff)
        return try await database.transaction(.platform) { transaction in
            // Their workflow steps go with them (ON DELETE CASCADE).
            try await transaction.sql.raw(
                """
                DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at < \(bind: before) ORDER BY finished_at LIMIT \(bind: limit))
                RETURNING id
                """
            ).all().count
        }
    }

    /// Refreshes the query planner's statistics on the jobs table, as PostgreSQL's autovacuum
    /// does on its own schedule (a minute or more apart). Until then a plan cached while the table
    /// looked empty can read every waiting job per claim; `cairn bench queue` calls this after its
    /// warm-up, so it measures the queue as it runs in a database with history.
    public func refreshStatistics() async throws {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw("ANALYZE jobs").run()
        }
    }

    /// How many jobs sit in each unfinished state (and dead, the dead-letter queue), by tenant
    /// and kind: the queue-depth gauge. Bounded by the queue caps plus the dead jobs kept.
    public func depth() async throws -> [(tenant: TenantID, kind: String, state: JobState, count: Int)] {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw(
                """
                SELECT tenant_id, kind, state, COUNT(*) AS n FROM jobs
                WHERE state IN ('queued', 'failed', 'running', 'dead')
                GROUP BY tenant_id, kind, state
                """
            ).all().map { row in
                guard let tenant = TenantID(try row.string("tenant_id")), let state = JobState(rawValue: try row.string("state")) else {
                    throw CairnError(.integrityViolation, "A stored job row is malformed.")
                }
                return (tenant, try row.string("kind"), state, Int(try row.int64("n")))
            }
        }
    }

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

/// The PostgreSQL claim as one prepared statement (see `JobRepository.claim`): planning it
/// costs more than running it, so each connection plans it once.
private struct ClaimStatement: PostgresPreparedStatement {
    static let sql = """
        WITH waiting AS (
            SELECT t.id AS tenant_id, (SELECT COUNT(*) FROM jobs r WHERE r.tenant_id = t.id AND r.state = 'running') AS running
            FROM tenants t
            -- A LIMIT 1 probe per tenant off the claimable index: as a plain EXISTS the planner
            -- may join against every waiting job instead, which grows with queue depth.
            CROSS JOIN LATERAL (
                SELECT 1 FROM jobs j WHERE j.tenant_id = t.id AND j.state IN ('queued', 'failed') AND j.run_at <= $1 LIMIT 1
            ) ready
        ), eligible AS (
            SELECT tenant_id, running, COUNT(*) OVER () AS tenants, row_number() OVER (ORDER BY running, random()) AS turn
            FROM waiting WHERE running < $2
        ), picked AS (
            -- The locked row's ctid (the version FOR UPDATE locked, after any EvalPlanQual
            -- recheck): the UPDATE below finds it by a TID scan whatever the statistics say. By
            -- id, a generic plan cached while the table was small joins through a scan of every job.
            SELECT next.ctid FROM eligible e
            CROSS JOIN LATERAL (
                SELECT ctid FROM jobs
                WHERE tenant_id = e.tenant_id AND state IN ('queued', 'failed') AND run_at <= $1
                ORDER BY priority DESC, run_at, id
                LIMIT LEAST(($3 + e.tenants - 1) / e.tenants, $2 - e.running)
                FOR UPDATE SKIP LOCKED
            ) next
            ORDER BY e.turn
            LIMIT $3
        )
        UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = $4, lease_expires_at = $5, updated_at = $1
        FROM picked WHERE jobs.ctid = picked.ctid
        RETURNING jobs.*
        """

    let worker: String
    let limit: Int
    let at: Int64
    let expires: Int64
    let perTenantCap: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(at)
        bindings.append(Int64(perTenantCap))
        bindings.append(Int64(limit))
        bindings.append(worker)
        bindings.append(expires)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Job { try JobRepository.job(row.sql()) }
}

/// Batched completion on PostgreSQL: the outcomes travel as one JSON array, so the statement
/// text is the same for every batch size and is planned once per connection.
private struct CompleteStatement: PostgresPreparedStatement {
    static let sql = """
        UPDATE jobs SET state = 'succeeded', result = outcome.result, progress = 1, lease_owner = NULL, lease_expires_at = NULL,
               finished_at = $3, updated_at = $3
        FROM json_to_recordset($1::json) AS outcome(id text, result text)
        WHERE jobs.id = outcome.id AND jobs.state = 'running' AND jobs.lease_owner = $2
        RETURNING jobs.id
        """

    let outcomes: String
    let worker: String
    let at: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(outcomes)
        bindings.append(worker)
        bindings.append(at)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}
