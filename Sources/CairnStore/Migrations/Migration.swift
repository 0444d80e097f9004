/// One named, versioned schema change, written once per engine.
///
/// DDL differs between SQLite and PostgreSQL (row-level security exists only on the latter),
/// so each migration carries both scripts; they must produce the same logical schema. Each
/// migration is declared in a file of its own, in the target of the feature that owns its
/// tables, and a feature lists its migrations in its schema (`JobsSchema`, …).
public struct Migration: Sendable {
    /// Strictly increasing across every feature, never reused.
    public let version: Int
    /// Short snake_case description, recorded beside the version.
    public let name: String
    let sqlite: [String]
    let postgres: [String]

    public init(version: Int, name: String, sqlite: [String], postgres: [String]) {
        self.version = version
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
    }

    package func statements(for engine: DatabaseEngine) -> [String] {
        engine == .sqlite ? sqlite : postgres
    }

    /// The second wall on PostgreSQL: rows are visible only to transactions scoped to their
    /// tenant (or to platform work). FORCE applies the policy to the table owner too, which is
    /// the role Cairn connects as.
    public static func rowLevelSecurity(_ table: String) -> [String] {
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

/// The platform's own tables: tenants, API keys, principals and the audit chain.
public enum PlatformSchema {
    public static let migrations: [Migration] = [.platformSpine]
}

/// The schema a binary expects: every feature's migrations, applied in version order.
public struct DatabaseSchema: Sendable {
    /// Oldest first.
    public let migrations: [Migration]

    /// Joins the features' migration lists; versions must be unique across all of them, as a
    /// version recorded in a database names exactly one change.
    public init(_ features: [Migration]...) {
        let all = features.flatMap { $0 }.sorted { $0.version < $1.version }
        for (earlier, later) in zip(all, all.dropFirst()) {
            precondition(earlier.version != later.version, "Migrations \(earlier.name) and \(later.name) share version \(earlier.version).")
        }
        migrations = all
    }
}
