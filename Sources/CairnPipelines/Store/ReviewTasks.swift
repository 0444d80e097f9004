public import CairnCore
public import CairnStore
import Foundation
import SQLKit

/// The reviewers' queue: documents of cases awaiting review with fields in review, oldest
/// first, only for cases the reviewer's scope covers.
public struct ReviewTasks: Sendable {
    let database: any Database

    public func list(for principal: Principal, limit: Int = 100) async throws -> [ReviewTask] {
        try PageCursor.validate(limit: limit)
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var query: SQLQueryString = """
                SELECT d.id, d.case_id, d.file_name, d.document_type, d.created_at, c.reference,
                       (SELECT COUNT(*) FROM case_fields f WHERE f.case_document_id = d.id AND f.status = 'review') AS open_fields
                FROM case_documents d JOIN kyc_cases c ON c.id = d.case_id
                WHERE d.tenant_id = \(bind: principal.tenantID.description) AND c.state = 'awaiting_review'
                  AND EXISTS (SELECT 1 FROM case_fields f WHERE f.case_document_id = d.id AND f.status = 'review')
                """
            // Only the case has scope columns, so the case filter reads unqualified.
            query += Cases.scopeFilter(for: principal)
            query += " ORDER BY d.created_at, d.id LIMIT \(bind: limit)"
            return try await transaction.sql.raw(query).all().map { row in try Self.task(row, fields: []) }
        }
    }

    public func get(_ id: CaseDocumentID, for principal: Principal) async throws -> ReviewTask {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await Self.read(id, for: principal, in: transaction)
        }
    }

    /// Applies a reviewer's verdicts to the document's fields and records who gave them and
    /// when (a correction keeps the extracted value beside the new one); audited as
    /// `review.decide`. A field the document lacks, or a case no longer awaiting review, is
    /// refused and nothing changes.
    public func decide(_ id: CaseDocumentID, verdicts: [String: FieldVerdict], by principal: Principal) async throws -> ReviewTask {
        guard !verdicts.isEmpty else { throw CairnError(.invalidInput, "The decision names no field.") }
        let now = EpochMilliseconds.milliseconds(Date())
        return try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let task = try await Self.read(id, for: principal, in: transaction)
            let names = Set(task.fields.map(\.field.name))
            for name in verdicts.keys.sorted() where !names.contains(name) {
                throw CairnError(.invalidInput, "The document has no field '\(name.prefix(64))' to decide.")
            }
            for (name, verdict) in verdicts.sorted(by: { $0.key < $1.key }) {
                let status: CaseField.Status
                var statement: SQLQueryString = "UPDATE case_fields SET reviewed_by = \(bind: principal.auditActor), reviewed_at = \(bind: now)"
                switch verdict {
                case .accept: status = .accepted
                case .notPresent: status = .notPresent
                case .correct(let value):
                    status = .corrected
                    statement += ", original_value = COALESCE(original_value, value), value = \(bind: try JSONText.json(value))"
                }
                statement += ", status = \(bind: status.rawValue) WHERE case_document_id = \(bind: id.description) AND name = \(bind: name)"
                try await transaction.sql.raw(statement).run()
            }
            let counts = Dictionary(grouping: verdicts.values) { verdict -> String in
                switch verdict {
                case .accept: "accepted"
                case .correct: "corrected"
                case .notPresent: "not_present"
                }
            }.mapValues { String($0.count) }
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: "review.decide",
                    targetType: "case_document",
                    targetID: id.description,
                    details: counts
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
            return try await Self.read(id, for: principal, in: transaction)
        }
    }

    static func read(_ id: CaseDocumentID, for principal: Principal, in transaction: Transaction) async throws -> ReviewTask {
        var query: SQLQueryString = """
            SELECT d.id, d.case_id, d.file_name, d.document_type, d.created_at, c.reference,
                   (SELECT COUNT(*) FROM case_fields f WHERE f.case_document_id = d.id AND f.status = 'review') AS open_fields
            FROM case_documents d JOIN kyc_cases c ON c.id = d.case_id
            WHERE d.id = \(bind: id.description) AND d.tenant_id = \(bind: principal.tenantID.description) AND c.state = 'awaiting_review'
            """
        query += Cases.scopeFilter(for: principal)
        guard let row = try await transaction.sql.raw(query).first() else {
            throw CairnError(.notFound, "There is no review task with id '\(id)'.")
        }
        let fields = try await transaction.sql.raw(
            "SELECT * FROM case_fields WHERE case_document_id = \(bind: id.description) ORDER BY name"
        ).all().map(CaseExtractions.field)
        return try task(row, fields: fields)
    }

    static func task(_ row: any SQLRow, fields: [CaseField]) throws -> ReviewTask {
        ReviewTask(
            id: try row.entityID("id"),
            caseID: try row.entityID("case_id"),
            caseReference: try row.string("reference"),
            fileName: try row.string("file_name"),
            documentType: try row.decode(column: "document_type", as: String?.self),
            openFields: Int(try row.int64("open_fields")),
            createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at")),
            fields: fields
        )
    }
}
