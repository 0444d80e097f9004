import CairnStore

extension Migration {
    /// Each pipeline's golden cases: documents with the output a person confirmed, which a
    /// version must score as well on as the active one before it is promoted.
    static let goldenCases = Migration(
        version: 15,
        name: "golden_cases",
        sqlite: goldenTables,
        postgres: goldenTables + rowLevelSecurity("golden_cases")
    )

    private static let goldenTables = [
        """
        CREATE TABLE golden_cases (
            id TEXT PRIMARY KEY,
            pipeline_id TEXT NOT NULL REFERENCES pipelines (id),
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            name TEXT NOT NULL,
            file_name TEXT NOT NULL,
            blob_digest TEXT NOT NULL,
            labels TEXT NOT NULL,
            field_schema TEXT,
            origin TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (pipeline_id, name)
        )
        """
    ]
}
