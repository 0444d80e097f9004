import CairnCore
import CairnRuntime
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import Testing

/// Databases that earlier releases created must keep working: a recorded version names the
/// same change, statement for statement, in every release after the one that shipped it.
@Suite("Migration compatibility")
struct MigrationCompatibilityTests {
    /// One migration as release 0.1.0 shipped it (written out by that release, before the
    /// migrations moved into their features' targets).
    struct Shipped: Decodable {
        let version: Int
        let name: String
        let sqlite: [String]
        let postgres: [String]

        var migration: Migration { Migration(version: version, name: name, sqlite: sqlite, postgres: postgres) }
    }

    static func shipped(_ release: String) throws -> [Shipped] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/migrations-\(release)", withExtension: "json"))
        return try JSONDecoder().decode([Shipped].self, from: Data(contentsOf: url))
    }

    @Test("Every migration release 0.1.0 shipped keeps its version, name and statements on both engines")
    func unchanged() throws {
        let shipped = try Self.shipped("0.1.0")
        let current = Dictionary(uniqueKeysWithValues: DatabaseSchema.cairn.migrations.map { ($0.version, $0) })
        #expect(shipped.map(\.version) == Array(1...11))
        for old in shipped {
            let new = try #require(current[old.version], "migration \(old.version) (\(old.name)) is gone")
            #expect(new.name == old.name)
            #expect(new.statements(for: .sqlite) == old.sqlite, "SQLite statements of \(old.name) changed")
            #expect(new.statements(for: .postgres) == old.postgres, "PostgreSQL statements of \(old.name) changed")
        }
    }

    @Test("Versions are unique and in order across the features")
    func ordered() {
        let versions = DatabaseSchema.cairn.migrations.map(\.version)
        #expect(versions == versions.sorted() && Set(versions).count == versions.count)
    }

    @Test(
        "A database release 0.1.0 created upgrades in place: only the migrations added since are pending, then none, and it serves",
        arguments: TestEngine.all
    )
    func upgradedInPlace(engine: TestEngine) async throws {
        let shipped = try Self.shipped("0.1.0")
        try await withTestStore(engine, schema: DatabaseSchema()) { empty in
            let logger = Logger(label: "test")
            // What 0.1.0's `cairn migrate` did: the same runner, with that release's migrations.
            let applied = try await Migrator(database: empty.database, migrations: shipped.map(\.migration), logger: logger).migrate()
            #expect(applied.count == shipped.count)

            let store = CairnStore(database: empty.database, schema: .cairn)
            let added = DatabaseSchema.cairn.migrations.map(\.version).filter { $0 > shipped.map(\.migration.version).max()! }
            #expect(try await store.migrator(logger: logger).pending().map(\.version) == added)
            #expect(try await store.migrator(logger: logger).migrate().map(\.version) == added)
            #expect(try await store.migrator(logger: logger).migrate().isEmpty)
            let admin = try await makeTenant(store, "northbank")
            #expect(try await store.audit.verify(tenantName: TenantName("northbank")).first?.firstBreak == nil)
            #expect(admin.tenantID == (try await store.tenants.find(name: TenantName("northbank")))?.id)
        }
    }
}
