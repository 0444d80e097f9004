import CairnCore
import CairnPipelines
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@Suite("Pipeline promotion", .serialized)
struct PipelinePromotionTests {
    /// A passport pipeline extracting `fields` from the zone, `critical` marked.
    static func definition(_ fields: [String], critical: String) -> String {
        """
        document_types:
          - name: passport
            keywords: [passport, "p<", "i<"]
            critical: [\(critical)]
            schema:
              type: object
              properties:
        \(fields.map { "        \($0): { type: string }" }.joined(separator: "\n"))
        """
    }

    static let all = [
        "mrz_type", "document_type", "issuing_country", "document_number", "date_of_birth", "expiry_date", "nationality", "sex", "surname",
        "given_names",
    ]

    /// The mrz specimens and their labels, without the set's own schemas, so that each version's
    /// schema decides what is extracted.
    static func goldenFolder() throws -> URL {
        let source = SharedData.folder("extraction-dev/mrz")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UUID().uuidString)")
        for sub in ["documents", "labels"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(sub), to: folder.appendingPathComponent(sub))
        }
        return folder
    }

    @Test(
        "A regressing version is refused naming each figure; a better one serves; rolling back needs a reason; all audited",
        .timeLimit(.minutes(5)),
        arguments: TestEngine.all
    )
    func gate(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let tenant = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
            let administrator = Principal.localAdministrator(of: tenant)
            let blobs = try LocalBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("golden-blobs-\(UUID().uuidString)"))
            let promotion = PipelinePromotion(store: store, blobs: blobs, evaluation: PipelineEvaluation())
            let withoutSex = Self.all.filter { $0 != "sex" }
            _ = try await store.pipelines.createVersion(
                of: "passports",
                source: Self.definition(withoutSex, critical: "document_number"),
                by: administrator
            )
            let worse = withoutSex.filter { $0 != "document_number" }
            _ = try await store.pipelines.createVersion(of: "passports", source: Self.definition(worse, critical: "date_of_birth"), by: administrator)

            await #expect {
                try await promotion.promote("passports", version: 2, by: administrator)
            } throws: { ($0 as? CairnError)?.message.contains("has no golden cases") == true }

            let folder = try Self.goldenFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            #expect(try await store.goldenCases.importSet(try GoldenSet(folder: folder), into: "passports", blobs: blobs, by: administrator) == 2)

            await #expect {
                try await promotion.promote("passports", version: 2, by: administrator)
            } throws: { error in
                (error as? CairnError)?.message
                    == "Version 2 of 'passports' is not promoted: overall score 0.800 against the active version's 0.900; critical field document_number 0.000 against 1.000."
            }
            #expect(try await store.pipelines.get("passports", for: administrator).activeVersion == 1, "the active version kept serving")

            _ = try await store.pipelines.createVersion(
                of: "passports",
                source: Self.definition(Self.all, critical: "document_number"),
                by: administrator
            )
            let better = try await promotion.promote("passports", version: 3, by: administrator)
            #expect(better.pipeline.activeVersion == 3 && better.candidate.score == 1 && better.active?.score == 0.9 && better.regressions.isEmpty)

            // Rolling back to version 1 scores worse, so it takes a reason, which is audited.
            await #expect {
                try await promotion.promote("passports", version: 1, by: administrator)
            } throws: { ($0 as? CairnError)?.code == .conflict }
            let rollback = try await promotion.promote(
                "passports",
                version: 1,
                overrideReason: "Version 3 is under investigation.",
                by: administrator
            )
            #expect(rollback.pipeline.activeVersion == 1 && rollback.regressions.count == 1)

            let promotions = try await store.audit.page(for: administrator, filter: .init(action: "pipeline.promote"), before: nil, limit: 5).events
            #expect(promotions.map { $0.record.details["to"] } == ["1", "3"])
            #expect(promotions.first?.record.details["override"] == "true")
            #expect(promotions.first?.record.details["reason"] == "Version 3 is under investigation.")
        }
    }
}
