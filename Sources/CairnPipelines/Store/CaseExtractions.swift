public import CairnCore
public import CairnIngest
import CairnJobs
public import CairnStore
import Foundation
import SQLKit

/// What the extraction saga reads and writes for one case document. Each step's output is
/// stored (pages, type, fields) and removed by its compensation, so a worker killed mid-run
/// resumes at the unfinished step and never repeats a finished one.
public struct CaseExtractions: Sendable {
    let database: any Database

    /// The document to extract, its case, and the pipeline version that extracts it: the one
    /// recorded on the document, else the pipeline's active version, recorded now so that every
    /// step and every retry use the same one.
    public struct Target: Sendable {
        public let kycCase: KYCCase
        public let document: CaseDocument
        public let version: Int
        public let definition: PipelineDefinition
    }

    public func target(_ id: CaseDocumentID, tenant: TenantID) async throws -> Target {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard let row = try await transaction.sql.raw("SELECT * FROM case_documents WHERE id = \(bind: id.description)").first() else {
                throw JobFailure.permanent("The case document \(id) is gone.")
            }
            var document = try Cases.document(row)
            guard let caseRow = try await transaction.sql.raw("SELECT * FROM kyc_cases WHERE id = \(bind: document.caseID.description)").first()
            else {
                throw JobFailure.permanent("The case of document \(id) is gone.")
            }
            let kycCase = try Cases.kycCase(caseRow, documents: [])
            guard
                let pipeline = try await transaction.sql.raw(
                    "SELECT id, active_version FROM pipelines WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: kycCase.pipeline)"
                ).first()
            else { throw JobFailure.permanent("The pipeline '\(kycCase.pipeline)' is gone.") }
            let number: Int
            if let recorded = document.pipelineVersion {
                number = recorded
            } else {
                guard let active = try pipeline.optionalInt64("active_version") else {
                    throw JobFailure.permanent("The pipeline '\(kycCase.pipeline)' has no active version.")
                }
                number = Int(active)
                try await transaction.sql.raw("UPDATE case_documents SET pipeline_version = \(bind: number) WHERE id = \(bind: id.description)").run()
                document = try Cases.document(
                    try await transaction.sql.raw("SELECT * FROM case_documents WHERE id = \(bind: id.description)").first()!
                )
            }
            guard
                let version = try await transaction.sql.raw(
                    "SELECT source FROM pipeline_versions WHERE pipeline_id = \(bind: try pipeline.string("id")) AND version = \(bind: number)"
                ).first()
            else { throw JobFailure.permanent("Version \(number) of the pipeline '\(kycCase.pipeline)' is gone.") }
            return Target(
                kycCase: kycCase,
                document: document,
                version: number,
                definition: try PipelineDefinition(text: try version.string("source"))
            )
        }
    }

    public func setState(_ state: CaseDocument.State, of id: CaseDocumentID, failure: String? = nil, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                "UPDATE case_documents SET state = \(bind: state.rawValue), failure = \(bind: failure) WHERE id = \(bind: id.description)"
            ).run()
        }
    }

    public func storePages(_ pages: [ParsedPage], of id: CaseDocumentID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw("DELETE FROM case_pages WHERE case_document_id = \(bind: id.description)").run()
            for page in pages {
                try await transaction.sql.raw(
                    """
                    INSERT INTO case_pages (case_document_id, tenant_id, number, width, height, source, text, lines, words)
                    VALUES (\(bind: id.description), \(bind: tenant.description), \(bind: page.number), \(bind: page.width), \(bind: page.height),
                            \(bind: page.source.rawValue), \(bind: page.text), \(bind: PageLines.json(page.lines)), \(bind: PageWords.json(page.words)))
                    """
                ).run()
            }
        }
    }

    public func removePages(of id: CaseDocumentID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw("DELETE FROM case_pages WHERE case_document_id = \(bind: id.description)").run()
        }
    }

    public func pages(of id: CaseDocumentID, tenant: TenantID) async throws -> [ParsedPage] {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw("SELECT * FROM case_pages WHERE case_document_id = \(bind: id.description) ORDER BY number").all().map {
                row in
                ParsedPage(
                    number: Int(try row.int64("number")),
                    width: try row.decode(column: "width", as: Double.self),
                    height: try row.decode(column: "height", as: Double.self),
                    text: try row.string("text"),
                    lines: try PageLines.lines(try row.string("lines")),
                    source: TextSource(rawValue: try row.string("source")) ?? .textLayer,
                    words: try PageWords.words(try row.string("words"))
                )
            }
        }
    }

    public func setType(_ type: String?, of id: CaseDocumentID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw("UPDATE case_documents SET document_type = \(bind: type) WHERE id = \(bind: id.description)").run()
        }
    }

    /// Replaces the document's fields with `fields`, each with its status.
    public func storeFields(_ fields: [CaseField], of id: CaseDocumentID, caseID: CaseID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.replaceFields(fields, of: id, caseID: caseID, tenant: tenant, in: transaction)
        }
    }

    public func fields(of id: CaseDocumentID, tenant: TenantID) async throws -> [CaseField] {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw("SELECT * FROM case_fields WHERE case_document_id = \(bind: id.description) ORDER BY name").all().map(
                Self.field
            )
        }
    }

    /// Once no document of the case waits or runs: runs the cross-checks over every extracted
    /// document (a field that disagrees goes to review) and moves the case to awaiting review.
    /// Called by each document's last step and by a failed document alike; only the last one
    /// settles the case, under the case's row lock.
    public func settle(_ caseID: CaseID, tenant: TenantID, actor: String) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard
                let row = try await transaction.sql.raw("SELECT * FROM kyc_cases WHERE id = \(bind: caseID.description)\(transaction.rowLockClause)")
                    .first()
            else { return }
            let kycCase = try Cases.kycCase(row, documents: [])
            guard kycCase.state == .processing || kycCase.state == .open else { return }
            let documents = try await transaction.sql.raw("SELECT * FROM case_documents WHERE case_id = \(bind: caseID.description)").all().map(
                Cases.document
            )
            guard !documents.isEmpty, documents.allSatisfy({ $0.state == .extracted || $0.state == .failed }) else { return }
            var typed: [(document: CaseDocumentID, type: String, field: ExtractedField)] = []
            var stored: [CaseDocumentID: [CaseField]] = [:]
            var definition: PipelineDefinition?
            for document in documents where document.state == .extracted {
                let fields = try await transaction.sql.raw(
                    "SELECT * FROM case_fields WHERE case_document_id = \(bind: document.id.description) ORDER BY name"
                ).all().map(Self.field)
                stored[document.id] = fields
                typed += fields.map { (document.id, document.documentType ?? "other", $0.field) }
                if definition == nil, let version = document.pipelineVersion {
                    definition = try await Self.definition(pipeline: kycCase.pipeline, version: version, tenant: tenant, in: transaction)
                }
            }
            if let definition {
                let problems = FieldRules(definition: definition).crossCheckProblems(fields: typed, subject: kycCase.subject)
                for (documentID, byName) in problems {
                    let updated = (stored[documentID] ?? []).map { entry -> CaseField in
                        guard let added = byName[entry.field.name] else { return entry }
                        return CaseField(documentID: entry.documentID, field: entry.field.adding(problems: added), status: .review)
                    }
                    try await Self.replaceFields(updated, of: documentID, caseID: caseID, tenant: tenant, in: transaction)
                }
            }
            try await Cases.transition(caseID, to: .awaitingReview, tenant: tenant, actor: actor, in: transaction)
        }
    }

    static func definition(pipeline: String, version: Int, tenant: TenantID, in transaction: Transaction) async throws -> PipelineDefinition? {
        guard
            let row = try await transaction.sql.raw(
                """
                SELECT v.source FROM pipeline_versions v JOIN pipelines p ON p.id = v.pipeline_id
                WHERE p.tenant_id = \(bind: tenant.description) AND p.name = \(bind: pipeline) AND v.version = \(bind: version)
                """
            ).first()
        else { return nil }
        return try PipelineDefinition(text: try row.string("source"))
    }

    static func replaceFields(
        _ fields: [CaseField],
        of id: CaseDocumentID,
        caseID: CaseID,
        tenant: TenantID,
        in transaction: Transaction
    ) async throws {
        try await transaction.sql.raw("DELETE FROM case_fields WHERE case_document_id = \(bind: id.description)").run()
        for entry in fields {
            let field = entry.field
            try await transaction.sql.raw(
                """
                INSERT INTO case_fields (case_document_id, case_id, tenant_id, name, value, page, box, evidence, confidence, extractor, problems, status)
                VALUES (\(bind: id.description), \(bind: caseID.description), \(bind: tenant.description), \(bind: field.name),
                        \(bind: try JSONText.json(field.value)), \(bind: field.page), \(bind: try field.box.map { try JSONText.json($0) }),
                        \(bind: field.evidence), \(bind: field.confidence), \(bind: field.extractor.rawValue),
                        \(bind: JSONText.encode(field.problems)), \(bind: entry.status.rawValue))
                """
            ).run()
        }
    }

    static func field(_ row: any SQLRow) throws -> CaseField {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(try row.string("value").utf8))
        let box = try row.decode(column: "box", as: String?.self).flatMap { try? JSONDecoder().decode(BoundingBox.self, from: Data($0.utf8)) }
        let page = try row.optionalInt64("page").map(Int.init)
        return CaseField(
            documentID: try row.entityID("case_document_id"),
            field: ExtractedField(
                name: try row.string("name"),
                value: value,
                page: page,
                box: box,
                evidence: try row.string("evidence"),
                confidence: try row.decode(column: "confidence", as: Double.self),
                extractor: Extractor(rawValue: try row.string("extractor")) ?? .label,
                problems: try row.list("problems")
            ),
            status: CaseField.Status(rawValue: try row.string("status")) ?? .review
        )
    }
}

extension ExtractedField {
    /// The same field with `problems` added to its own.
    func adding(problems added: [String]) -> ExtractedField {
        ExtractedField(
            name: name,
            value: value,
            page: page,
            box: box,
            evidence: evidence,
            confidence: confidence,
            extractor: extractor,
            problems: problems + added
        )
    }
}
