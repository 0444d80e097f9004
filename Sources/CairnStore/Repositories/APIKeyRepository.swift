public import CairnCore
public import Foundation
import SQLKit

/// API keys of a tenant. Secrets are shown once and stored only as hashes.
public struct APIKeyRepository: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// A key as just created: the record, plus the secret the caller must store now.
    public struct CreatedKey: Sendable {
        public let key: APIKey
        public let secret: APIKeySecret
    }

    /// Creates a key in the principal's tenant. Only an admin may mint keys, and no key can
    /// carry more than its creator's clearance.
    public func create(by principal: Principal, name: String, grant: APIKeyGrant, expiresAt: Date?) async throws -> CreatedKey {
        try Self.validate(name: name)
        try Self.validate(grant: grant)
        guard grant.attributes.clearance <= principal.attributes.clearance else {
            throw CairnError(.forbidden, "A key cannot be cleared above its creator's own clearance (\(principal.attributes.clearance.rawValue)).")
        }
        let now = EpochMilliseconds.date(milliseconds: EpochMilliseconds.nowMilliseconds())
        if let expiresAt, expiresAt <= now {
            throw CairnError(.invalidInput, "The expiry must lie in the future.")
        }
        let id = APIKeyID()
        let secret = APIKeySecret.generate(for: id)
        let key = APIKey(
            id: id,
            tenantID: principal.tenantID,
            name: name,
            grant: grant,
            createdAt: now,
            createdBy: principal.auditActor,
            expiresAt: expiresAt.map { EpochMilliseconds.date(milliseconds: EpochMilliseconds.milliseconds($0)) },
            revokedAt: nil
        )
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO api_keys (id, tenant_id, name, secret_hash, subject, roles, group_names, entities, branches, clearance,
                                      created_at, created_by, expires_at, revoked_at)
                VALUES (\(bind: id.description), \(bind: principal.tenantID.description), \(bind: name), \(bind: secret.storedHash),
                        \(bind: grant.subject), \(bind: JSONText.encode(grant.roles.sortedNames)), \(bind: JSONText.encode(grant.groups)),
                        \(bind: JSONText.encode(grant.attributes.entities)), \(bind: JSONText.encode(grant.attributes.branches)),
                        \(bind: grant.attributes.clearance.rawValue), \(bind: EpochMilliseconds.milliseconds(now)), \(bind: principal.auditActor),
                        \(bind: key.expiresAt.map(EpochMilliseconds.milliseconds)), NULL)
                """
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: "api_key.create",
                    targetType: "api_key",
                    targetID: id.description,
                    details: ["name": name, "subject": grant.subject, "roles": grant.roles.sortedNames.joined(separator: ",")]
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
        }
        return CreatedKey(key: key, secret: secret)
    }

    /// The tenant's keys, newest first, revoked ones included (they stay for the record).
    public func list(for principal: Principal, limit: Int = 100, after cursor: String? = nil) async throws -> Page<APIKey> {
        try PageCursor.validate(limit: limit)
        let position = try NewestFirstPosition(cursor: cursor)
        let tenant = principal.tenantID.description
        let keys = try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var query: SQLQueryString = "SELECT * FROM api_keys WHERE tenant_id = \(bind: tenant)"
            if let position { query += position.filter }
            query += NewestFirstPosition.order
            query += " LIMIT \(bind: limit + 1)"
            return try await transaction.sql.raw(query).all().map(Self.key)
        }
        return Page(fetched: keys, limit: limit) { NewestFirstPosition.position(createdAt: $0.createdAt, id: $0.id.description) }
    }

    /// One key of the principal's tenant; `notFound` for unknown ids and other tenants' keys alike.
    public func get(_ id: APIKeyID, for principal: Principal) async throws -> APIKey {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await Self.fetch(id, tenantID: principal.tenantID, in: transaction)
        }
    }

    /// Renames a key of the principal's tenant, recording `api_key.rename`; a same-name rename records nothing.
    public func rename(_ id: APIKeyID, to name: String, by principal: Principal) async throws -> APIKey {
        try Self.validate(name: name)
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var key = try await Self.fetch(id, tenantID: principal.tenantID, in: transaction)
            guard key.name != name else { return key }
            try await transaction.sql.raw(
                "UPDATE api_keys SET name = \(bind: name) WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description)"
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: "api_key.rename",
                    targetType: "api_key",
                    targetID: id.description,
                    details: ["from": key.name, "to": name]
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
            key.name = name
            return key
        }
    }

    /// Revokes a key. Revoking an already revoked key changes nothing and records nothing.
    public func revoke(_ id: APIKeyID, by principal: Principal) async throws -> APIKey {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let key = try await Self.fetch(id, tenantID: principal.tenantID, in: transaction)
            guard key.revokedAt == nil else { return key }
            let now = EpochMilliseconds.nowMilliseconds()
            try await transaction.sql.raw(
                "UPDATE api_keys SET revoked_at = \(bind: now) WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description)"
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: "api_key.revoke",
                    targetType: "api_key",
                    targetID: id.description,
                    details: ["name": key.name]
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
            return try await Self.fetch(id, tenantID: principal.tenantID, in: transaction)
        }
    }

    /// The tenant a key belongs to, for `cairn key revoke ID` run by whoever holds the database
    /// (they act as that tenant's local administrator).
    public func tenant(ofKey id: APIKeyID) async throws -> Tenant {
        guard let (_, tenant, _) = try await lookUp(id) else {
            throw CairnError(.notFound, "There is no API key with id \(id).")
        }
        return tenant
    }

    /// The stored key and its tenant for a presented secret, whatever its state; the caller
    /// decides what revoked or expired means. Platform-scoped: the tenant is not known yet.
    public func authenticate(_ secret: APIKeySecret) async throws -> (APIKey, Tenant)? {
        guard let (key, tenant, storedHash) = try await lookUp(secret.keyID), secret.matches(storedHash: storedHash) else {
            return nil
        }
        return (key, tenant)
    }

    /// The key, its tenant and its stored hash, read in one statement so that a revocation
    /// is either wholly seen or not at all.
    private func lookUp(_ id: APIKeyID) async throws -> (APIKey, Tenant, String)? {
        try await database.transaction(.platform) { transaction in
            guard
                let row = try await transaction.sql.raw(
                    """
                    SELECT k.*, t.name AS tenant_name, t.created_at AS tenant_created_at
                    FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
                    WHERE k.id = \(bind: id.description)
                    """
                ).first()
            else { return nil }
            let key = try Self.key(row)
            let tenant = Tenant(id: key.tenantID, name: try TenantName(try row.string("tenant_name")), createdAt: try row.date("tenant_created_at"))
            return (key, tenant, try row.string("secret_hash"))
        }
    }

    private static func fetch(_ id: APIKeyID, tenantID: TenantID, in transaction: Transaction) async throws -> APIKey {
        guard
            let row = try await transaction.sql.raw(
                "SELECT * FROM api_keys WHERE id = \(bind: id.description) AND tenant_id = \(bind: tenantID.description)"
            ).first()
        else {
            throw CairnError(.notFound, "There is no API key with id \(id).")
        }
        return try key(row)
    }

    static func key(_ row: any SQLRow) throws -> APIKey {
        guard let id = APIKeyID(try row.string("id")), let tenantID = TenantID(try row.string("tenant_id")) else {
            throw CairnError(.integrityViolation, "A stored API key id is malformed.")
        }
        let grant = try row.grantColumns()
        return APIKey(
            id: id,
            tenantID: tenantID,
            name: try row.string("name"),
            grant: APIKeyGrant(subject: try row.string("subject"), roles: grant.roles, groups: grant.groups, attributes: grant.attributes),
            createdAt: try row.date("created_at"),
            createdBy: try row.string("created_by"),
            expiresAt: try row.optionalDate("expires_at"),
            revokedAt: try row.optionalDate("revoked_at")
        )
    }

    static func validate(name: String) throws(CairnError) {
        try TextRules.validate(name, field: "A key name", maximumLength: 100)
    }

    static func validate(grant: APIKeyGrant) throws(CairnError) {
        guard !grant.roles.isEmpty else {
            throw CairnError(.invalidInput, "A key needs at least one role.")
        }
        try TextRules.validate(grant.subject, field: "A key's subject", maximumLength: 200)
        try TextRules.validate(grant.groups, field: "groups")
        try TextRules.validate(grant.attributes.entities, field: "entities")
        try TextRules.validate(grant.attributes.branches, field: "branches")
    }
}
