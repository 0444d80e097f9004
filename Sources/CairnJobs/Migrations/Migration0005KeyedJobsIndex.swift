import CairnStore

extension Migration {
    /// Only jobs enqueued with an idempotency key are entered in `jobs_idempotency`. Every
    /// state change writes a new row version into each index on `jobs`, and most jobs have no
    /// key; a NULL key never conflicts anyway, so the partial index enforces the same rule with
    /// a third fewer index writes per job. `ON CONFLICT` names the predicate to use it.
    static let keyedJobsIndex = Migration(
        version: 5,
        name: "keyed_jobs_index",
        sqlite: keyedJobsIndexStatements,
        postgres: keyedJobsIndexStatements
    )

    private static let keyedJobsIndexStatements = [
        "DROP INDEX jobs_idempotency",
        "CREATE UNIQUE INDEX jobs_idempotency ON jobs (tenant_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL",
    ]
}
