import CairnStore

extension Migration {
    /// Workers, workflows and request idempotency.
    ///
    /// - `jobs_claimable` / `jobs_running` are partial indexes that keep claiming O(tenants)
    ///   whatever the queue depth: the claim picks a tenant, then reads that tenant's best job
    ///   off the index.
    /// - `job_steps`: a workflow's persisted step progress (sagas).
    /// - `idempotency_records`: `Idempotency-Key` responses, per tenant (or the platform scope).
    /// - `queue_probe_effects`: the idempotency-keyed side effect of the queue probe job kinds.
    static let workflows = Migration(
        version: 3,
        name: "workflows",
        sqlite: workflowTables,
        postgres: workflowTables + ["job_steps", "idempotency_records", "queue_probe_effects"].flatMap(rowLevelSecurity)
    )

    private static let workflowTables = [
        "DROP INDEX jobs_ready",
        "CREATE INDEX jobs_claimable ON jobs (tenant_id, priority DESC, run_at, id) WHERE state IN ('queued', 'failed')",
        "CREATE INDEX jobs_running ON jobs (tenant_id) WHERE state = 'running'",
        "CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL",
        """
        CREATE TABLE job_steps (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            position BIGINT NOT NULL,
            name TEXT NOT NULL,
            state TEXT NOT NULL,
            runs BIGINT NOT NULL,
            error TEXT,
            finished_at BIGINT,
            compensated_at BIGINT,
            PRIMARY KEY (job_id, position)
        )
        """,
        """
        CREATE TABLE idempotency_records (
            scope TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            tenant_id TEXT REFERENCES tenants (id),
            fingerprint TEXT NOT NULL,
            status BIGINT,
            content_type TEXT,
            body TEXT,
            locked_until BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (scope, idempotency_key)
        )
        """,
        "CREATE INDEX idempotency_records_expiry ON idempotency_records (expires_at)",
        """
        CREATE TABLE queue_probe_effects (
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            effect_key TEXT NOT NULL,
            writes BIGINT NOT NULL,
            job_id TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (tenant_id, effect_key)
        )
        """,
    ]
}
