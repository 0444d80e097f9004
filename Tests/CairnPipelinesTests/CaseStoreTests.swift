import CairnCore
import CairnPipelines
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@Suite("Cases")
struct CaseStoreTests {
    /// A tenant with the kyc-individual pipeline, its local administrator, and key-holders
    /// scoped to two entities.
    struct Bank {
        let administrator: Principal
        let workerA: Principal
        let reviewerB: Principal
        let unscoped: Principal
    }

    static func bank(_ store: CairnStore) async throws -> Bank {
        let tenant = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
        let administrator = Principal.localAdministrator(of: tenant)
        _ = try await store.pipelines.createVersion(of: "kyc-individual", source: PipelineDefinitionTests.kyc, by: administrator)
        func principal(_ subject: String, _ role: Role, entities: [String]) -> Principal {
            Principal(
                tenantID: tenant.id,
                tenantName: tenant.name,
                subject: subject,
                roles: [role],
                groups: [],
                attributes: AccessAttributes(entities: entities, clearance: .restricted),
                credential: .apiKey(APIKeyID())
            )
        }
        return Bank(
            administrator: administrator,
            workerA: principal("worker-a", .caseWorker, entities: ["entity-a"]),
            reviewerB: principal("reviewer-b", .reviewer, entities: ["entity-b"]),
            unscoped: principal("worker", .caseWorker, entities: [])
        )
    }

    static func blob(_ store: CairnStore) async throws -> (any BlobStore, StoredBlob) {
        let blobs = try LocalBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("case-blobs-\(UUID().uuidString)"))
        let stored = try await blobs.put(
            AsyncStream {
                $0.yield(Array("passport".utf8))
                $0.finish()
            },
            maximumBytes: 1 << 20
        )
        return (blobs, stored)
    }

    @Test("A case opens, takes documents, lists newest first, and every change is audited", arguments: TestEngine.all)
    func lifecycle(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let bank = try await Self.bank(store)
            let opened = try await store.cases.open(
                .init(reference: "APP-1", kind: .kycIndividual, subject: ["name": .string("Anna Eriksson")], scope: CaseScope(entity: "entity-a")),
                by: bank.workerA
            )
            #expect(opened.state == .open && opened.pipeline == "kyc-individual" && opened.subject["name"] == .string("Anna Eriksson"))
            let (_, blob) = try await Self.blob(store)
            let document = try await store.cases.addDocument(to: opened.id, fileName: "passport.png", blob: blob, by: bank.workerA)
            #expect(document.state == .queued && document.byteCount == 8)
            let second = try await store.cases.open(.init(reference: "APP-2", kind: .kycIndividual), by: bank.workerA)
            #expect(try await store.cases.list(for: bank.workerA).items.map(\.id) == [second.id, opened.id])
            #expect(try await store.cases.list(for: bank.workerA, state: .approved).items.isEmpty)

            let audit = try await store.audit.page(for: bank.administrator, filter: .init(), before: nil, limit: 20).events.map(\.record.action)
            #expect(audit.prefix(4) == ["case.open", "case.state", "case.document.add", "case.open"], "newest first")
        }
    }

    @Test("A principal sees only the cases its entity covers; the local administrator sees all", arguments: TestEngine.all)
    func scope(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let bank = try await Self.bank(store)
            let caseA = try await store.cases.open(
                .init(reference: "A-1", kind: .kycIndividual, scope: CaseScope(entity: "entity-a")),
                by: bank.workerA
            )
            let open = try await store.cases.open(.init(reference: "ALL-1", kind: .kycIndividual), by: bank.administrator)
            #expect(try await store.cases.list(for: bank.reviewerB).items.map(\.id) == [open.id])
            #expect(try await store.cases.list(for: bank.unscoped).items.map(\.id) == [open.id])
            #expect(Set(try await store.cases.list(for: bank.administrator).items.map(\.id)) == [caseA.id, open.id])
            await #expect {
                try await store.cases.get(caseA.id, for: bank.reviewerB)
            } throws: { ($0 as? CairnError)?.code == .notFound }
            await #expect {
                try await store.cases.open(.init(reference: "B-1", kind: .kycIndividual, scope: CaseScope(entity: "entity-b")), by: bank.workerA)
            } throws: { ($0 as? CairnError)?.code == .forbidden }
        }
    }

    @Test("Bad cases are refused and store nothing; only a case awaiting review can be decided", arguments: TestEngine.all)
    func refusals(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let bank = try await Self.bank(store)
            let opened = try await store.cases.open(.init(reference: "APP-1", kind: .kycIndividual), by: bank.workerA)
            for (new, code) in [
                (Cases.NewCase(reference: "APP-1", kind: .kycIndividual), CairnError.Code.conflict),
                (Cases.NewCase(reference: "", kind: .kycIndividual), .invalidInput),
                (Cases.NewCase(reference: "APP-9", kind: .kycBusiness), .notFound),
            ] {
                await #expect {
                    try await store.cases.open(new, by: bank.workerA)
                } throws: { ($0 as? CairnError)?.code == code }
            }
            #expect(try await store.cases.list(for: bank.administrator).items.count == 1)
            await #expect {
                try await store.cases.decide(opened.id, .approve, reason: "Looks right.", by: bank.workerA)
            } throws: { ($0 as? CairnError)?.message == "The case is open; only a case awaiting review can be decided." }
            await #expect {
                try await store.cases.decide(opened.id, .approve, reason: "  ", by: bank.workerA)
            } throws: { ($0 as? CairnError)?.code == .invalidInput }
        }
    }

    @Test("A case awaiting review is decided once, with its reason; then it takes nothing more", arguments: TestEngine.all)
    func decision(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let bank = try await Self.bank(store)
            let opened = try await store.cases.open(.init(reference: "APP-1", kind: .kycIndividual), by: bank.workerA)
            try await store.database.transaction(.tenant(opened.tenantID)) { transaction in
                try await Cases.transition(opened.id, to: .awaitingReview, tenant: opened.tenantID, actor: "pipeline", in: transaction)
            }
            let decided = try await store.cases.decide(opened.id, .escalate, reason: "The address differs from the bill.", by: bank.workerA)
            #expect(decided.state == .escalated && decided.decision?.reason == "The address differs from the bill.")
            #expect(decided.decision?.decidedBy == "api_key:worker-a")
            await #expect {
                try await store.cases.decide(opened.id, .approve, reason: "Changed my mind.", by: bank.workerA)
            } throws: { ($0 as? CairnError)?.code == .conflict }
            let (_, blob) = try await Self.blob(store)
            await #expect {
                try await store.cases.addDocument(to: opened.id, fileName: "late.pdf", blob: blob, by: bank.workerA)
            } throws: { ($0 as? CairnError)?.code == .conflict }
            let actions = try await store.audit.page(for: bank.administrator, filter: .init(), before: nil, limit: 5).events.map(\.record.action)
            #expect(actions.prefix(3) == ["case.decide", "case.state", "case.open"])
        }
    }
}
