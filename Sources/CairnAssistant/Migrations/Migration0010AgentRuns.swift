import CairnStore

extension Migration {
    /// Agent runs, their steps, and the effect of the one side-effecting tool: review proposals,
    /// unique per idempotency key so a proposal is recorded once however often its step is retried.
    static let agentRuns = Migration(
        version: 10,
        name: "agent_runs",
        sqlite: agentRunTables,
        postgres: agentRunTables + ["agent_runs", "agent_steps", "document_review_proposals"].flatMap(rowLevelSecurity)
    )

    private static let agentRunTables = [
        """
        CREATE TABLE agent_runs (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            owner TEXT NOT NULL,
            principal TEXT NOT NULL,
            goal TEXT NOT NULL,
            tools TEXT NOT NULL,
            state TEXT NOT NULL,
            outcome TEXT,
            limits TEXT NOT NULL,
            model_calls BIGINT NOT NULL,
            active_ms BIGINT NOT NULL,
            cost_nanodollars BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX agent_runs_by_tenant ON agent_runs (tenant_id, created_at)",
        """
        CREATE TABLE agent_steps (
            run_id TEXT NOT NULL REFERENCES agent_runs (id),
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            position BIGINT NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            output TEXT,
            tool TEXT,
            call_id TEXT,
            arguments TEXT,
            idempotency_key TEXT,
            decided_by TEXT,
            model TEXT,
            guardrails TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (run_id, position)
        )
        """,
        """
        CREATE TABLE document_review_proposals (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            document_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            proposed_by TEXT NOT NULL,
            approved_by TEXT NOT NULL,
            run_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (tenant_id, idempotency_key)
        )
        """,
    ]
}
