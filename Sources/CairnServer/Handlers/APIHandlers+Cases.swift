import CairnAPI
import CairnCore
import CairnIngest
import CairnPipelines
import CairnStore
import Foundation
import OpenAPIRuntime

// KYC cases: opened, filled with documents, read with their extracted fields, decided.
extension APIHandlers {
    /// Case documents share the document library's blob store and upload limit.
    var caseIntake: CaseIntake {
        CaseIntake(store: store, blobs: documents.library.blobs, maximumUploadBytes: documents.library.maximumUploadBytes)
    }

    func listCases(_ input: Operations.ListCases.Input) async throws -> Operations.ListCases.Output {
        let page = try await store.cases.list(
            for: try RequestCaller.principal(),
            state: input.query.state.flatMap { KYCCase.State(rawValue: $0.rawValue) },
            limit: input.query.limit ?? 100,
            after: input.query.cursor
        )
        return .ok(.init(body: .json(.init(cases: try page.items.map { try Components.Schemas.Case($0, fields: nil) }, nextCursor: page.nextCursor))))
    }

    func createCase(_ input: Operations.CreateCase.Input) async throws -> Operations.CreateCase.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let subject = try body.subject.map { try JSONValue(body: $0.additionalProperties) }
        guard let kind = KYCCase.Kind(rawValue: body.kind.rawValue) else {
            throw CairnError(.invalidInput, "The case's kind is not one Cairn knows.")
        }
        let opened = try await store.cases.open(
            .init(
                reference: body.reference,
                kind: kind,
                subject: subject?.objectValue ?? [:],
                scope: CaseScope(entity: body.scope?.entity, branch: body.scope?.branch),
                pipeline: body.pipeline
            ),
            by: try RequestCaller.principal()
        )
        return .created(.init(body: .json(try .init(opened, fields: []))))
    }

    func getCase(_ input: Operations.GetCase.Input) async throws -> Operations.GetCase.Output {
        let principal = try RequestCaller.principal()
        let id = try Self.caseID(input.path.caseId)
        let found = try await store.cases.get(id, for: principal)
        return .ok(.init(body: .json(try .init(found, fields: try await store.cases.fields(of: id, for: principal)))))
    }

    func addCaseDocuments(_ input: Operations.AddCaseDocuments.Input) async throws -> Operations.AddCaseDocuments.Output {
        guard case .multipartForm(let parts) = input.body else { throw Self.unsupportedBody }
        let principal = try RequestCaller.principal()
        let id = try Self.caseID(input.path.caseId)
        var added = 0
        var iterator = parts.makeAsyncIterator()
        while let part = try await Self.nextPart(&iterator) {
            switch part {
            case .file(let part):
                _ = try await caseIntake.add(part.payload.body.map { Array($0) }, named: part.filename ?? "upload", to: id, by: principal)
                added += 1
            case .undocumented(let part):
                for try await _ in part.body {}
            }
        }
        guard added > 0 else { throw CairnError(.invalidInput, "The upload has no 'file' part.") }
        let current = try await store.cases.get(id, for: principal)
        return .accepted(.init(body: .json(try .init(current, fields: try await store.cases.fields(of: id, for: principal)))))
    }

    func decideCase(_ input: Operations.DecideCase.Input) async throws -> Operations.DecideCase.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let principal = try RequestCaller.principal()
        let id = try Self.caseID(input.path.caseId)
        guard let decision = KYCCase.Decision(rawValue: body.decision.rawValue) else {
            throw CairnError(.invalidInput, "The decision must be approve, reject or escalate.")
        }
        let decided = try await store.cases.decide(id, decision, reason: body.reason, by: principal)
        return .ok(.init(body: .json(try .init(decided, fields: try await store.cases.fields(of: id, for: principal)))))
    }

    static func caseID(_ text: String) throws(CairnError) -> CaseID {
        guard let id = CaseID(text) else { throw CairnError(.notFound, "There is no case with id '\(text.prefix(80))'.") }
        return id
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { members } else { nil }
    }
}

