public import CairnCore
import CairnDocuments
import CairnGateway
import CairnStore
import Foundation
import SQLKit

/// The assistant's answer traces, each recorded with an `answer.create` event on the tenant's
/// audit chain that names it, in one transaction.
public struct AnswerTraces: Sendable {
    let database: any Database

    /// Stores `trace` and appends its audit event.
    public func record(_ trace: AnswerTrace) async throws {
        let detail = String(decoding: try JSONEncoder().encode(StoredDetail(trace)), as: UTF8.self)
        try await database.transaction(.tenant(trace.tenantID)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO answer_traces (id, tenant_id, actor, kind, created_at, detail)
                VALUES (\(bind: trace.id.description), \(bind: trace.tenantID.description), \(bind: trace.access.actor), \(bind: trace.kind),
                        \(bind: EpochMilliseconds.milliseconds(trace.createdAt)), \(bind: detail))
                """
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: trace.access.actor,
                    action: "answer.create",
                    targetType: "answer",
                    targetID: trace.id.description,
                    details: ["kind": trace.kind, "passages": String(trace.passages.count), "model": trace.model?.model ?? "none"]
                ),
                tenantID: trace.tenantID,
                in: transaction
            )
        }
    }

    /// The trace `id` of the principal's tenant; another tenant's is not found.
    public func get(_ id: AnswerID, for principal: Principal) async throws -> AnswerTrace {
        let row = try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await transaction.sql.raw(
                "SELECT created_at, detail FROM answer_traces WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description)"
            ).first()
        }
        guard let row else { throw CairnError(.notFound, "There is no answer with id '\(id)'.") }
        let detail = try JSONDecoder().decode(StoredDetail.self, from: Data(try row.string("detail").utf8))
        return detail.trace(id: id, tenantID: principal.tenantID, createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at")))
    }

    /// Everything but the columns, as the `detail` JSON.
    struct StoredDetail: Codable {
        let question: String
        let mode: String
        let kind: String
        let access: AnswerTrace.Access
        let passages: [AnswerTrace.Passage]
        let model: AnswerTrace.ModelCall?
        let verdicts: [AnswerTrace.Verdict]
        let guardrails: [AnswerTrace.GuardrailDecision]

        init(_ trace: AnswerTrace) {
            question = trace.question
            mode = trace.mode
            kind = trace.kind
            access = trace.access
            passages = trace.passages
            model = trace.model
            verdicts = trace.verdicts
            guardrails = trace.guardrails
        }

        func trace(id: AnswerID, tenantID: TenantID, createdAt: Date) -> AnswerTrace {
            AnswerTrace(
                id: id,
                tenantID: tenantID,
                createdAt: createdAt,
                question: question,
                mode: mode,
                kind: kind,
                access: access,
                passages: passages,
                model: model,
                verdicts: verdicts,
                guardrails: guardrails
            )
        }
    }
}
