import CairnStore

extension Migration {
    /// The durable job queue: one row per job, claimed with leases.
    ///
    /// The idempotency key is unique per tenant and kind (NULLs never collide, on either engine).
    /// `jobs_ready` serves the claim query; `jobs_by_tenant` the API's listings.
    static let jobs = Migration(
        version: 2,
        name: "jobs",
        sqlite: jobTables,
        postgres: jobTables + rowLevelSecurity("jobs")
    )

    private static let jobTables = [
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            priority BIGINT NOT NULL,
            run_at BIGINT NOT NULL,
            attempt BIGINT NOT NULL,
            max_attempts BIGINT NOT NULL,
            state TEXT NOT NULL,
            lease_owner TEXT,
            lease_expires_at BIGINT,
            idempotency_key TEXT,
            progress DOUBLE PRECISION NOT NULL,
            progress_message TEXT,
            result TEXT,
            errors TEXT NOT NULL,
            cancel_requested BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            finished_at BIGINT
        )
        """,
        "CREATE UNIQUE INDEX jobs_idempotency ON jobs (tenant_id, kind, idempotency_key)",
        "CREATE INDEX jobs_ready ON jobs (state, run_at)",
        "CREATE INDEX jobs_by_tenant ON jobs (tenant_id, created_at)",
        "CREATE INDEX jobs_leases ON jobs (state, lease_expires_at)",
    ]
}
