import CairnStore

extension Migration {
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
}
