import CairnCore
import CairnJobs
import CairnStore
import CairnTestSupport
import SQLKit
import Testing

@Suite("Jobs under row-level security (PostgreSQL)", .enabled(if: TestEngine.postgresURL != nil, "needs CAIRN_TEST_DATABASE_URL"))
struct JobRowLevelSecurityTests {
    @Test("A query on jobs without a tenant predicate, in a tenant's transaction, sees only that tenant's jobs")
    func secondWall() async throws {
        try await withTestStore(.postgres) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            _ = try await store.jobs.enqueue(.init(kind: "north-job"), by: northbank)
            _ = try await store.jobs.enqueue(.init(kind: "south-job"), by: southbank)
            let jobKinds = try await store.database.transaction(.tenant(southbank.tenantID)) { transaction in
                try await transaction.sql.raw("SELECT kind FROM jobs").all().map { try $0.decode(column: "kind", as: String.self) }
            }
            #expect(jobKinds == ["south-job"])
        }
    }
}
