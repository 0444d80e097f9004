import CairnCore
import CairnTestSupport
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// Creates a tenant and returns its local administrator, the principal the CLI acts as.
func grant(_ roles: Set<Role>, subject: String = "svc") -> APIKeyGrant {
    APIKeyGrant(subject: subject, roles: roles, groups: ["risk"], attributes: AccessAttributes(entities: ["uk"], clearance: .internal))
}

@Suite("Migrations")
struct MigrationTests {
    @Test("Migrations apply once and leave nothing pending", arguments: TestEngine.all)
    func idempotent(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let migrator = store.migrator(logger: .init(label: "test"))
            let applied = try await migrator.migrate()
            let pending = try await migrator.pending()
            #expect(applied.isEmpty)
            #expect(pending.isEmpty)
        }
    }

    @Test("CI runs the PostgreSQL half of every store test")
    func postgresConfiguredInCI() {
        if TestEngine.postgresIsRequired {
            #expect(TestEngine.all.contains(.postgres), "CAIRN_TEST_DATABASE_URL must be set in CI (scripts/test.sh sets it)")
        }
    }
}

@Suite("Tenants")
struct TenantStoreTests {
    @Test("A tenant is created, found by name and id, and its name is unique", arguments: TestEngine.all)
    func createAndFind(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let tenant = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
            #expect(try await store.tenants.find(name: TenantName("northbank")) == tenant)
            #expect(try await store.tenants.find(id: tenant.id) == tenant)
            let name = try TenantName("northbank")
            await #expect { try await store.tenants.create(name: name, actor: "test") } throws: { error in
                (error as? CairnError)?.code == .conflict
            }
            #expect(try await store.tenants.all().map(\.name.rawValue) == ["northbank"])
        }
    }
}

@Suite("API keys")
struct APIKeyStoreTests {
    @Test("A key authenticates with its secret only, and not once revoked", arguments: TestEngine.all)
    func lifecycle(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let created = try await store.apiKeys.create(by: admin, name: "ingest", grant: grant([.service]), expiresAt: nil)
            let (key, tenant) = try #require(try await store.apiKeys.authenticate(created.secret))
            #expect(key == created.key)
            #expect(tenant.name.rawValue == "northbank")
            #expect(key.grant.attributes.entities == ["uk"])

            let forged = try #require(
                APIKeySecret(token: String(created.secret.token.dropLast()) + (created.secret.token.hasSuffix("A") ? "B" : "A"))
            )
            #expect(try await store.apiKeys.authenticate(forged) == nil)

            let revoked = try await store.apiKeys.revoke(key.id, by: admin)
            #expect(revoked.revokedAt != nil)
            #expect(try await store.apiKeys.authenticate(created.secret)?.0.revokedAt != nil)
        }
    }

    @Test("Another tenant's key reads, updates and revokes as not found, and is never listed", arguments: TestEngine.all)
    func tenantIsolation(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            let key = try await store.apiKeys.create(by: northbank, name: "north", grant: grant([.viewer]), expiresAt: nil).key
            _ = try await store.apiKeys.create(by: southbank, name: "south", grant: grant([.viewer]), expiresAt: nil)

            let isNotFound: @Sendable (any Error) -> Bool = { ($0 as? CairnError)?.code == .notFound }
            await #expect(performing: { try await store.apiKeys.get(key.id, for: southbank) }, throws: isNotFound)
            await #expect(performing: { try await store.apiKeys.rename(key.id, to: "mine", by: southbank) }, throws: isNotFound)
            await #expect(performing: { try await store.apiKeys.revoke(key.id, by: southbank) }, throws: isNotFound)
            #expect(try await store.apiKeys.list(for: southbank).items.map(\.name) == ["south"])
            #expect(try await store.apiKeys.get(key.id, for: northbank).revokedAt == nil)
        }
    }

    @Test("A key cannot be cleared above its creator, nor expire in the past", arguments: TestEngine.all)
    func grantLimits(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let tenant = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
            let creator = Principal(
                tenantID: tenant.id,
                tenantName: tenant.name,
                subject: "alice",
                roles: [.admin],
                groups: [],
                attributes: AccessAttributes(clearance: .internal),
                credential: .apiKey(APIKeyID())
            )
            var restricted = grant([.viewer])
            restricted.attributes.clearance = .restricted
            await #expect(throws: CairnError.self) { try await store.apiKeys.create(by: creator, name: "x", grant: restricted, expiresAt: nil) }
            await #expect(throws: CairnError.self) {
                try await store.apiKeys.create(by: creator, name: "x", grant: grant([.viewer]), expiresAt: Date().addingTimeInterval(-60))
            }
            #expect(try await store.apiKeys.list(for: creator).items.isEmpty)
        }
    }
}

