import CairnCore
import CairnIngest
import CairnJobs
import CairnPipelines
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@Suite("Case extraction")
struct CaseExtractionTests {
    static let pipeline = """
        document_types:
          - name: passport
            keywords: [passport, "p<"]
            critical: [document_number]
            schema:
              type: object
              properties:
                document_number: { type: string }
                surname: { type: string }
                date_of_birth: { type: string }
                expiry_date: { type: string }
        rules:
          - { kind: expires_after_today, field: passport.expiry_date }
          - { kind: age_at_least, field: passport.date_of_birth, years: 18 }
        cross_checks:
          - { name: surname, fields: [subject.surname, passport.surname], threshold: 0.85 }
        """

    @Test(
        "A case pack is extracted document by document: fields with provenance, routed by confidence, rules and cross-checks; a bad file fails alone",
        .timeLimit(.minutes(5)),
        arguments: TestEngine.all
    )
    func casePack(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let tenant = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
            let administrator = Principal.localAdministrator(of: tenant)
            _ = try await store.pipelines.createVersion(of: "kyc-individual", source: Self.pipeline, by: administrator)
            let blobs = try LocalBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("case-blobs-\(UUID().uuidString)"))
            let intake = CaseIntake(store: store, blobs: blobs, maximumUploadBytes: 1 << 24)
            let opened = try await store.cases.open(
                .init(reference: "APP-1", kind: .kycIndividual, subject: ["surname": .string("Eriksen")]),
                by: administrator
            )
            let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).pdf")
            try Data().write(to: empty)
            defer { try? FileManager.default.removeItem(at: empty) }
            let passport = try await intake.add(
                file: SharedData.folder("extraction-dev/mrz/documents/passport-td3.png"),
                to: opened.id,
                by: administrator
            )
            let locked = try await intake.add(
                file: SharedPDFs.folder.appendingPathComponent("pdfplumber/password-example.pdf"),
                to: opened.id,
                by: administrator
            )
            let nothing = try await intake.add(file: empty, to: opened.id, by: administrator)
            #expect(try await store.cases.get(opened.id, for: administrator).state == .processing)

            let settled = try await withWorker(store, [ExtractCaseDocument(blobs: blobs, parser: DocumentParser())]) { _ in
                try await eventually("the case to await review", timeout: .seconds(240)) {
                    let current = try await store.cases.get(opened.id, for: administrator)
                    return current.state == .awaitingReview ? current : nil
                }
            }
            let documents = Dictionary(uniqueKeysWithValues: settled.documents.map { ($0.id, $0) })
            #expect(documents[passport.id]?.state == .extracted && documents[passport.id]?.documentType == "passport")
            #expect(documents[passport.id]?.pipelineVersion == 1)
            #expect(documents[locked.id]?.state == .failed && documents[locked.id]?.failure == "The PDF is encrypted; give its password to open it.")
            #expect(documents[nothing.id]?.state == .failed && documents[nothing.id]?.failure == "The file is empty.")

            let fields = Dictionary(uniqueKeysWithValues: try await store.cases.fields(of: opened.id, for: administrator).map { ($0.field.name, $0) })
            let number = try #require(fields["document_number"])
            #expect(number.field.value == .string("L898902C3") && number.status == .accepted && number.field.extractor == .mrz)
            #expect(number.field.page == 1 && number.field.box != nil && number.field.evidence.hasPrefix("L898902C3"))
            // The specimen expired in 2012, and the applicant declared another surname.
            let expiry = try #require(fields["expiry_date"])
            #expect(expiry.status == .review && expiry.field.problems == ["The document expired on 2012-04-15."])
            let surname = try #require(fields["surname"])
            #expect(surname.status == .review && surname.field.problems.first?.hasPrefix("The surname check failed") == true, "\(surname)")
            #expect(fields["date_of_birth"]?.status == .accepted)

            let actions = try await store.audit.page(for: administrator, filter: .init(action: "case.state"), before: nil, limit: 10).events
            #expect(actions.map { $0.record.details["state"] } == ["awaiting_review", "processing"])

            // The passport waits for a reviewer, who corrects one field and accepts the other.
            let queue = try await store.reviewTasks.list(for: administrator)
            #expect(queue.map(\.id) == [passport.id] && queue.first?.openFields == 2)
            let reviewed = try await store.reviewTasks.decide(
                passport.id,
                verdicts: ["expiry_date": .accept, "surname": .correct(.string("Eriksen"))],
                by: administrator
            )
            let byName = Dictionary(uniqueKeysWithValues: reviewed.fields.map { ($0.field.name, $0) })
            #expect(byName["expiry_date"]?.status == .accepted)
            #expect(byName["surname"]?.status == .corrected && byName["surname"]?.field.value == .string("Eriksen"))
            #expect(reviewed.openFields == 0)
            #expect(try await store.reviewTasks.list(for: administrator).isEmpty, "a reviewed document leaves the queue")
            await #expect {
                try await store.reviewTasks.decide(passport.id, verdicts: ["nationality": .accept], by: administrator)
            } throws: { ($0 as? CairnError)?.message == "The document has no field 'nationality' to decide." }
            let decided = try await store.audit.page(for: administrator, filter: .init(action: "review.decide"), before: nil, limit: 5).events
            #expect(decided.first?.record.details == ["accepted": "1", "corrected": "1"])
        }
    }
}
