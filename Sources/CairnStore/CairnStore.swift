import CairnCore
public import Logging

/// What every feature persists through: the database, the schema the binary expects of it, and
/// the platform's own repositories. Each feature adds its repositories in an extension of its
/// own (`store.jobs` in CairnJobs, `store.documents` in CairnDocuments, …).
public struct CairnStore: Sendable {
    public let database: any Database
    public let schema: DatabaseSchema

    public init(database: any Database, schema: DatabaseSchema) {
        self.database = database
        self.schema = schema
    }

    /// Tenants (platform administration).
    public var tenants: TenantRepository { TenantRepository(database: database) }
    /// A tenant's API keys.
    public var apiKeys: APIKeyRepository { APIKeyRepository(database: database) }
    /// Principals seen per tenant.
    public var principals: PrincipalDirectory { PrincipalDirectory(database: database) }
    /// Responses kept for `Idempotency-Key` replays.
    public var idempotency: IdempotencyRecords { IdempotencyRecords(database: database) }
    /// The per-tenant audit chains.
    public var audit: AuditLog { AuditLog(database: database) }

    /// Applies and reports the schema's migrations.
    public func migrator(logger: Logger) -> Migrator { Migrator(database: database, migrations: schema.migrations, logger: logger) }
}
