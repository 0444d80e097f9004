import CairnCore
public import Logging

/// Everything Cairn persists, behind one value: the database and the repositories over it.
public struct CairnStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    public var tenants: TenantRepository { TenantRepository(database: database) }
    public var apiKeys: APIKeyRepository { APIKeyRepository(database: database) }
    public var principals: PrincipalDirectory { PrincipalDirectory(database: database) }
    public var audit: AuditLog { AuditLog(database: database) }

    public func migrator(logger: Logger) -> Migrator { Migrator(database: database, logger: logger) }
}
