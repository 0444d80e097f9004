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
        let now = Clock.date(milliseconds: Clock.nowMilliseconds())
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
            createdBy: principal.subject,
            expiresAt: expiresAt.map { Clock.date(milliseconds: Clock.milliseconds($0)) },
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
                        \(bind: grant.attributes.clearance.rawValue), \(bind: Clock.milliseconds(now)), \(bind: principal.subject),
                        \(bind: key.expiresAt.map(Clock.milliseconds)), NULL)
                """
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.subject,
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
    public func list(for principal: Principal) async throws -> [APIKey] {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await transaction.sql.raw(
                "SELECT * FROM api_keys WHERE tenant_id = \(bind: principal.tenantID.description) ORDER BY created_at DESC, id"
            ).all().map(Self.key)
        }
    }

    /// One key of the principal's tenant; `notFound` for unknown ids and other tenants' keys alike.
    public func get(_ id: APIKeyID, for principal: Principal) async throws -> APIKey {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await Self.fetch(id, tenantID: principal.tenantID, in: transaction)
        }
    }

    public func rename(_ id: APIKeyID, to name: String, by principal: Principal) async throws -> APIKey {
        try Self.validate(name: name)
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var key = try await Self.fetch(id, tenantID: principal.tenantID, in: transaction)
            guard key.name != name else { return key }
            try await transaction.sql.raw(
                "UPDATE api_keys SET name = \(bind: name) WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description)"
            ).run()
            try await AuditLog.append(
                AuditRecord(actor: principal.subject, action: "api_key.rename", targetType: "api_key", targetID: id.description,
                            details: ["from": key.name, "to": name]),
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
            let now = Clock.nowMilliseconds()
            try await transaction.sql.raw(
                "UPDATE api_keys SET revoked_at = \(bind: now) WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description)"
            ).run()
            try await AuditLog.append(
                AuditRecord(actor: principal.subject, action: "api_key.revoke", targetType: "api_key", targetID: id.description,
                            details: ["name": key.name]),
                tenantID: principal.tenantID,
                in: transaction
            )
            return try await Self.fetch(id, tenantID: principal.tenantID, in: transaction)
        }
    }

    /// Revokes by id alone, for `cairn key revoke ID` run by whoever holds the database.
    public func revokeAsLocalAdministrator(_ id: APIKeyID) async throws -> APIKey {
        guard let (_, tenant) = try await lookUp(id) else {
            throw CairnError(.notFound, "There is no API key with id \(id).")
        }
        return try await revoke(id, by: .localAdministrator(of: tenant))
    }

    /// The stored key and its tenant for a presented secret, whatever its state; the caller
    /// decides what revoked or expired means. Platform-scoped: the tenant is not known yet.
    public func authenticate(_ secret: APIKeySecret) async throws -> (APIKey, Tenant)? {
        guard let (key, tenant) = try await lookUp(secret.keyID) else { return nil }
        let storedHash = try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw("SELECT secret_hash FROM api_keys WHERE id = \(bind: secret.keyID.description)").first()?
                .string("secret_hash")
        }
        guard let storedHash, secret.matches(storedHash: storedHash) else { return nil }
        return (key, tenant)
    }

    private func lookUp(_ id: APIKeyID) async throws -> (APIKey, Tenant)? {
        try await database.transaction(.platform) { transaction in
            guard let row = try await transaction.sql.raw("SELECT * FROM api_keys WHERE id = \(bind: id.description)").first() else {
                return nil
            }
            let key = try Self.key(row)
            guard
                let tenantRow = try await transaction.sql.raw(
                    "SELECT id, name, created_at FROM tenants WHERE id = \(bind: key.tenantID.description)"
                ).first()
            else { return nil }
            return (key, try TenantRepository.tenant(tenantRow))
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
        guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else {
            throw CairnError(.invalidInput, "A key name must be 1–100 characters on one line.")
        }
    }

    static func validate(grant: APIKeyGrant) throws(CairnError) {
        guard !grant.roles.isEmpty else {
            throw CairnError(.invalidInput, "A key needs at least one role.")
        }
        guard (1...200).contains(grant.subject.count) else {
            throw CairnError(.invalidInput, "A key's subject must be 1–200 characters.")
        }
        let labels = grant.groups + grant.attributes.entities + grant.attributes.branches
        guard labels.count <= 100, labels.allSatisfy({ (1...100).contains($0.count) }) else {
            throw CairnError(.invalidInput, "Groups, entities and branches take at most 100 labels of 1–100 characters.")
        }
    }
}
