public import CairnCore
public import CairnIngest
public import CairnJobs
public import CairnStore
import Foundation

/// The extraction saga of one case document under one pipeline version:
/// parse → classify → extract → validate → route.
///
/// Each step stores what it produced and its compensation removes it, so a worker killed
/// mid-run resumes at the unfinished step (a model call is never paid twice). A document that
/// cannot be read fails alone, with its sentence; when the case's last document settles, the
/// cross-checks run and the case awaits review.
public struct ExtractCaseDocument: Workflow {
    public static let jobKind = "case.document.extract"
    public var kind: String { Self.jobKind }
    /// Reading failures are about the file; retries are for the infrastructure.
    static let maxAttempts = 3
    public var defaultMaxAttempts: Int { Self.maxAttempts }

    private let blobs: any BlobStore
    private let parser: DocumentParser

    public init(blobs: any BlobStore, parser: DocumentParser) {
        self.blobs = blobs
        self.parser = parser
    }

    struct Payload: Codable {
        let document: String
    }

    static func payload(_ id: CaseDocumentID) -> String {
        String(decoding: (try? JSONEncoder().encode(Payload(document: id.description))) ?? Data(), as: UTF8.self)
    }

    public func steps(for job: JobContext) throws -> [WorkflowStep] {
        guard let id = CaseDocumentID(try job.payload(as: Payload.self).document) else {
            throw JobFailure.permanent("The job's payload names no valid case document.")
        }
        let tenant = job.job.tenantID
        let extractions = job.store.caseExtractions
        let blobs = self.blobs
        let parser = self.parser
        return [
            WorkflowStep(
                "parse",
                run: { job in
                    let target = try await extractions.target(id, tenant: tenant)
                    try await extractions.setState(.processing, of: id, tenant: tenant)
                    guard let digest = BlobDigest(target.document.blobDigest), try await blobs.contains(digest) else {
                        throw JobFailure.permanent("The uploaded file is no longer in the blob store.")
                    }
                    let parsed = try await blobs.withLocalFile(digest) { url in
                        do {
                            let format = try DocumentFormat.detect(fileAt: url, declaredName: target.document.fileName, declaredMediaType: nil)
                            return try await parser.parse(contentsOf: url, format: format)
                        } catch let error as CairnError where error.code == .invalidInput {
                            throw JobFailure.permanent(error.message)
                        }
                    }
                    try await extractions.storePages(parsed.pages, of: id, tenant: tenant)
                    try await job.reportProgress(0.4, "Read \(parsed.pages.count) page\(parsed.pages.count == 1 ? "" : "s")")
                },
                compensate: { _ in try await extractions.removePages(of: id, tenant: tenant) }
            ),
            WorkflowStep(
                "classify",
                run: { job in
                    let target = try await extractions.target(id, tenant: tenant)
                    let pages = try await extractions.pages(of: id, tenant: tenant)
                    let type = DocumentClassifier(definition: target.definition).type(of: pages)
                    try await extractions.setType(type, of: id, tenant: tenant)
                    try await job.reportProgress(0.5, "Classified as \(type)")
                },
                compensate: { _ in try await extractions.setType(nil, of: id, tenant: tenant) }
            ),
            WorkflowStep(
                "extract",
                run: { job in
                    let target = try await extractions.target(id, tenant: tenant)
                    let pages = try await extractions.pages(of: id, tenant: tenant)
                    var fields: [ExtractedField] = []
                    if let type = target.definition.documentTypes.first(where: { $0.name == target.document.documentType }) {
                        fields = DeterministicExtractor().extract(ParsedDocument(pages: pages), schema: try type.fields)
                    }
                    let entries = fields.map { CaseField(documentID: id, field: $0, status: .review) }
                    try await extractions.storeFields(entries, of: id, caseID: target.kycCase.id, tenant: tenant)
                    try await job.reportProgress(0.8, "Extracted \(fields.count) field\(fields.count == 1 ? "" : "s")")
                },
                compensate: { _ in
                    let target = try await extractions.target(id, tenant: tenant)
                    try await extractions.storeFields([], of: id, caseID: target.kycCase.id, tenant: tenant)
                }
            ),
            WorkflowStep("route") { job in
                // Validation and routing in one step: both only read what extract stored and
                // write the fields' problems and statuses back, so running it again is harmless.
                let target = try await extractions.target(id, tenant: tenant)
                let stored = try await extractions.fields(of: id, tenant: tenant)
                let rules = FieldRules(definition: target.definition)
                let problems = rules.problems(of: stored.map(\.field), type: target.document.documentType ?? "other")
                let routed = stored.map { entry -> CaseField in
                    let field = entry.field.adding(problems: (problems[entry.field.name] ?? []).filter { !entry.field.problems.contains($0) })
                    let accepted = field.confidence >= target.definition.acceptThreshold && field.problems.isEmpty
                    return CaseField(documentID: id, field: field, status: accepted ? .accepted : .review)
                }
                try await extractions.storeFields(routed, of: id, caseID: target.kycCase.id, tenant: tenant)
                try await extractions.setState(.extracted, of: id, tenant: tenant)
                try await extractions.settle(target.kycCase.id, tenant: tenant, actor: "pipeline")
                try await job.reportProgress(1, "\(routed.filter { $0.status == .accepted }.count) of \(routed.count) fields accepted")
            },
        ]
    }

    /// The document could not be read: it fails with the step's sentence, and the case goes on
    /// without it.
    public func workflowFailed(_ job: JobContext, reason: String) async throws {
        guard let id = CaseDocumentID(try job.payload(as: Payload.self).document) else { return }
        let tenant = job.job.tenantID
        let extractions = job.store.caseExtractions
        try await extractions.setState(.failed, of: id, failure: reason, tenant: tenant)
        if let target = try? await extractions.target(id, tenant: tenant) {
            try await extractions.settle(target.kycCase.id, tenant: tenant, actor: "pipeline")
        }
    }
}

/// Assigns a document a type of the pipeline's by the keywords on its first page; `other`
/// when none of a type's keywords is there.
public struct DocumentClassifier: Sendable {
    public let definition: PipelineDefinition

    public init(definition: PipelineDefinition) {
        self.definition = definition
    }

    public func type(of pages: [ParsedPage]) -> String {
        let text = (pages.first?.text ?? "").lowercased()
        let scored = definition.documentTypes.map { type in
            (type.name, type.keywords.filter { text.contains($0.lowercased()) }.count)
        }
        guard let best = scored.max(by: { $0.1 < $1.1 }), best.1 > 0 else { return "other" }
        return best.0
    }
}
