import CairnStore

extension Migration {
    /// What extraction made of a case's documents: their parsed pages and extracted fields.
    static let caseExtraction = Migration(
        version: 14,
        name: "case_extraction",
        sqlite: extractionTables,
        postgres: extractionTables + ["case_pages", "case_fields"].flatMap(rowLevelSecurity)
    )

    private static let extractionTables = [
        """
        CREATE TABLE case_pages (
            case_document_id TEXT NOT NULL REFERENCES case_documents (id),
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            number BIGINT NOT NULL,
            width DOUBLE PRECISION NOT NULL,
            height DOUBLE PRECISION NOT NULL,
            source TEXT NOT NULL,
            text TEXT NOT NULL,
            lines TEXT NOT NULL,
            words TEXT NOT NULL,
            PRIMARY KEY (case_document_id, number)
        )
        """,
        """
        CREATE TABLE case_fields (
            case_document_id TEXT NOT NULL REFERENCES case_documents (id),
            case_id TEXT NOT NULL REFERENCES kyc_cases (id),
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            page BIGINT,
            box TEXT,
            evidence TEXT NOT NULL,
            confidence DOUBLE PRECISION NOT NULL,
            extractor TEXT NOT NULL,
            problems TEXT NOT NULL,
            status TEXT NOT NULL,
            original_value TEXT,
            reviewed_by TEXT,
            reviewed_at BIGINT,
            PRIMARY KEY (case_document_id, name)
        )
        """,
        "CREATE INDEX case_fields_by_case ON case_fields (case_id)",
    ]
}
