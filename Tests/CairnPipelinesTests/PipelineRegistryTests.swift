import CairnCore
import CairnPipelines
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@Suite("Pipeline registry")
struct PipelineRegistryTests {
    @Test("Versions are numbered, kept byte for byte and audited; the first serves", arguments: TestEngine.all)
    func versions(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = Principal.localAdministrator(of: try await store.tenants.create(name: TenantName("northbank"), actor: "test"))
            let first = try await store.pipelines.createVersion(of: "kyc-individual", source: PipelineDefinitionTests.kyc, by: admin)
            #expect(first.activeVersion == 1 && first.versions.map(\.number) == [1])
            let edited = PipelineDefinitionTests.kyc.replacingOccurrences(of: "accept_threshold: 0.85", with: "accept_threshold: 0.9")
            let second = try await store.pipelines.createVersion(of: "kyc-individual", source: edited, by: admin)
            #expect(second.versions.map(\.number) == [1, 2])
            #expect(second.activeVersion == 1, "a new version serves only once promoted")
            #expect(second.versions[0].source == PipelineDefinitionTests.kyc && second.versions[1].source == edited)
            #expect(second.versions[0].checksum != second.versions[1].checksum && second.versions[0].checksum.count == 64)
            #expect(try second.versions[1].definition.acceptThreshold == 0.9)
            #expect(try await store.pipelines.list(for: admin).map(\.name) == ["kyc-individual"])

            let audit = try await store.audit.page(for: admin, filter: .init(action: "pipeline.version.create"), before: nil, limit: 10)
            #expect(audit.events.map { $0.record.details["version"] } == ["2", "1"])
        }
    }

    @Test("Bad names and definitions are refused and store nothing; another tenant sees none", arguments: TestEngine.all)
    func refusals(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = Principal.localAdministrator(of: try await store.tenants.create(name: TenantName("northbank"), actor: "test"))
            let other = Principal.localAdministrator(of: try await store.tenants.create(name: TenantName("southbank"), actor: "test"))
            await #expect(throws: CairnError.self) {
                try await store.pipelines.createVersion(of: "KYC!", source: PipelineDefinitionTests.kyc, by: admin)
            }
            await #expect {
                try await store.pipelines.createVersion(of: "kyc", source: "document_types: []", by: admin)
            } throws: { ($0 as? CairnError)?.message == "The pipeline definition names no document type." }
            #expect(try await store.pipelines.list(for: admin).isEmpty)
            _ = try await store.pipelines.createVersion(of: "kyc", source: PipelineDefinitionTests.kyc, by: admin)
            #expect(try await store.pipelines.list(for: other).isEmpty)
            await #expect {
                try await store.pipelines.get("kyc", for: other)
            } throws: { ($0 as? CairnError)?.code == .notFound }
        }
    }
}
