import CairnCore
import CairnTestSupport
import Foundation
import PostgresNIO
import SQLKit
import Testing

@testable import CairnStore

/// A tenant with an audit trail of four events: tenant.create, then three key creations.
func tenantWithTrail(_ store: CairnStore) async throws -> Principal {
    let admin = try await makeTenant(store, "northbank")
    for name in ["a", "b", "c"] {
        _ = try await store.apiKeys.create(by: admin, name: name, grant: grant([.viewer]), expiresAt: nil)
    }
    return admin
}

/// Runs plain SQL behind Cairn's back (no tenant predicate, platform scope).
func tamper(_ store: CairnStore, _ statements: [SQLQueryString]) async throws {
    try await store.database.transaction(.platform) { transaction in
        for statement in statements { try await transaction.sql.raw(statement).run() }
    }
}

@Suite("Audit trail")
struct AuditStoreTests {
    @Test("Every mutation appends an event; pages run newest first and filter", arguments: TestEngine.all)
    func trail(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await tenantWithTrail(store)
            let all = try await store.audit.page(for: admin, filter: .init(), before: nil, limit: 50)
            #expect(all.events.map(\.sequence) == [4, 3, 2, 1])
            #expect(all.events.last?.record.action == "tenant.create")
            #expect(all.nextBefore == nil)

            let first = try await store.audit.page(for: admin, filter: .init(action: "api_key.create"), before: nil, limit: 2)
            #expect(first.events.map(\.sequence) == [4, 3])
            let second = try await store.audit.page(for: admin, filter: .init(action: "api_key.create"), before: first.nextBefore, limit: 2)
            #expect(second.events.map(\.sequence) == [2])
            #expect(second.nextBefore == nil)

            #expect(try await store.audit.page(for: admin, filter: .init(actor: "nobody"), before: nil, limit: 50).events.isEmpty)
            let future = try await store.audit.page(for: admin, filter: .init(since: Date().addingTimeInterval(3600)), before: nil, limit: 50)
            #expect(future.events.isEmpty)
        }
    }

    @Test("An event is written in the same transaction as its change: a rolled-back change leaves no event", arguments: TestEngine.all)
    func atomic(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await store.database.transaction(.tenant(admin.tenantID)) { transaction in
                    try await AuditLog.append(
                        AuditRecord(actor: "cli", action: "api_key.create", targetType: "api_key", targetID: "x"),
                        tenantID: admin.tenantID,
                        in: transaction
                    )
                    throw Abort()
                }
            }
            let events = try await store.audit.page(for: admin, filter: .init(), before: nil, limit: 50).events
            #expect(events.map(\.record.action) == ["tenant.create"])
            #expect(try await store.audit.verify().allSatisfy { $0.firstBreak == nil })
        }
    }

    @Test("An untouched store verifies", arguments: TestEngine.all)
    func intact(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            _ = try await tenantWithTrail(store)
            _ = try await makeTenant(store, "southbank")
            let results = try await store.audit.verify()
            #expect(results.map(\.eventCount) == [4, 1])
            #expect(results.allSatisfy { $0.firstBreak == nil })
        }
    }

    enum Tampering: String, CaseIterable, Sendable {
        case edit, delete, swap, truncate, rewriteNewest
    }

    @Test("Tampering with plain SQL is caught and the first broken event named", arguments: TestEngine.all, Tampering.allCases)
    func tampering(engine: TestEngine, tampering: Tampering) async throws {
        try await withTestStore(engine) { store in
            let admin = try await tenantWithTrail(store)
            let tenant = admin.tenantID.description
            let expected: AuditChain.Break
            switch tampering {
            case .edit:
                try await tamper(store, ["UPDATE audit_events SET actor = 'mallory' WHERE tenant_id = \(bind: tenant) AND seq = 2"])
                expected = .init(sequence: 2, reason: .contentAltered)
            case .delete:
                try await tamper(store, ["DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq = 3"])
                expected = .init(sequence: 3, reason: .missing)
            case .swap:
                try await tamper(
                    store,
                    [
                        "UPDATE audit_events SET seq = -1 WHERE tenant_id = \(bind: tenant) AND seq = 2",
                        "UPDATE audit_events SET seq = 2 WHERE tenant_id = \(bind: tenant) AND seq = 3",
                        "UPDATE audit_events SET seq = 3 WHERE tenant_id = \(bind: tenant) AND seq = -1",
                    ]
                )
                expected = .init(sequence: 2, reason: .contentAltered)
            case .truncate:
                try await tamper(store, ["DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq = 4"])
                expected = .init(sequence: 4, reason: .truncated(expectedHead: 4))
            case .rewriteNewest:
                // A forger who knows the (public) hashing rule rewrites the newest event and
                // recomputes its hash; only the head recorded on the tenant row still differs.
                let newest = try #require(try await store.audit.page(for: admin, filter: .init(), before: nil, limit: 1).events.first)
                let forged = AuditChain.link(
                    AuditRecord(
                        actor: "mallory",
                        action: newest.record.action,
                        targetType: newest.record.targetType,
                        targetID: newest.record.targetID,
                        details: newest.record.details
                    ),
                    tenantID: admin.tenantID,
                    sequence: newest.sequence,
                    occurredAt: newest.occurredAt,
                    previousHash: newest.previousHash
                )
                try await tamper(
                    store,
                    [
                        "UPDATE audit_events SET actor = 'mallory', hash = \(bind: forged.hash) WHERE tenant_id = \(bind: tenant) AND seq = 4"
                    ]
                )
                expected = .init(sequence: 4, reason: .headMismatch)
            }
            let result = try #require(try await store.audit.verify(tenantName: TenantName("northbank")).first)
            #expect(result.firstBreak == expected)
        }
    }
}

