import CairnStore

extension Migration {
    /// The model gateway's books: the ledger of calls, budgets with their windows, and per-key
    /// limits. See ADR 0022 for how budgets stay exact across nodes.
    ///
    /// - `model_calls` is the ledger: one row per call, whatever its outcome.
    /// - `budget_windows` holds, per budget and period, what was spent (committed) and what
    ///   nodes hold as allotments not yet spent. Every grant keeps `spent + allotted ≤ limit`,
    ///   so the fleet together can never spend past the limit.
    /// - `gateway_providers`, `gateway_deployments` and `gateway_aliases` are tenants' own
    ///   catalog entries, laid over the platform catalog (a file, reviewed like code) by name.
    /// - `gateway_credentials` holds tenants' provider secrets sealed with AES-256-GCM under the
    ///   master key; `ciphertext` carries the 16-byte tag after the encrypted bytes.
    static let gateway = Migration(
        version: 7,
        name: "gateway",
        sqlite: gatewayTables(binary: "BLOB"),
        postgres: gatewayTables(binary: "BYTEA")
            + [
                "model_calls", "gateway_budgets", "budget_windows", "api_key_limits",
                "gateway_providers", "gateway_deployments", "gateway_aliases", "gateway_credentials",
            ].flatMap(rowLevelSecurity)
    )

    private static func gatewayTables(binary: String) -> [String] {
        [
            """
            CREATE TABLE model_calls (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                api_key_id TEXT,
                subject TEXT NOT NULL,
                operation TEXT NOT NULL,
                alias TEXT NOT NULL,
                deployment TEXT,
                status TEXT NOT NULL,
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                cost_nanos BIGINT NOT NULL,
                latency_ms BIGINT NOT NULL,
                first_token_ms BIGINT,
                attempts BIGINT NOT NULL,
                cache_hit BIGINT NOT NULL,
                streamed BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX model_calls_by_tenant ON model_calls (tenant_id, created_at)",
            """
            CREATE TABLE gateway_budgets (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                api_key_id TEXT,
                scope_key TEXT NOT NULL,
                period TEXT NOT NULL,
                limit_nanos BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                UNIQUE (tenant_id, scope_key, period)
            )
            """,
            """
            CREATE TABLE budget_windows (
                budget_id TEXT NOT NULL REFERENCES gateway_budgets (id) ON DELETE CASCADE,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                window_start BIGINT NOT NULL,
                spent_nanos BIGINT NOT NULL,
                allotted_nanos BIGINT NOT NULL,
                PRIMARY KEY (budget_id, window_start)
            )
            """,
            """
            CREATE TABLE api_key_limits (
                api_key_id TEXT PRIMARY KEY REFERENCES api_keys (id),
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                allowed_models TEXT,
                requests_per_minute BIGINT,
                tokens_per_minute BIGINT
            )
            """,
            """
            CREATE TABLE gateway_providers (
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                base_url TEXT NOT NULL,
                credential TEXT,
                api_version TEXT,
                region TEXT,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL,
                PRIMARY KEY (tenant_id, name)
            )
            """,
            """
            CREATE TABLE gateway_deployments (
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                name TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                capability TEXT NOT NULL,
                input_nanos_per_million BIGINT NOT NULL,
                output_nanos_per_million BIGINT NOT NULL,
                connect_ms BIGINT NOT NULL,
                first_token_ms BIGINT NOT NULL,
                total_ms BIGINT NOT NULL,
                max_concurrency BIGINT NOT NULL,
                default_max_output_tokens BIGINT NOT NULL,
                weight BIGINT NOT NULL,
                dimension BIGINT,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL,
                PRIMARY KEY (tenant_id, name)
            )
            """,
            """
            CREATE TABLE gateway_aliases (
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                name TEXT NOT NULL,
                strategy TEXT NOT NULL,
                deployments TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL,
                PRIMARY KEY (tenant_id, name)
            )
            """,
            """
            CREATE TABLE gateway_credentials (
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                name TEXT NOT NULL,
                nonce \(binary) NOT NULL,
                ciphertext \(binary) NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (tenant_id, name)
            )
            """,
        ]
    }
}
