import CairnStore

extension Migration {
    /// The assistant's answer traces: the searchable columns, and the rest as one JSON text
    /// (`AnswerTraces.StoredDetail`), which only `GET /v1/answers/{id}/trace` reads.
    static let answers = Migration(
        version: 8,
        name: "answers",
        sqlite: answerTables,
        postgres: answerTables + rowLevelSecurity("answer_traces")
    )

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
}
