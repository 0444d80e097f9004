import CairnStore

extension Migration {
    /// KYC cases and the documents of their case packs.
    static let cases = Migration(
        version: 13,
        name: "cases",
        sqlite: caseTables,
        postgres: caseTables + ["kyc_cases", "case_documents"].flatMap(rowLevelSecurity)
    )

    private static let caseTables = [
        """
        CREATE TABLE kyc_cases (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            reference TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            scope_entity TEXT,
            scope_branch TEXT,
            pipeline TEXT NOT NULL,
            state TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            decision TEXT,
            decision_reason TEXT,
            decided_by TEXT,
            decided_at BIGINT,
            UNIQUE (tenant_id, reference)
        )
        """,
        "CREATE INDEX kyc_cases_by_state ON kyc_cases (tenant_id, state, created_at)",
        """
        CREATE TABLE case_documents (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES kyc_cases (id),
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            file_name TEXT NOT NULL,
            blob_digest TEXT NOT NULL,
            byte_count BIGINT NOT NULL,
            state TEXT NOT NULL,
            document_type TEXT,
            pipeline_version BIGINT,
            failure TEXT,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX case_documents_by_case ON case_documents (case_id, created_at)",
    ]
}
