import CairnStore

extension Migration {
    /// Extraction pipelines and their immutable versions.
    static let pipelines = Migration(
        version: 12,
        name: "pipelines",
        sqlite: pipelineTables,
        postgres: pipelineTables + ["pipelines", "pipeline_versions"].flatMap(rowLevelSecurity)
    )

    private static let pipelineTables = [
        """
        CREATE TABLE pipelines (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            name TEXT NOT NULL,
            active_version BIGINT,
            created_at BIGINT NOT NULL,
            UNIQUE (tenant_id, name)
        )
        """,
        """
        CREATE TABLE pipeline_versions (
            pipeline_id TEXT NOT NULL REFERENCES pipelines (id),
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            version BIGINT NOT NULL,
            source TEXT NOT NULL,
            checksum TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (pipeline_id, version)
        )
        """,
    ]
}
