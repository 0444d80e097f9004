public import CairnCore
import CairnDocuments
import CairnGateway
import CairnStore
import Foundation
import SQLKit

/// The assistant's sessions. A session exists only for the principal that opened it: anyone
/// else, in the tenant or not, is told there is no such session.
public struct AnswerSessions: Sendable {
    let database: any Database

    /// Opens an empty session owned by `principal`.
    public func open(for principal: Principal) async throws -> AnswerSession {
        let session = AnswerSession(id: AnswerSessionID(), tenantID: principal.tenantID, owner: principal.auditActor, createdAt: Date(), turns: [])
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO answer_sessions (id, tenant_id, owner, created_at)
                VALUES (\(bind: session.id.description), \(bind: session.tenantID.description), \(bind: session.owner),
                        \(bind: EpochMilliseconds.milliseconds(session.createdAt)))
                """
            ).run()
        }
        return try await get(session.id, for: principal)
    }

    /// The session with its turns, oldest first.
    public func get(_ id: AnswerSessionID, for principal: Principal) async throws -> AnswerSession {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await Self.read(id, for: principal, in: transaction)
        }
    }

    /// Appends a turn after the session's last; returns the turn as stored.
    public func append(
        question: String,
        standaloneQuestion: String,
        answerID: AnswerID,
        answerKind: String,
        answerText: String,
        to id: AnswerSessionID,
        for principal: Principal
    ) async throws -> AnswerSession.Turn {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            // Locked on PostgreSQL, serialised on SQLite: two turns of one session never take
            // the same position.
            guard
                try await transaction.sql.raw(
                    """
                    SELECT id FROM answer_sessions
                    WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description) AND owner = \(bind: principal.auditActor)\(transaction.rowLockClause)
                    """
                ).first() != nil
            else { throw Self.notFound(id) }
            let last =
                try await transaction.sql.raw(
                    "SELECT MAX(position) AS last FROM session_turns WHERE session_id = \(bind: id.description)"
                ).first().flatMap { try $0.optionalInt64("last") } ?? 0
            let turn = AnswerSession.Turn(
                position: Int(last) + 1,
                question: question,
                standaloneQuestion: standaloneQuestion,
                answerID: answerID,
                answerKind: answerKind,
                answerText: answerText,
                createdAt: Date()
            )
            try await transaction.sql.raw(
                """
                INSERT INTO session_turns (session_id, tenant_id, position, question, standalone_question, answer_id, answer_kind, answer_text, created_at)
                VALUES (\(bind: id.description), \(bind: principal.tenantID.description), \(bind: turn.position), \(bind: question),
                        \(bind: standaloneQuestion), \(bind: answerID.description), \(bind: answerKind), \(bind: answerText),
                        \(bind: EpochMilliseconds.milliseconds(turn.createdAt)))
                """
            ).run()
            return turn
        }
    }

    private static func read(_ id: AnswerSessionID, for principal: Principal, in transaction: Transaction) async throws -> AnswerSession {
        guard
            let row = try await transaction.sql.raw(
                """
                SELECT created_at FROM answer_sessions
                WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description) AND owner = \(bind: principal.auditActor)
                """
            ).first()
        else { throw notFound(id) }
        let turns = try await transaction.sql.raw(
            "SELECT * FROM session_turns WHERE session_id = \(bind: id.description) ORDER BY position"
        ).all().map { row in
            AnswerSession.Turn(
                position: Int(try row.int64("position")),
                question: try row.string("question"),
                standaloneQuestion: try row.string("standalone_question"),
                answerID: try row.entityID("answer_id"),
                answerKind: try row.string("answer_kind"),
                answerText: try row.string("answer_text"),
                createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at"))
            )
        }
        return AnswerSession(
            id: id,
            tenantID: principal.tenantID,
            owner: principal.auditActor,
            createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at")),
            turns: turns
        )
    }

    private static func notFound(_ id: AnswerSessionID) -> CairnError {
        CairnError(.notFound, "There is no session with id '\(id)'.")
    }
}
