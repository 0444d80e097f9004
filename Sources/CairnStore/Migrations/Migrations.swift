/// Every schema change Cairn knows, oldest first. Append only; never edit a shipped entry.
public enum Migrations {
    public static let all: [Migration] = [platformSpine, jobs, workflows, queueMaintenance, keyedJobsIndex, documents, gateway, answers, sessions, agentRuns, gatewayPrivacy]

    /// Tables whose rows belong to one tenant; each gets the row-level security policy on PostgreSQL.
    static let tenantOwnedTables = ["api_keys", "principals", "audit_events"]

    /// Tenants, API keys, principals seen, and the per-tenant audit hash chain.
    ///
    /// Ids are TEXT (lowercase UUIDs) and times BIGINT milliseconds on both engines, so the same
    /// bound parameters and decoded values work everywhere and audit hashes are engine-independent.
    static let platformSpine = Migration(
        version: 1,
        name: "platform_spine",
        sqlite: commonTables,
        postgres: commonTables + [
            // The tenants row is visible to its own tenant (for the audit head) and to platform work.
            "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE tenants FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY tenant_isolation ON tenants
            USING (current_setting('cairn.platform', true) = 'on' OR id = current_setting('cairn.tenant_id', true))
            WITH CHECK (current_setting('cairn.platform', true) = 'on' OR id = current_setting('cairn.tenant_id', true))
            """,
        ] + tenantOwnedTables.flatMap(rowLevelSecurity)
    )

    private static let commonTables = [
        """
        CREATE TABLE tenants (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at BIGINT NOT NULL,
            audit_head_seq BIGINT NOT NULL DEFAULT 0,
            audit_head_hash TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            subject TEXT NOT NULL,
            roles TEXT NOT NULL,
            group_names TEXT NOT NULL,
            entities TEXT NOT NULL,
            branches TEXT NOT NULL,
            clearance TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            created_by TEXT NOT NULL,
            expires_at BIGINT,
            revoked_at BIGINT
        )
        """,
        "CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at)",
        """
        CREATE TABLE principals (
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            subject TEXT NOT NULL,
            credential TEXT NOT NULL,
            roles TEXT NOT NULL,
            group_names TEXT NOT NULL,
            entities TEXT NOT NULL,
            branches TEXT NOT NULL,
            clearance TEXT NOT NULL,
            first_seen_at BIGINT NOT NULL,
            last_seen_at BIGINT NOT NULL,
            PRIMARY KEY (tenant_id, credential, subject)
        )
        """,
        """
        CREATE TABLE audit_events (
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            seq BIGINT NOT NULL,
            occurred_at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target_type TEXT NOT NULL,
            target_id TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (tenant_id, seq)
        )
        """,
        "CREATE INDEX audit_events_by_actor ON audit_events (tenant_id, actor, seq)",
        "CREATE INDEX audit_events_by_action ON audit_events (tenant_id, action, seq)",
        "CREATE INDEX audit_events_by_time ON audit_events (tenant_id, occurred_at)",
    ]

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

    /// Collections, documents, their versions, page texts and chunks, and the index change feed.
    ///
    /// - Embeddings live beside their chunks (BLOB / BYTEA of little-endian float32): the
    ///   database is the source of truth and every index replica is rebuilt from it.
    /// - `index_changes` is the change feed replicas catch up from: one row per change to what a
    ///   document serves, numbered per tenant by `tenants.index_head_seq`. The number is taken
    ///   under the tenant row's lock (the one audit appends hold), so a tenant's changes commit
    ///   in sequence order and a replica that has read up to n never misses a smaller number
    ///   committing later — a plain serial column cannot promise that.
    static let documents = Migration(
        version: 6,
        name: "documents",
        sqlite: documentTables(binary: "BLOB"),
        postgres: documentTables(binary: "BYTEA")
            + ["collections", "documents", "document_versions", "document_pages", "chunks", "index_changes"].flatMap(rowLevelSecurity)
    )

    private static func documentTables(binary: String) -> [String] {
        [
            "ALTER TABLE tenants ADD COLUMN index_head_seq BIGINT NOT NULL DEFAULT 0",
            """
            CREATE TABLE collections (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                classification TEXT NOT NULL,
                entities TEXT NOT NULL,
                branches TEXT NOT NULL,
                group_names TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                UNIQUE (tenant_id, name)
            )
            """,
            """
            CREATE TABLE documents (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                collection_id TEXT NOT NULL REFERENCES collections (id),
                title TEXT NOT NULL,
                source TEXT NOT NULL,
                tags TEXT NOT NULL,
                classification TEXT NOT NULL,
                entities TEXT NOT NULL,
                branches TEXT NOT NULL,
                group_names TEXT NOT NULL,
                state TEXT NOT NULL,
                active_version_id TEXT,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (collection_id, source)
            )
            """,
            "CREATE INDEX documents_by_tenant ON documents (tenant_id, created_at, id)",
            """
            CREATE TABLE document_versions (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                document_id TEXT NOT NULL REFERENCES documents (id),
                number BIGINT NOT NULL,
                digest TEXT NOT NULL,
                byte_size BIGINT NOT NULL,
                file_name TEXT NOT NULL,
                media_type TEXT,
                format TEXT NOT NULL,
                processing TEXT NOT NULL,
                lifecycle TEXT NOT NULL,
                approve_when_ready BIGINT NOT NULL,
                open_password TEXT,
                job_id TEXT,
                failure TEXT,
                page_count BIGINT,
                chunk_count BIGINT,
                embedding_model TEXT,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                ready_at BIGINT,
                approved_at BIGINT,
                approved_by TEXT,
                retired_at BIGINT,
                UNIQUE (document_id, number)
            )
            """,
            "CREATE INDEX document_versions_by_digest ON document_versions (tenant_id, digest)",
            """
            CREATE TABLE document_pages (
                version_id TEXT NOT NULL REFERENCES document_versions (id),
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                number BIGINT NOT NULL,
                text TEXT NOT NULL,
                lines TEXT NOT NULL,
                source TEXT NOT NULL,
                width DOUBLE PRECISION NOT NULL,
                height DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (version_id, number)
            )
            """,
            """
            CREATE TABLE chunks (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                document_id TEXT NOT NULL REFERENCES documents (id),
                version_id TEXT NOT NULL REFERENCES document_versions (id),
                position BIGINT NOT NULL,
                text TEXT NOT NULL,
                first_page BIGINT NOT NULL,
                last_page BIGINT NOT NULL,
                spans TEXT NOT NULL,
                boxes TEXT NOT NULL,
                heading_path TEXT NOT NULL,
                word_pieces BIGINT NOT NULL,
                embedding \(binary)
            )
            """,
            "CREATE INDEX chunks_by_version ON chunks (version_id, position)",
            """
            CREATE TABLE index_changes (
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                seq BIGINT NOT NULL,
                document_id TEXT NOT NULL,
                change TEXT NOT NULL,
                recorded_at BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, seq)
            )
            """,
        ]
    }

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

    /// The assistant's answer traces: the searchable columns, and the rest as one JSON text
    /// (`AnswerTraces.StoredDetail`), which only `GET /v1/answers/{id}/trace` reads.
    static let answers = Migration(
        version: 8,
        name: "answers",
        sqlite: answerTables,
        postgres: answerTables + rowLevelSecurity("answer_traces")
    )

    /// The assistant's sessions and their turns.
    static let sessions = Migration(
        version: 9,
        name: "sessions",
        sqlite: sessionTables,
        postgres: sessionTables + ["answer_sessions", "session_turns"].flatMap(rowLevelSecurity)
    )

    /// Agent runs, their steps, and the effect of the one side-effecting tool: review proposals,
    /// unique per idempotency key so a proposal is recorded once however often its step is retried.
    static let agentRuns = Migration(
        version: 10,
        name: "agent_runs",
        sqlite: agentRunTables,
        postgres: agentRunTables + ["agent_runs", "agent_steps", "document_review_proposals"].flatMap(rowLevelSecurity)
    )

    /// A tenant's policy for what its model calls send out: with `redact_personal_data`, personal
    /// data is redacted from every request to a provider.
    static let gatewayPrivacy = Migration(
        version: 11,
        name: "gateway_privacy",
        sqlite: gatewayPrivacyTables,
        postgres: gatewayPrivacyTables + rowLevelSecurity("gateway_privacy")
    )

    private static let gatewayPrivacyTables = [
        """
        CREATE TABLE gateway_privacy (
            tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
            redact_personal_data BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            updated_by TEXT NOT NULL
        )
        """,
    ]

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

    private static let sessionTables = [
        """
        CREATE TABLE answer_sessions (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            owner TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE session_turns (
            session_id TEXT NOT NULL REFERENCES answer_sessions (id),
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            position BIGINT NOT NULL,
            question TEXT NOT NULL,
            standalone_question TEXT NOT NULL,
            answer_id TEXT NOT NULL,
            answer_kind TEXT NOT NULL,
            answer_text TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (session_id, position)
        )
        """,
    ]

    private static let answerTables = [
        """
        CREATE TABLE answer_traces (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            detail TEXT NOT NULL
        )
        """,
        "CREATE INDEX answer_traces_by_tenant ON answer_traces (tenant_id, created_at)",
    ]

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

    /// The second wall on PostgreSQL: rows are visible only to transactions scoped to their
    /// tenant (or to platform work). FORCE applies the policy to the table owner too, which is
    /// the role Cairn connects as.
    static func rowLevelSecurity(_ table: String) -> [String] {
        [
            "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY tenant_isolation ON \(table)
            USING (current_setting('cairn.platform', true) = 'on' OR tenant_id = current_setting('cairn.tenant_id', true))
            WITH CHECK (current_setting('cairn.platform', true) = 'on' OR tenant_id = current_setting('cairn.tenant_id', true))
            """,
        ]
    }
}
