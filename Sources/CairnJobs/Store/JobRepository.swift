public import CairnCore
public import CairnStore
public import Foundation
import PostgresKit
import PostgresNIO
package import SQLKit

/// The durable job queue, on either engine.
///
/// Tenants enqueue, read, cancel and replay their own jobs (tenant-scoped transactions).
/// Workers serve every tenant, so claiming, heartbeats, completion and the lease reaper run
/// platform-scoped, and every worker-side write checks that the caller still holds the lease:
/// a worker that lost its lease to the reaper can no longer change the job.
public struct JobRepository: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    // MARK: Tenant side

    /// Enqueues a job for the principal's tenant. With an idempotency key already used for this
    /// kind, nothing is added and the existing job is returned with `created == false`.
    ///
    /// With a `tenantQueueCap`, a tenant whose waiting jobs (queued or awaiting a retry) would
    /// exceed it is refused with `overloaded`, and nothing is written.
    ///
    /// On PostgreSQL the common case is one prepared statement that scopes itself, checks the
    /// cap, inserts and notifies (see `EnqueueStatement`). When it inserts nothing (the cap is
    /// reached, or the key was used) the transaction below runs to tell which; that is also
    /// SQLite's only path.
    public func enqueue(
        _ new: NewJob,
        by principal: Principal,
        tenantQueueCap: Int? = nil,
        now: Date = Date()
    ) async throws -> (job: Job, created: Bool) {
        let tenant = principal.tenantID.description
        if database.engine == .postgres {
            try Self.validate(new)
            let announce = database.workAnnouncements?.claim() ?? true
            let statement = EnqueueStatement(
                job: new,
                tenant: tenant,
                cap: tenantQueueCap,
                announce: announce,
                now: EpochMilliseconds.milliseconds(now)
            )
            if let job = try await database.withUnscopedConnection({ try await $0.execute(statement) }).first {
                if !announce { database.workAnnouncements?.missed() }
                return (job, true)
            }
        }
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            if let job = try await Self.insert([new], tenant: tenant, cap: tenantQueueCap, now: now, in: transaction).first {
                return (job, true)
            }
            guard
                let key = new.idempotencyKey,
                let existing = try await transaction.sql.raw(
                    "SELECT * FROM jobs WHERE tenant_id = \(bind: tenant) AND kind = \(bind: new.kind) AND idempotency_key = \(bind: key)"
                ).first().map(Self.job)
            else {
                throw CairnError(.internalFailure, "An enqueued job could not be read back.")
            }
            return (existing, false)
        }
    }

    /// Enqueues many jobs for the principal's tenant in one transaction and one statement per
    /// 500 rows: the batched path for bulk work (a 40-document case pack, a re-index). All or
    /// none are written; returns how many were new (idempotency keys already used are skipped).
    public func enqueueBatch(_ batch: [NewJob], by principal: Principal, tenantQueueCap: Int? = nil, now: Date = Date()) async throws -> Int {
        guard !batch.isEmpty else { return 0 }
        let tenant = principal.tenantID.description
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await Self.insert(batch, tenant: tenant, cap: tenantQueueCap, now: now, in: transaction).count
        }
    }

    /// Validates and inserts jobs, announcing them to idle workers; returns the rows that were
    /// new (RETURNING spares reading them back).
    package static func insert(_ jobs: [NewJob], tenant: String, cap: Int?, now: Date, in transaction: Transaction) async throws -> [Job] {
        for new in jobs { try validate(new) }
        if let cap { try await checkCapacity(adding: jobs.count, tenant: tenant, cap: cap, in: transaction) }
        let created = EpochMilliseconds.milliseconds(now)
        var inserted: [Job] = []
        for chunk in stride(from: 0, to: jobs.count, by: 500).map({ jobs[$0..<min($0 + 500, jobs.count)] }) {
            var statement: SQLQueryString = """
                INSERT INTO jobs (id, tenant_id, kind, payload, priority, run_at, attempt, max_attempts, state, idempotency_key,
                                  progress, errors, cancel_requested, created_at, updated_at) VALUES
                """
            for (index, new) in chunk.enumerated() {
                statement += index == 0 ? " " : ", "
                statement += """
                    (\(bind: JobID().description), \(bind: tenant), \(bind: new.kind), \(bind: new.payload), \(bind: new.priority),
                     \(bind: EpochMilliseconds.milliseconds(new.runAt ?? now)), 0, \(bind: new.attempts), 'queued',
                     \(bind: new.idempotencyKey), 0, '[]', 0, \(bind: created), \(bind: created))
                    """
            }
            // ON CONFLICT DO NOTHING makes concurrent enqueues with one key create one job.
            statement += " ON CONFLICT (tenant_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING *"
            if transaction.engine == .postgres {
                // The NOTIFY rides on the INSERT: an uncorrelated subquery runs once, and only
                // if a row came back, which saves the enqueue a round trip.
                statement =
                    "WITH inserted AS (\(statement)) SELECT inserted.*, (SELECT pg_notify(\(bind: WorkBell.channel), '')) AS announced FROM inserted"
            }
            inserted += try await transaction.sql.raw(statement).all().map(Self.job)
        }
        if !inserted.isEmpty, transaction.engine == .sqlite { try await transaction.announceWork() }
        return inserted
    }

    static func validate(_ new: NewJob) throws {
        try TextRules.validate(new.kind, field: "A job kind", maximumLength: 100)
        if let key = new.idempotencyKey { try TextRules.validate(key, field: "An idempotency key", maximumLength: 200) }
        guard (1...100).contains(new.attempts) else {
            throw CairnError(.invalidInput, "A job takes 1–100 attempts.")
        }
        // Handlers and the API read the payload back as JSON; refuse anything else up front.
        guard new.payload.utf8.count <= 1 << 20,
            (try? JSONSerialization.jsonObject(with: Data(new.payload.utf8), options: [.fragmentsAllowed])) != nil
        else {
            throw CairnError(.invalidInput, "A job's payload must be JSON of at most 1 MiB.")
        }
    }

    /// Refuses `adding` more waiting jobs past the tenant's cap. The count reads at most `cap`
    /// index entries, so its cost is bounded whatever the queue depth. On PostgreSQL
    /// `cairn_admit_jobs` takes a transaction-scoped lock per tenant before it counts, so
    /// concurrent enqueues cannot overshoot together; SQLite's single writer already serialises
    /// them.
    package static func checkCapacity(adding: Int, tenant: String, cap: Int, in transaction: Transaction) async throws {
        let admitted: Bool
        switch transaction.engine {
        case .postgres:
            admitted =
                try await transaction.sql.raw("SELECT cairn_admit_jobs(\(bind: tenant), \(bind: adding), \(bind: cap)) AS admitted")
                .first()?.decode(column: "admitted", as: Bool.self) ?? false
        case .sqlite:
            let waiting =
                try await transaction.sql.raw(
                    """
                    SELECT COUNT(*) AS n FROM (SELECT 1 FROM jobs WHERE tenant_id = \(bind: tenant) AND state IN ('queued', 'failed') LIMIT \(bind: cap)) AS w
                    """
                ).first()?.decode(column: "n", as: Int.self) ?? 0
            admitted = waiting + adding <= cap
        }
        guard admitted else {
            var error = CairnError(.overloaded, "The tenant's job queue is full (\(cap) waiting jobs); try again when some have run.")
            error.retryAfter = .seconds(5)
            throw error
        }
    }

    /// One job of the principal's tenant; `notFound` for unknown ids and other tenants' jobs alike.
    public func get(_ id: JobID, for principal: Principal) async throws -> Job {
        let tenant = principal.tenantID.description
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard let job = try await Self.fetch(id, tenant: tenant, in: transaction) else { throw Self.notFound(id) }
            return job
        }
    }

    /// The tenant's jobs, newest first, optionally of one state and kind, a page at a time.
    public func list(
        for principal: Principal,
        state: JobState? = nil,
        kind: String? = nil,
        limit: Int = 100,
        after cursor: String? = nil
    ) async throws -> Page<Job> {
        try PageCursor.validate(limit: limit)
        let position = try NewestFirstPosition(cursor: cursor)
        let tenant = principal.tenantID.description
        let jobs = try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var query: SQLQueryString = "SELECT * FROM jobs WHERE tenant_id = \(bind: tenant)"
            if let state { query += " AND state = \(bind: state.rawValue)" }
            if let kind { query += " AND kind = \(bind: kind)" }
            if let position { query += position.filter }
            query += NewestFirstPosition.order
            query += " LIMIT \(bind: limit + 1)"
            return try await transaction.sql.raw(query).all().map(Self.job)
        }
        return Page(fetched: jobs, limit: limit) { NewestFirstPosition.position(createdAt: $0.createdAt, id: $0.id.description) }
    }

    /// Cancels a job: at once when it is waiting, cooperatively when it runs (the handler sees
    /// the request at its next check). Cancelling a finished job is a conflict.
    public func requestCancellation(_ id: JobID, by principal: Principal, now: Date = Date()) async throws -> Job {
        try await change(id, by: principal, action: "job.cancel", now: now) { job, at in
            switch job.state {
            case .queued, .failed: "state = 'cancelled', cancel_requested = 1, finished_at = \(bind: at)"
            case .running: "cancel_requested = 1"
            case .succeeded, .dead, .cancelled:
                throw CairnError(.conflict, "Job \(id) has already finished (\(job.state.rawValue)); there is nothing to cancel.")
            }
        }
    }

    /// Replays a dead, cancelled or failed job from its first attempt, keeping its error history.
    /// A workflow keeps the steps that are still done; failed and compensated ones run again.
    public func replay(_ id: JobID, by principal: Principal, now: Date = Date()) async throws -> Job {
        try await change(id, by: principal, action: "job.replay", now: now) { job, at in
            guard [.dead, .cancelled, .failed].contains(job.state) else {
                throw CairnError(.conflict, "Job \(id) is \(job.state.rawValue); only dead, cancelled or failed jobs can be replayed.")
            }
            return """
                state = 'queued', attempt = 0, run_at = \(bind: at), cancel_requested = 0, lease_owner = NULL,
                lease_expires_at = NULL, finished_at = NULL
                """
        }
    }

    /// Changes one of the principal's jobs on its behalf, in one transaction: locks it (`notFound`
    /// if it is not the tenant's), lets `assignments` choose the new column values or refuse,
    /// applies them, and records `action` in the tenant's audit trail.
    private func change(
        _ id: JobID,
        by principal: Principal,
        action: String,
        now: Date,
        _ assignments: @Sendable (Job, Int64) throws -> SQLQueryString
    ) async throws -> Job {
        let tenant = principal.tenantID.description
        let at = EpochMilliseconds.milliseconds(now)
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard let job = try await Self.fetch(id, tenant: tenant, in: transaction, locking: true) else { throw Self.notFound(id) }
            var update: SQLQueryString = "UPDATE jobs SET "
            update += try assignments(job, at)
            update += ", updated_at = \(bind: at) WHERE id = \(bind: id.description) AND tenant_id = \(bind: tenant) RETURNING *"
            guard let changed = try await transaction.sql.raw(update).first().map(Self.job) else { throw Self.notFound(id) }
            if changed.state == .queued {
                try await transaction.sql.raw(
                    """
                    UPDATE job_steps SET state = 'pending', error = NULL, finished_at = NULL, compensated_at = NULL
                    WHERE job_id = \(bind: id.description) AND state <> 'succeeded'
                    """
                ).run()
                try await transaction.announceWork()
            }
            try await AuditLog.append(
                AuditRecord(actor: principal.auditActor, action: action, targetType: "job", targetID: id.description, details: ["kind": job.kind]),
                tenantID: principal.tenantID,
                in: transaction,
                at: now
            )
            return changed
        }
    }

    /// The tenant a job belongs to, for `cairn jobs show|cancel|retry ID` run by whoever holds
    /// the database (they act as that tenant's local administrator).
    public func tenant(ofJob id: JobID) async throws -> Tenant {
        try await database.transaction(.platform) { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT t.id, t.name, t.created_at FROM jobs j JOIN tenants t ON t.id = j.tenant_id WHERE j.id = \(bind: id.description)"
                ).first()
            else { throw Self.notFound(id) }
            return try TenantRepository.tenant(row)
        }
    }

    // MARK: Helpers

    /// Runs `update` if `worker` still holds the lease on `id`; `false` otherwise.
    func finish(
        _ id: JobID,
        worker: String,
        now: Date,
        _ update: @Sendable (Transaction, Job, Int64) async throws -> Void
    ) async throws -> Bool {
        let at = EpochMilliseconds.milliseconds(now)
        return try await database.transaction(.platform) { transaction in
            guard let job = try await Self.leased(id, worker: worker, in: transaction) else { return false }
            try await update(transaction, job, at)
            return true
        }
    }

    static func leased(_ id: JobID, worker: String, in transaction: Transaction) async throws -> Job? {
        try await transaction.sql.raw(
            "SELECT * FROM jobs WHERE id = \(bind: id.description) AND state = 'running' AND lease_owner = \(bind: worker)\(transaction.rowLockClause)"
        ).first().map(job)
    }

    static func fetch(_ id: JobID, tenant: String, in transaction: Transaction, locking: Bool = false) async throws -> Job? {
        let lock: SQLQueryString = locking ? transaction.rowLockClause : ""
        return try await transaction.sql.raw(
            "SELECT * FROM jobs WHERE id = \(bind: id.description) AND tenant_id = \(bind: tenant)\(lock)"
        ).first().map(job)
    }

    /// The job of `kind` a tenant enqueued with `idempotencyKey`, for an operation that queued it
    /// once and finds it again on a repeat.
    package static func keyed(
        kind: String,
        idempotencyKey: String,
        tenant: TenantID,
        in transaction: Transaction
    ) async throws -> Job? {
        try await transaction.sql.raw(
            """
            SELECT * FROM jobs
            WHERE tenant_id = \(bind: tenant.description) AND kind = \(bind: kind) AND idempotency_key = \(bind: idempotencyKey)
            """
        ).first().map(job)
    }

    /// The payloads of every tenant's jobs of `kind` that are still to run (queued, running or
    /// waiting for a retry), as (tenant, payload) pairs: which pieces of work a queue still holds.
    package static func unfinishedPayloads(ofKind kind: String, in transaction: Transaction) async throws -> Set<TenantPayload> {
        let rows = try await transaction.sql.raw(
            "SELECT tenant_id, payload FROM jobs WHERE kind = \(bind: kind) AND state IN ('queued', 'running', 'failed')"
        ).all()
        return Set(try rows.map { TenantPayload(tenant: try $0.string("tenant_id"), payload: try $0.string("payload")) })
    }

    /// A job's payload with the tenant it belongs to.
    package struct TenantPayload: Hashable, Sendable {
        package let tenant: String
        package let payload: String

        package init(tenant: String, payload: String) {
            self.tenant = tenant
            self.payload = payload
        }
    }

    static func notFound(_ id: JobID) -> CairnError {
        CairnError(.notFound, "There is no job with id \(id).")
    }

    static func encode(_ errors: [JobAttemptError]) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return String(decoding: try encoder.encode(errors), as: UTF8.self)
    }

    package static func job(_ row: any SQLRow) throws -> Job {
        guard let id = JobID(try row.string("id")), let tenantID = TenantID(try row.string("tenant_id")),
            let state = JobState(rawValue: try row.string("state"))
        else {
            throw CairnError(.integrityViolation, "A stored job row is malformed.")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return Job(
            id: id,
            tenantID: tenantID,
            kind: try row.string("kind"),
            payload: try row.string("payload"),
            priority: Int(try row.int64("priority")),
            runAt: try row.date("run_at"),
            attempt: Int(try row.int64("attempt")),
            maxAttempts: Int(try row.int64("max_attempts")),
            state: state,
            leaseOwner: try row.decode(column: "lease_owner", as: String?.self),
            leaseExpiresAt: try row.optionalDate("lease_expires_at"),
            idempotencyKey: try row.decode(column: "idempotency_key", as: String?.self),
            progress: try row.decode(column: "progress", as: Double.self),
            progressMessage: try row.decode(column: "progress_message", as: String?.self),
            result: try row.decode(column: "result", as: String?.self),
            errors: try decoder.decode([JobAttemptError].self, from: Data(try row.string("errors").utf8)),
            cancelRequested: try row.int64("cancel_requested") != 0,
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"),
            finishedAt: try row.optionalDate("finished_at")
        )
    }
}

