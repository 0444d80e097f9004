import CairnCore
public import Logging
import SQLKit

/// Applies pending migrations in order and reports what the database has.
public struct Migrator: Sendable {
    private let database: any Database
    private let migrations: [Migration]
    private let logger: Logger

    public init(database: any Database, migrations: [Migration], logger: Logger) {
        self.database = database
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies every migration not yet recorded, each in its own transaction; returns the
    /// versions applied. Concurrent migrators on PostgreSQL serialise on an advisory lock.
    @discardableResult
    public func migrate() async throws -> [Migration] {
        var applied: [Migration] = []
        for migration in migrations {
            let didApply = try await database.transaction(.platform) { transaction in
                if transaction.engine == .postgres {
                    // Taken before anything else, including the ledger's creation, which races
                    // on PostgreSQL otherwise. Transaction-scoped: a crashed migrator holds nothing.
                    try await transaction.sql.raw("SELECT pg_advisory_xact_lock(\(bind: Self.advisoryLockKey))").run()
                }
                try await Self.createLedger(transaction)
                let done = try await transaction.sql.raw(
                    "SELECT version FROM cairn_migrations WHERE version = \(bind: migration.version)"
                ).first()
                guard done == nil else { return false }
                for statement in migration.statements(for: transaction.engine) {
                    // Migration DDL is fixed text shipped in the binary, never user input.
                    try await transaction.sql.raw(SQLQueryString(statement)).run()
                }
                try await transaction.sql.raw(
                    """
                    INSERT INTO cairn_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: EpochMilliseconds.nowMilliseconds()))
                    """
                ).run()
                return true
            }
            if didApply {
                logger.info("Applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration)
            }
        }
        return applied
    }

    /// Versions known to the binary but not yet applied; empty means the schema is current.
    ///
    /// Read-only: a database without the ledger has everything pending (readiness probes and
    /// admin commands must not create tables, nor race a concurrent `cairn migrate`).
    public func pending() async throws -> [Migration] {
        let appliedVersions = try await database.transaction(.platform) { transaction -> [Int] in
            let ledgerQuery: SQLQueryString =
                transaction.engine == .postgres
                ? "SELECT to_regclass('cairn_migrations') IS NOT NULL AS present"
                : "SELECT count(*) > 0 AS present FROM sqlite_master WHERE type = 'table' AND name = 'cairn_migrations'"
            guard try await transaction.sql.raw(ledgerQuery).first()?.decode(column: "present", as: Bool.self) == true else {
                return []
            }
            return try await transaction.sql.raw("SELECT version FROM cairn_migrations").all().map {
                try $0.decode(column: "version", as: Int.self)
            }
        }
        return migrations.filter { !appliedVersions.contains($0.version) }
    }

    /// The ledger is the one table created on demand: it must exist before any migration can
    /// be recorded, and it belongs to no tenant.
    private static func createLedger(_ transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            CREATE TABLE IF NOT EXISTS cairn_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )
            """
        ).run()
    }

    /// Arbitrary, fixed key for `pg_advisory_xact_lock` ("cairn" in ASCII).
    private static let advisoryLockKey: Int64 = 0x63_61_69_72_6E
}