extension Components.Schemas.Case {
    /// The case; with `fields`, each document carries its own (lists pass `nil` and omit documents).
    init(_ item: KYCCase, fields: [CaseField]?) throws {
        self.init(
            id: item.id.description,
            reference: item.reference,
            kind: Components.Schemas.CaseKind(rawValue: item.kind.rawValue) ?? .kycIndividual,
            state: Components.Schemas.CaseState(rawValue: item.state.rawValue) ?? .open,
            subject: .init(additionalProperties: try OpenAPIObjectContainer(body: JSONValue.object(item.subject))),
            scope: .init(entity: item.scope.entity, branch: item.scope.branch),
            pipeline: item.pipeline,
            createdBy: item.createdBy,
            createdAt: item.createdAt,
            updatedAt: item.updatedAt,
            decision: item.decision.map {
                .init(
                    decision: .init(rawValue: $0.decision.rawValue) ?? .escalate,
                    reason: $0.reason,
                    decidedBy: $0.decidedBy,
                    decidedAt: $0.decidedAt
                )
            },
            documents: try fields.map { fields in
                try item.documents.map { document in
                    try Components.Schemas.CaseDocument(document, fields: fields.filter { $0.documentID == document.id })
                }
            }
        )
    }
}

extension Components.Schemas.CaseDocument {
    init(_ document: CaseDocument, fields: [CaseField]) throws {
        self.init(
            id: document.id.description,
            fileName: document.fileName,
            byteCount: document.byteCount,
            state: .init(rawValue: document.state.rawValue) ?? .queued,
            documentType: document.documentType,
            pipelineVersion: document.pipelineVersion,
            failure: document.failure,
            createdAt: document.createdAt,
            fields: try fields.map(Components.Schemas.CaseField.init)
        )
    }
}

extension Decodable {
    /// `value` re-read as this type through JSON (between the domain's `JSONValue` and the
    /// runtime's containers).
    init(body value: some Encodable) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(value))
    }
}

// The reviewers' queue.
extension APIHandlers {
    func listReviewTasks(_ input: Operations.ListReviewTasks.Input) async throws -> Operations.ListReviewTasks.Output {
        let tasks = try await store.reviewTasks.list(for: try RequestCaller.principal(), limit: input.query.limit ?? 100)
        return .ok(.init(body: .json(.init(tasks: try tasks.map { try Components.Schemas.ReviewTask($0, withFields: false) }))))
    }

    func getReviewTask(_ input: Operations.GetReviewTask.Input) async throws -> Operations.GetReviewTask.Output {
        let task = try await store.reviewTasks.get(try Self.reviewTaskID(input.path.taskId), for: try RequestCaller.principal())
        return .ok(.init(body: .json(try .init(task, withFields: true))))
    }

    func decideReviewTask(_ input: Operations.DecideReviewTask.Input) async throws -> Operations.DecideReviewTask.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        var verdicts: [String: FieldVerdict] = [:]
        for field in body.fields {
            guard verdicts[field.name] == nil else { throw CairnError(.invalidInput, "The field '\(field.name)' is decided twice.") }
            switch field.action {
            case .accept: verdicts[field.name] = .accept
            case .notPresent: verdicts[field.name] = .notPresent
            case .correct:
                guard let value = field.value else { throw CairnError(.invalidInput, "Correcting '\(field.name)' needs its value.") }
                verdicts[field.name] = .correct(try JSONValue(body: value))
            }
        }
        let task = try await store.reviewTasks.decide(try Self.reviewTaskID(input.path.taskId), verdicts: verdicts, by: try RequestCaller.principal())
        return .ok(.init(body: .json(try .init(task, withFields: true))))
    }

    static func reviewTaskID(_ text: String) throws(CairnError) -> CaseDocumentID {
        guard let id = CaseDocumentID(text) else { throw CairnError(.notFound, "There is no review task with id '\(text.prefix(80))'.") }
        return id
    }
}

extension Components.Schemas.ReviewTask {
    init(_ task: ReviewTask, withFields: Bool) throws {
        self.init(
            id: task.id.description,
            caseId: task.caseID.description,
            caseReference: task.caseReference,
            fileName: task.fileName,
            documentType: task.documentType,
            openFields: task.openFields,
            createdAt: task.createdAt,
            fields: withFields ? try task.fields.map(Components.Schemas.CaseField.init) : nil
        )
    }
}

extension Components.Schemas.CaseField {
    init(_ entry: CaseField) throws {
        let field = entry.field
        self.init(
            name: field.name,
            value: try OpenAPIValueContainer(body: field.value),
            page: field.page,
            box: field.box.map { .init(x0: $0.x0, y0: $0.y0, x1: $0.x1, y1: $0.y1) },
            evidence: field.evidence,
            confidence: field.confidence,
            extractor: .init(rawValue: field.extractor.rawValue) ?? .label,
            problems: field.problems,
            status: .init(rawValue: entry.status.rawValue) ?? .review
        )
    }
}