/// The one-round-trip enqueue on PostgreSQL. Outside a transaction, so the statement sets its
/// own tenant scope: the inserted row's tenant is the value `set_config` returned, so the row
/// cannot exist before the scope that row-level security checks it against. The cap check is
/// `cairn_admit_jobs` (exact under concurrency), and the NOTIFY runs only if a row came back and
/// the caller's `AnnouncementThrottle` allowed it.
private struct EnqueueStatement: PostgresPreparedStatement {
    static let sql = """
        WITH scope AS MATERIALIZED (
            SELECT set_config('cairn.tenant_id', $1, true) AS tenant_id, set_config('cairn.platform', 'off', true) AS platform
        ), admitted AS MATERIALIZED (
            SELECT tenant_id FROM scope WHERE $2::BIGINT IS NULL OR cairn_admit_jobs(tenant_id, 1, $2::BIGINT)
        ), inserted AS (
            INSERT INTO jobs (id, tenant_id, kind, payload, priority, run_at, attempt, max_attempts, state, idempotency_key,
                              progress, errors, cancel_requested, created_at, updated_at)
            SELECT $3, tenant_id, $4, $5, $6, $7, 0, $8, 'queued', $9, 0, '[]', 0, $10, $10 FROM admitted
            ON CONFLICT (tenant_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING *
        )
        SELECT inserted.*, (SELECT pg_notify('\(WorkBell.channel)', '') WHERE $11) AS announced FROM inserted
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .text, .text, .text, .int8, .int8, .int8, .text, .int8, .bool]

    let job: NewJob
    let tenant: String
    let cap: Int?
    /// Whether the statement sends the `NOTIFY` (see `AnnouncementThrottle`).
    let announce: Bool
    let now: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11)
        bindings.append(tenant)
        if let cap { bindings.append(Int64(cap)) } else { bindings.appendNull() }
        bindings.append(JobID().description)
        bindings.append(job.kind)
        bindings.append(job.payload)
        bindings.append(Int64(job.priority))
        bindings.append(job.runAt.map { EpochMilliseconds.milliseconds($0) } ?? now)
        bindings.append(Int64(job.attempts))
        if let key = job.idempotencyKey { bindings.append(key) } else { bindings.appendNull() }
        bindings.append(now)
        bindings.append(announce)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Job { try JobRepository.job(row.sql()) }
}
