public import CairnCore
import Foundation
package import SQLKit

/// Tenants: created by the platform operator or the CLI, never by a tenant principal.
public struct TenantRepository: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Creates a tenant and opens its audit chain with a `tenant.create` event.
    public func create(name: TenantName, actor: String) async throws -> Tenant {
        let tenant = Tenant(id: TenantID(), name: name, createdAt: EpochMilliseconds.date(milliseconds: EpochMilliseconds.nowMilliseconds()))
        do {
            try await database.transaction(.tenant(tenant.id)) { transaction in
                try await transaction.sql.raw(
                    """
                    INSERT INTO tenants (id, name, created_at, audit_head_seq, audit_head_hash)
                    VALUES (\(bind: tenant.id.description), \(bind: name.rawValue), \(bind: EpochMilliseconds.milliseconds(tenant.createdAt)),
                            0, \(bind: AuditChain.genesisHash))
                    """
                ).run()
                try await AuditLog.append(
                    AuditRecord(
                        actor: actor,
                        action: "tenant.create",
                        targetType: "tenant",
                        targetID: tenant.id.description,
                        details: ["name": name.rawValue]
                    ),
                    tenantID: tenant.id,
                    in: transaction
                )
            }
        } catch  where isUniqueViolation(error) {
            throw CairnError(.conflict, "A tenant named '\(name)' already exists.", underlying: error)
        }
        return tenant
    }

    /// Tenants by name, a page at a time.
    public func list(limit: Int = 100, after cursor: String? = nil) async throws -> Page<Tenant> {
        try PageCursor.validate(limit: limit)
        let after = try cursor.map { cursor throws(CairnError) in try PageCursor.decode(cursor, count: 1)[0] }
        let tenants = try await database.transaction(.platform) { transaction in
            var query: SQLQueryString = "SELECT id, name, created_at FROM tenants"
            if let after { query += " WHERE name > \(bind: after)" }
            query += " ORDER BY name LIMIT \(bind: limit + 1)"
            return try await transaction.sql.raw(query).all().map(Self.tenant)
        }
        return Page(fetched: tenants, limit: limit) { [$0.name.rawValue] }
    }

    /// Every tenant, oldest first (audit verification walks them all).
    public func all() async throws -> [Tenant] {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw("SELECT id, name, created_at FROM tenants ORDER BY created_at, name").all().map(Self.tenant)
        }
    }

    /// The tenant with this name, if any.
    public func find(name: TenantName) async throws -> Tenant? {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw("SELECT id, name, created_at FROM tenants WHERE name = \(bind: name.rawValue)").first().map(Self.tenant)
        }
    }

    /// The tenant with this id, if any.
    public func find(id: TenantID) async throws -> Tenant? {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw("SELECT id, name, created_at FROM tenants WHERE id = \(bind: id.description)").first().map(Self.tenant)
        }
    }

    package static func tenant(_ row: any SQLRow) throws -> Tenant {
        guard let id = TenantID(try row.string("id")) else {
            throw CairnError(.integrityViolation, "A stored tenant id is malformed.")
        }
        return Tenant(id: id, name: try TenantName(try row.string("name")), createdAt: try row.date("created_at"))
    }
}
