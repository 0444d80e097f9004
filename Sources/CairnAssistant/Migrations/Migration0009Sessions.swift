import CairnStore

extension Migration {
    /// The assistant's sessions and their turns.
    static let sessions = Migration(
        version: 9,
        name: "sessions",
        sqlite: sessionTables,
        postgres: sessionTables + ["answer_sessions", "session_turns"].flatMap(rowLevelSecurity)
    )

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
}
