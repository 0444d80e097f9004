import CairnStore

extension Migration {
    /// Recurring schedules and a leaner hot path for the queue.
    ///
    /// - `recurring_schedules`: one row per cron-style schedule; the row's lease is the lock
    ///   that lets exactly one node run it at a time. Platform-owned, so no tenant policy.
    /// - `jobs_leases` goes: the reaper reads the running jobs' expiries off `jobs_running`
    ///   instead, and every state change writes one index fewer.
    /// - PostgreSQL: `cairn_admit_jobs` is the per-tenant cap check of the one-statement
    ///   enqueue. It locks the tenant's enqueues, then counts; being a VOLATILE function, its
    ///   count takes a snapshot after the lock is held, so concurrent enqueues cannot overshoot
    ///   the cap together (the calling statement's own snapshot predates the lock).
    static let queueMaintenance = Migration(
        version: 4,
        name: "queue_maintenance",
        sqlite: queueMaintenanceTables,
        postgres: queueMaintenanceTables + [
            """
            CREATE FUNCTION cairn_admit_jobs(tenant TEXT, adding BIGINT, cap BIGINT) RETURNS BOOLEAN
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtext('cairn.jobs.enqueue:' || tenant));
                RETURN (SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = tenant AND state IN ('queued', 'failed') LIMIT cap) AS w) + adding <= cap;
            END
            $$
            """
        ]
    )

    private static let queueMaintenanceTables = [
        "DROP INDEX jobs_leases",
        "DROP INDEX jobs_running",
        "CREATE INDEX jobs_running ON jobs (tenant_id, lease_expires_at) WHERE state = 'running'",
        """
        CREATE TABLE recurring_schedules (
            name TEXT PRIMARY KEY,
            schedule TEXT NOT NULL,
            lease_owner TEXT,
            lease_expires_at BIGINT,
            last_started_at BIGINT,
            last_finished_at BIGINT,
            last_error TEXT,
            next_run_at BIGINT NOT NULL
        )
        """,
    ]
}
