public import CairnCore
public import Foundation
import SQLKit

/// Principals seen so far in a tenant: who has called, with which grants, and when.
public struct PrincipalDirectory: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// A principal as last seen.
    public struct SeenPrincipal: Sendable, Equatable {
        public let subject: String
        /// `api_key`, `oidc` or `cli`: the same subject under two credentials is two principals.
        public let credential: String
        public let roles: Set<Role>
        public let groups: [String]
        public let attributes: AccessAttributes
        public let firstSeenAt: Date
        public let lastSeenAt: Date
    }

    /// Records that `principal` authenticated now. Called when an identity enters the
    /// authentication cache, not on every request, so it costs one write per cache period.
    public func recordSeen(_ principal: Principal) async throws {
        let now = EpochMilliseconds.nowMilliseconds()
        let credential = principal.credentialKind
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO principals (tenant_id, subject, credential, roles, group_names, entities, branches, clearance, first_seen_at, last_seen_at)
                VALUES (\(bind: principal.tenantID.description), \(bind: principal.subject), \(bind: credential),
                        \(bind: JSONText.encode(principal.roles.sortedNames)), \(bind: JSONText.encode(principal.groups)),
                        \(bind: JSONText.encode(principal.attributes.entities)), \(bind: JSONText.encode(principal.attributes.branches)),
                        \(bind: principal.attributes.clearance.rawValue), \(bind: now), \(bind: now))
                ON CONFLICT (tenant_id, credential, subject) DO UPDATE SET
                    roles = excluded.roles, group_names = excluded.group_names,
                    entities = excluded.entities, branches = excluded.branches, clearance = excluded.clearance,
                    last_seen_at = excluded.last_seen_at
                """
            ).run()
        }
    }

    /// The tenant's principals, by subject then credential kind: an order that does not move
    /// while a client pages through it, unlike "last seen".
    public func list(for principal: Principal, limit: Int = 100, after cursor: String? = nil) async throws -> Page<SeenPrincipal> {
        try PageCursor.validate(limit: limit)
        let position = try cursor.map { cursor throws(CairnError) in try PageCursor.decode(cursor, count: 2) }
        let tenant = principal.tenantID.description
        let seen = try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var query: SQLQueryString = "SELECT * FROM principals WHERE tenant_id = \(bind: tenant)"
            if let position {
                query += " AND (subject > \(bind: position[0]) OR (subject = \(bind: position[0]) AND credential > \(bind: position[1])))"
            }
            query += " ORDER BY subject, credential LIMIT \(bind: limit + 1)"
            return try await transaction.sql.raw(query).all().map { row in
                let grant = try row.grantColumns()
                return SeenPrincipal(
                    subject: try row.string("subject"),
                    credential: try row.string("credential"),
                    roles: grant.roles,
                    groups: grant.groups,
                    attributes: grant.attributes,
                    firstSeenAt: try row.date("first_seen_at"),
                    lastSeenAt: try row.date("last_seen_at")
                )
            }
        }
        return Page(fetched: seen, limit: limit) { [$0.subject, $0.credential] }
    }
}