@Suite("Row-level security (PostgreSQL)", .enabled(if: TestEngine.postgresURL != nil, "needs CAIRN_TEST_DATABASE_URL"))
struct RowLevelSecurityTests {
    @Test("A query without a tenant predicate, run through Cairn's transaction setup, sees only its tenant's rows")
    func secondWall() async throws {
        try await withTestStore(.postgres) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            _ = try await store.apiKeys.create(by: northbank, name: "n1", grant: grant([.viewer]), expiresAt: nil)
            _ = try await store.apiKeys.create(by: northbank, name: "n2", grant: grant([.viewer]), expiresAt: nil)
            _ = try await store.apiKeys.create(by: southbank, name: "s1", grant: grant([.viewer]), expiresAt: nil)

            let names = try await store.database.transaction(.tenant(southbank.tenantID)) { transaction in
                try await transaction.sql.raw("SELECT name FROM api_keys ORDER BY name").all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(names == ["s1"])
            let tenantsSeen = try await store.database.transaction(.tenant(southbank.tenantID)) { transaction in
                try await transaction.sql.raw("SELECT name FROM tenants").all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(tenantsSeen == ["southbank"])
            let auditTenants = try await store.database.transaction(.tenant(southbank.tenantID)) { transaction in
                try await transaction.sql.raw("SELECT DISTINCT tenant_id FROM audit_events").all().map {
                    try $0.decode(column: "tenant_id", as: String.self)
                }
            }
            #expect(auditTenants == [southbank.tenantID.description])
            let allKeys = try await store.database.transaction(.platform) { transaction in
                try await transaction.sql.raw("SELECT count(*) AS n FROM api_keys").first()?.decode(column: "n", as: Int.self)
            }
            #expect(allKeys == 3)
        }
    }

    @Test("A write into another tenant from a tenant-scoped transaction is refused")
    func withCheck() async throws {
        try await withTestStore(.postgres) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            // SQLSTATE 42501: "new row violates row-level security policy".
            await #expect {
                try await store.database.transaction(.tenant(southbank.tenantID)) { transaction in
                    try await transaction.sql.raw(
                        """
                        INSERT INTO principals (tenant_id, subject, credential, roles, group_names, entities, branches, clearance, first_seen_at, last_seen_at)
                        VALUES (\(bind: northbank.tenantID.description), 'intruder', 'api_key', '[]', '[]', '[]', '[]', 'public', 0, 0)
                        """
                    ).run()
                }
            } throws: { error in
                (error as? PSQLError)?.serverInfo?[.sqlState] == "42501"
            }
            #expect(try await store.principals.list(for: northbank).items.isEmpty)
        }
    }
}
