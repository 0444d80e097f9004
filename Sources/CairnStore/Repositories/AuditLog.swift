public import CairnCore
public import Foundation
package import SQLKit

/// The per-tenant, append-only audit hash chain.
public struct AuditLog: Sendable {
    package let database: any Database

    public init(database: any Database) { self.database = database }

    /// Appends `record` to the tenant's chain inside the caller's transaction, so the event
    /// commits or rolls back with the change it describes.
    ///
    /// The tenant row holds the chain head; locking it serialises appends per tenant.
    package static func append(_ record: AuditRecord, tenantID: TenantID, in transaction: Transaction, at now: Date = Date()) async throws {
        let sql = transaction.sql
        guard
            let head = try await sql.raw(
                "SELECT audit_head_seq, audit_head_hash FROM tenants WHERE id = \(bind: tenantID.description)\(transaction.rowLockClause)"
            ).first()
        else {
            throw CairnError(.notFound, "The tenant no longer exists.")
        }
        let event = AuditChain.link(
            record,
            tenantID: tenantID,
            sequence: try head.int64("audit_head_seq") + 1,
            occurredAt: now,
            previousHash: try head.string("audit_head_hash")
        )
        try await sql.raw(
            """
            INSERT INTO audit_events (tenant_id, seq, occurred_at, actor, action, target_type, target_id, details, prev_hash, hash)
            VALUES (\(bind: tenantID.description), \(bind: event.sequence), \(bind: event.occurredAtMilliseconds),
                    \(bind: record.actor), \(bind: record.action), \(bind: record.targetType), \(bind: record.targetID),
                    \(bind: JSONText.encode(record.details)), \(bind: event.previousHash), \(bind: event.hash))
            """
        ).run()
        try await sql.raw(
            "UPDATE tenants SET audit_head_seq = \(bind: event.sequence), audit_head_hash = \(bind: event.hash) WHERE id = \(bind: tenantID.description)"
        ).run()
    }

    /// Filters for reading the trail. All are optional and combine with AND.
    public struct Filter: Sendable, Equatable {
        public var actor: String?
        public var action: String?
        public var since: Date?
        public var until: Date?

        public init(actor: String? = nil, action: String? = nil, since: Date? = nil, until: Date? = nil) {
            self.actor = actor
            self.action = action
            self.since = since
            self.until = until
        }
    }

    /// A page of events, newest first, and the cursor for the next (older) page.
    public struct Page: Sendable {
        public let events: [AuditEvent]
        /// Pass as `before` to continue; `nil` on the last page.
        public let nextBefore: Int64?
    }

    /// Reads the caller's own tenant's trail, newest first.
    public func page(for principal: Principal, filter: Filter, before: Int64?, limit: Int) async throws -> Page {
        let tenant = principal.tenantID
        let rows = try await database.transaction(.tenant(tenant)) { transaction in
            var query: SQLQueryString = "SELECT * FROM audit_events WHERE tenant_id = \(bind: tenant.description)"
            if let actor = filter.actor { query += " AND actor = \(bind: actor)" }
            if let action = filter.action { query += " AND action = \(bind: action)" }
            if let since = filter.since { query += " AND occurred_at >= \(bind: EpochMilliseconds.milliseconds(since))" }
            if let until = filter.until { query += " AND occurred_at < \(bind: EpochMilliseconds.milliseconds(until))" }
            if let before { query += " AND seq < \(bind: before)" }
            query += " ORDER BY seq DESC LIMIT \(bind: limit + 1)"
            return try await transaction.sql.raw(query).all().map(Self.event)
        }
        let events = Array(rows.prefix(limit))
        return Page(events: events, nextBefore: rows.count > limit ? events.last?.sequence : nil)
    }

    /// The outcome of checking one tenant's chain.
    public struct Verification: Sendable {
        public let tenant: Tenant
        public let eventCount: Int
        /// `nil` when the chain is intact.
        public let firstBreak: AuditChain.Break?
    }

    /// Recomputes the chain of every tenant (or only `tenantName`) from the stored rows.
    ///
    /// Reads each tenant's events in sequence order in pages, so memory stays bounded however
    /// long the trail is.
    public func verify(tenantName: TenantName? = nil) async throws -> [Verification] {
        let tenants = TenantRepository(database: database)
        let selected: [Tenant]
        if let tenantName {
            guard let tenant = try await tenants.find(name: tenantName) else {
                throw CairnError(.notFound, "There is no tenant named '\(tenantName)'.")
            }
            selected = [tenant]
        } else {
            selected = try await tenants.all()
        }
        var results: [Verification] = []
        for tenant in selected {
            results.append(try await verify(tenant))
        }
        return results
    }

    private func verify(_ tenant: Tenant) async throws -> Verification {
        let pageSize = 1000
        let tenantID = tenant.id.description
        let head = try await database.transaction(.tenant(tenant.id)) { transaction in
            let row = try await transaction.sql.raw("SELECT audit_head_seq, audit_head_hash FROM tenants WHERE id = \(bind: tenantID)").first()
            return (try row?.int64("audit_head_seq") ?? 0, try row?.string("audit_head_hash") ?? AuditChain.genesisHash)
        }
        var checker = AuditChain.Checker()
        var lastSequence: Int64 = 0
        var count = 0
        while true {
            let after = lastSequence
            let page = try await database.transaction(.tenant(tenant.id)) { transaction in
                try await transaction.sql.raw(
                    """
                    SELECT * FROM audit_events WHERE tenant_id = \(bind: tenantID) AND seq > \(bind: after)
                    ORDER BY seq LIMIT \(bind: pageSize)
                    """
                ).all().map(Self.event)
            }
            for event in page {
                if let broken = checker.check(event) {
                    return Verification(tenant: tenant, eventCount: count, firstBreak: broken)
                }
                count += 1
                lastSequence = event.sequence
            }
            if page.count < pageSize { break }
        }
        return Verification(tenant: tenant, eventCount: count, firstBreak: checker.finish(recordedHead: head.0, recordedHeadHash: head.1))
    }

    package static func event(_ row: any SQLRow) throws -> AuditEvent {
        guard let tenantID = TenantID(try row.string("tenant_id")) else {
            throw CairnError(.integrityViolation, "An audit row carries a malformed tenant id.")
        }
        return AuditEvent(
            tenantID: tenantID,
            sequence: try row.int64("seq"),
            occurredAtMilliseconds: try row.int64("occurred_at"),
            record: AuditRecord(
                actor: try row.string("actor"),
                action: try row.string("action"),
                targetType: try row.string("target_type"),
                targetID: try row.string("target_id"),
                details: try JSONText.decodeMap(try row.string("details"))
            ),
            previousHash: try row.string("prev_hash"),
            hash: try row.string("hash")
        )
    }
}