@Suite("Principals seen")
struct PrincipalDirectoryTests {
    @Test("Recording a principal twice keeps one row with the first and last sighting", arguments: TestEngine.all)
    func upsert(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            try await store.principals.recordSeen(admin)
            try await store.principals.recordSeen(admin)
            let other = try await makeTenant(store, "southbank")
            try await store.principals.recordSeen(other)
            let seen = try await store.principals.list(for: admin).items
            #expect(seen.count == 1)
            #expect(seen.first?.subject == "cli")
            #expect(seen.first.map { $0.firstSeenAt <= $0.lastSeenAt } == true)
        }
    }
}

@Suite("Pagination")
struct PaginationTests {
    @Test("Paging through keys, principals and tenants yields every item exactly once, in order", arguments: TestEngine.all)
    func pages(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            for index in 0..<7 {
                _ = try await store.apiKeys.create(by: admin, name: "k\(index)", grant: grant([.viewer], subject: "s\(index)"), expiresAt: nil)
            }
            for name in ["westbank", "eastbank", "southbank"] { _ = try await makeTenant(store, name) }
            let tenant = try #require(try await store.tenants.find(name: TenantName("northbank")))
            for index in 0..<5 {
                try await store.principals.recordSeen(
                    Principal(
                        tenantID: tenant.id,
                        tenantName: tenant.name,
                        subject: "user\(index)",
                        roles: [.viewer],
                        groups: [],
                        attributes: AccessAttributes(),
                        credential: index.isMultiple(of: 2) ? .oidc(issuer: "idp") : .apiKey(APIKeyID())
                    )
                )
            }

            var keys: [APIKey] = []
            var cursor: String?
            repeat {
                let page = try await store.apiKeys.list(for: admin, limit: 3, after: cursor)
                #expect(page.items.count <= 3)
                keys += page.items
                cursor = page.nextCursor
            } while cursor != nil
            // Every key once (keys created in the same millisecond are ordered by id).
            #expect(keys.count == 7)
            #expect(Set(keys.map(\.name)) == Set((0..<7).map { "k\($0)" }))
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.createdAt >= $1.createdAt })

            var subjects: [String] = []
            cursor = nil
            repeat {
                let page = try await store.principals.list(for: admin, limit: 2, after: cursor)
                subjects += page.items.map(\.subject)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(subjects == (0..<5).map { "user\($0)" })

            let first = try await store.tenants.list(limit: 2)
            let second = try await store.tenants.list(limit: 2, after: first.nextCursor)
            #expect(first.items.map(\.name.rawValue) + second.items.map(\.name.rawValue) == ["eastbank", "northbank", "southbank", "westbank"])
            #expect(second.nextCursor == nil)

            await #expect(throws: CairnError.self) { try await store.tenants.list(limit: 2, after: "not-a-cursor!") }
            await #expect(throws: CairnError.self) { try await store.tenants.list(limit: 0) }
            // A well-formed cursor whose time is not a number is as foreign as garbage.
            let forged = Data("yesterday\u{1F}\(UUID().uuidString)".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            await #expect(throws: CairnError.self) { try await store.apiKeys.list(for: admin, after: forged) }
        }
    }

    @Test("A stored millisecond read back as a date turns into the same millisecond, so cursors built from dates skip nothing")
    func millisecondsRoundTrip() {
        // Rounding down once turned 1,700 ms into 1,699 and lost a row at a page boundary.
        let now = EpochMilliseconds.nowMilliseconds()
        let drifted = (Array(0..<20_000) + Array(now - 20_000..<now + 20_000)).filter { stored in
            EpochMilliseconds.milliseconds(EpochMilliseconds.date(milliseconds: stored)) != stored
        }
        #expect(drifted.isEmpty, "\(drifted.count) drifted, first \(drifted.prefix(3))")
    }
}

@Suite("Transactions")
struct TransactionTests {
    @Test("A transaction whose task is cancelled mid-body rolls back, and the connection takes the next one", arguments: TestEngine.all)
    func cancelledTransactionRollsBack(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let started = AsyncStream.makeStream(of: Void.self)
            let cancelled = Task {
                try await store.database.transaction(.tenant(admin.tenantID)) { transaction in
                    try await transaction.sql.raw("UPDATE tenants SET audit_head_seq = 999 WHERE id = \(bind: admin.tenantID.description)").run()
                    started.continuation.yield()
                    try await Task.sleep(for: .seconds(30))
                }
            }
            for await _ in started.stream { break }
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            // On SQLite a cancelled task's ROLLBACK was once dropped, leaving the one connection
            // inside the transaction: the next BEGIN failed.
            let head = try await store.database.transaction(.tenant(admin.tenantID)) { transaction in
                try await transaction.sql.raw("SELECT audit_head_seq FROM tenants WHERE id = \(bind: admin.tenantID.description)").first()?
                    .decode(column: "audit_head_seq", as: Int64.self)
            }
            #expect(head != 999, "the cancelled transaction's change was rolled back")
        }
    }
}
