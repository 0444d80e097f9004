extension Migration {
    /// Tables whose rows belong to one tenant; each gets the row-level security policy on PostgreSQL.
    private static let tenantOwnedTables = ["api_keys", "principals", "audit_events"]

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
}
