public import CairnCore
public import CairnDocuments
public import CairnGateway
import CairnJobs
public import CairnStore
public import Foundation
import SQLKit

/// Agent runs, their steps, and the review proposals their approved calls make.
///
/// A run is visible to its starter and to principals holding `runs.manage`; anyone else is told
/// there is no such run. Every change that hands the run to a worker (the start, an approval or
/// rejection) enqueues the `agent.run` job in the same transaction, keyed so a retried request
/// cannot enqueue it twice.
public struct AgentRuns: Sendable {
    let database: any Database

    /// The job kind that advances runs.
    public static let jobKind = "agent.run"

    /// What an `agent.run` job carries.
    public struct JobPayload: Codable, Sendable {
        public let run: String

        public init(run: AgentRunID) { self.run = run.description }
    }

    // MARK: Tenant side

    /// Stores a new run of `principal` and enqueues its first job; audited as `run.create`.
    public func start(goal: String, tools: [AgentTool], limits: AgentLimits, by principal: Principal, tenantQueueCap: Int?) async throws -> AgentRun {
        let id = AgentRunID()
        let now = EpochMilliseconds.milliseconds(Date())
        let snapshot = try JSONText.json(PrincipalSnapshot(principal))
        let toolNames = JSONText.encode(tools.map(\.rawValue))
        let limitsText = try JSONText.json(limits)
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO agent_runs (id, tenant_id, owner, principal, goal, tools, state, limits, model_calls, active_ms, cost_nanodollars, created_at, updated_at)
                VALUES (\(bind: id.description), \(bind: principal.tenantID.description), \(bind: principal.auditActor), \(bind: snapshot), \(bind: goal),
                        \(bind: toolNames), 'running', \(bind: limitsText), 0, 0, 0, \(bind: now), \(bind: now))
                """
            ).run()
            try await Self.enqueue(id, key: "start", tenant: principal.tenantID, cap: tenantQueueCap, in: transaction)
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: "run.create",
                    targetType: "agent_run",
                    targetID: id.description,
                    details: ["tools": tools.map(\.rawValue).joined(separator: ",")]
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
        }
        return try await get(id, for: principal)
    }

    /// The run with its steps, if `principal` may see it.
    public func get(_ id: AgentRunID, for principal: Principal) async throws -> AgentRun {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard let run = try await Self.read(id, tenant: principal.tenantID, in: transaction),
                AgentRunAccess.canSee(runOwnedBy: run.owner, principal)
            else {
                throw Self.notFound(id)
            }
            return AgentRunAccess.readsInFull(runOwnedBy: run.owner, principal) ? run : run.withoutContent
        }
    }

    /// Runs `principal` may see, newest first, without their steps.
    public func list(
        for principal: Principal,
        state: AgentRun.State? = nil,
        limit: Int = 100,
        after cursor: String? = nil
    ) async throws -> Page<AgentRun> {
        try PageCursor.validate(limit: limit)
        let position = try NewestFirstPosition(cursor: cursor)
        let rows = try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var query: SQLQueryString = "SELECT * FROM agent_runs WHERE tenant_id = \(bind: principal.tenantID.description)"
            if !principal.has(.manageRuns) { query += " AND owner = \(bind: principal.auditActor)" }
            if let state { query += " AND state = \(bind: state.rawValue)" }
            if let position { query += position.filter }
            query += NewestFirstPosition.order
            query += " LIMIT \(bind: limit + 1)"
            return try await transaction.sql.raw(query).all()
        }
        let runs = try rows.map { row in
            let run = try Self.run(row, steps: [])
            return AgentRunAccess.readsInFull(runOwnedBy: run.owner, principal) ? run : run.withoutContent
        }
        return Page(fetched: runs, limit: limit) {
            NewestFirstPosition.position(createdAt: $0.createdAt, id: $0.id.description)
        }
    }

    /// A person's decision on the call the run waits on.
    public enum Decision: Sendable, Equatable {
        case approve
        /// With the reason the model is told.
        case reject(reason: String?)
    }

    /// Settles the side-effecting call `id` waits on and hands the run back to a worker;
    /// audited as `run.approve` or `run.reject`. A run not waiting is a conflict, and so is one
    /// waiting on another step than `expected` (when given): a decision is about the call its
    /// maker saw, never about whichever call waits by the time it arrives. Under four-eyes
    /// approval the starter may reject their run's call but not approve it.
    public func decide(
        _ decision: Decision,
        on id: AgentRunID,
        step expected: Int? = nil,
        by principal: Principal,
        approvals: AgentApprovalRule = .starterOrManager,
        tenantQueueCap: Int?
    ) async throws -> AgentRun {
        if case .reject(let reason?) = decision { try TextRules.validate(reason, field: "A reason", maximumLength: 2000) }
        let now = EpochMilliseconds.milliseconds(Date())
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let tenant = principal.tenantID.description
            guard
                let row = try await transaction.sql.raw(
                    "SELECT owner, state FROM agent_runs WHERE id = \(bind: id.description) AND tenant_id = \(bind: tenant)\(transaction.rowLockClause)"
                ).first(),
                case let owner = try row.string("owner"),
                AgentRunAccess.canSee(runOwnedBy: owner, principal)
            else { throw Self.notFound(id) }
            try AgentRunAccess.checkDecision(approving: decision == .approve, onRunOwnedBy: owner, by: principal, under: approvals)
            guard
                try row.string("state") == AgentRun.State.awaitingApproval.rawValue,
                let step = try await transaction.sql.raw(
                    "SELECT position, tool FROM agent_steps WHERE run_id = \(bind: id.description) AND state = 'awaiting_approval' ORDER BY position LIMIT 1"
                ).first()
            else {
                throw CairnError(.conflict, "Run \(id) is not waiting for an approval.")
            }
            let position = try step.int64("position")
            if let expected, Int64(expected) != position {
                throw CairnError(.conflict, "Run \(id) waits on step \(position), not step \(expected); read the run again before deciding.")
            }
            let action: String
            switch decision {
            case .approve:
                action = "run.approve"
                try await transaction.sql.raw(
                    """
                    UPDATE agent_steps SET state = 'approved', decided_by = \(bind: principal.auditActor), updated_at = \(bind: now)
                    WHERE run_id = \(bind: id.description) AND position = \(bind: position)
                    """
                ).run()
            case .reject(let reason):
                action = "run.reject"
                // Who rejected stays in Cairn (decided_by, the audit event); the model is told only why.
                let output = "A person rejected this call" + (reason.map { ": \($0)" } ?? ".")
                try await transaction.sql.raw(
                    """
                    UPDATE agent_steps SET state = 'rejected', decided_by = \(bind: principal.auditActor), output = \(bind: output), updated_at = \(bind: now)
                    WHERE run_id = \(bind: id.description) AND position = \(bind: position)
                    """
                ).run()
            }
            try await transaction.sql.raw(
                "UPDATE agent_runs SET state = 'running', updated_at = \(bind: now) WHERE id = \(bind: id.description)"
            ).run()
            try await Self.enqueue(id, key: "decision-\(position)", tenant: principal.tenantID, cap: tenantQueueCap, in: transaction)
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: action,
                    targetType: "agent_run",
                    targetID: id.description,
                    details: ["step": String(position), "tool": try step.decode(column: "tool", as: String?.self) ?? ""]
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
        }
        return try await get(id, for: principal)
    }

    /// The tenant a run belongs to, for `cairn runs show|approve|reject ID` run by whoever holds
    /// the database (they act as that tenant's local administrator).
    public func tenant(ofRun id: AgentRunID) async throws -> Tenant {
        try await database.transaction(.platform) { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT t.id, t.name, t.created_at FROM agent_runs r JOIN tenants t ON t.id = r.tenant_id WHERE r.id = \(bind: id.description)"
                ).first()
            else { throw Self.notFound(id) }
            return try TenantRepository.tenant(row)
        }
    }

    /// Review proposals the principal may read, newest first, for those who act on them:
    /// `documents.approve` (curators and admins). A proposal's reason was written by a model
    /// that read what the run's starter may read, and may quote any of it, so a reader sees a
    /// proposal only if they may see its document and everything its starter could; the
    /// operator at the CLI sees all.
    public func proposals(for principal: Principal, limit: Int = 100, after cursor: String? = nil) async throws -> Page<DocumentReviewProposal> {
        guard principal.has(.approveDocuments) else {
            throw CairnError(.forbidden, "Reading review proposals needs the 'documents.approve' permission.")
        }
        try PageCursor.validate(limit: limit)
        let position = try NewestFirstPosition(cursor: cursor)
        let batchSize = 200
        // Access is decided per document and per starter in Swift (the policy's rules), so the
        // page is filled by reading on until `limit + 1` readable proposals are found.
        var visible: [DocumentReviewProposal] = []
        var resumeAt = position
        while visible.count <= limit {
            let after = resumeAt
            let (batch, readable) = try await database.transaction(.tenant(principal.tenantID)) { transaction in
                var query: SQLQueryString = "SELECT * FROM document_review_proposals WHERE tenant_id = \(bind: principal.tenantID.description)"
                if let after { query += after.filter }
                query += NewestFirstPosition.order
                query += " LIMIT \(bind: batchSize)"
                let batch = try await transaction.sql.raw(query).all().map(Self.proposal)
                guard principal.credential != .localAdministrator else { return (batch, batch) }
                var documents: [DocumentID: Document] = [:]
                for document in Set(batch.map(\.documentID)) {
                    documents[document] = try await DocumentRepository.fetchDocument(document, tenant: principal.tenantID, in: transaction)
                }
                var starters: [AgentRunID: Principal] = [:]
                for run in Set(batch.map(\.runID)) {
                    starters[run] = try await Self.starter(of: run, tenant: principal.tenantID, in: transaction)
                }
                return (
                    batch, batch.filter { AgentRunAccess.canRead(proposalAbout: documents[$0.documentID], startedBy: starters[$0.runID], principal) }
                )
            }
            visible += readable
            guard batch.count == batchSize, let last = batch.last else { break }
            resumeAt = NewestFirstPosition(createdAt: EpochMilliseconds.milliseconds(last.createdAt), id: last.id)
        }
        return Page(fetched: visible, limit: limit) { NewestFirstPosition.position(createdAt: $0.createdAt, id: $0.id) }
    }

    private static func proposal(_ row: any SQLRow) throws -> DocumentReviewProposal {
        DocumentReviewProposal(
            id: try row.string("id"),
            documentID: try row.entityID("document_id"),
            reason: try row.string("reason"),
            proposedBy: try row.string("proposed_by"),
            approvedBy: try row.string("approved_by"),
            runID: try row.entityID("run_id"),
            idempotencyKey: try row.string("idempotency_key"),
            createdAt: try row.date("created_at")
        )
    }

    // MARK: Worker side

    /// The run `id` of `tenant`, and the principal it acts as: its starter, as they were when
    /// it started.
    public func load(_ id: AgentRunID, tenant: TenantID) async throws -> (run: AgentRun, principal: Principal) {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard let run = try await Self.read(id, tenant: tenant, in: transaction),
                let principal = try await Self.starter(of: id, tenant: tenant, in: transaction)
            else { throw Self.notFound(id) }
            return (run, principal)
        }
    }

    /// A step to append.
    public struct NewStep: Sendable {
        public var kind: AgentStep.Kind
        public var state: AgentStep.State
        public var output: String?
        public var tool: String?
        public var callID: String?
        public var arguments: String?
        public var model: AnswerTrace.ModelCall?
        public var guardrails: [AnswerTrace.GuardrailDecision]

        public init(
            kind: AgentStep.Kind,
            state: AgentStep.State,
            output: String? = nil,
            tool: String? = nil,
            callID: String? = nil,
            arguments: String? = nil,
            model: AnswerTrace.ModelCall? = nil,
            guardrails: [AnswerTrace.GuardrailDecision] = []
        ) {
            self.kind = kind
            self.state = state
            self.output = output
            self.tool = tool
            self.callID = callID
            self.arguments = arguments
            self.model = model
            self.guardrails = guardrails
        }
    }

    /// Appends a model call and the tool calls it asked for, and charges it to the run, in one
    /// transaction: the calls exist exactly when the model turn that made them does. A
    /// side-effecting call's idempotency key is fixed here, before anyone can approve it. With
    /// `outcome` (a turn without tool calls: the final answer) the run completes in the same
    /// transaction.
    ///
    /// Returns `false`, writing nothing, when the run has moved on since the turn's
    /// conversation was read (it is no longer running, or has steps after `lastPosition`):
    /// another job got there first.
    public func recordModelTurn(
        _ turn: [NewStep],
        cost: USD,
        activeMilliseconds: Int64,
        completing outcome: String?,
        after lastPosition: Int,
        of id: AgentRunID,
        tenant: TenantID
    ) async throws -> Bool {
        let now = EpochMilliseconds.milliseconds(Date())
        return try await database.transaction(.tenant(tenant)) { transaction in
            guard
                try await transaction.sql.raw("SELECT state FROM agent_runs WHERE id = \(bind: id.description)\(transaction.rowLockClause)")
                    .first()?.string("state") == AgentRun.State.running.rawValue
            else { return false }
            let last =
                try await transaction.sql.raw("SELECT MAX(position) AS last FROM agent_steps WHERE run_id = \(bind: id.description)")
                .first().flatMap { try $0.optionalInt64("last") } ?? 0
            guard last == Int64(lastPosition) else { return false }
            for (offset, step) in turn.enumerated() {
                let position = last + 1 + Int64(offset)
                let key = step.state == .awaitingApproval ? "agent-run:\(id):step-\(position)" : nil
                try await transaction.sql.raw(
                    """
                    INSERT INTO agent_steps (run_id, tenant_id, position, kind, state, output, tool, call_id, arguments, idempotency_key, model, guardrails,
                                             created_at, updated_at)
                    VALUES (\(bind: id.description), \(bind: tenant.description), \(bind: position), \(bind: step.kind.rawValue), \(bind: step.state.rawValue),
                            \(bind: step.output), \(bind: step.tool), \(bind: step.callID), \(bind: step.arguments), \(bind: key),
                            \(bind: try step.model.map { try JSONText.json($0) }), \(bind: try JSONText.json(step.guardrails)), \(bind: now), \(bind: now))
                    """
                ).run()
            }
            try await transaction.sql.raw(
                """
                UPDATE agent_runs SET model_calls = model_calls + 1, cost_nanodollars = cost_nanodollars + \(bind: cost.nanodollars),
                                      active_ms = active_ms + \(bind: activeMilliseconds), updated_at = \(bind: now),
                                      state = \(bind: outcome == nil ? AgentRun.State.running.rawValue : AgentRun.State.completed.rawValue),
                                      outcome = \(bind: outcome)
                WHERE id = \(bind: id.description)
                """
            ).run()
            return true
        }
    }

    /// Settles a tool call not yet made (pending, or approved and not made) with its result.
    public func settle(
        step position: Int,
        of id: AgentRunID,
        tenant: TenantID,
        state: AgentStep.State,
        output: String,
        guardrails: [AnswerTrace.GuardrailDecision] = []
    ) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                """
                UPDATE agent_steps SET state = \(bind: state.rawValue), output = \(bind: output), guardrails = \(bind: try JSONText.json(guardrails)),
                                       updated_at = \(bind: EpochMilliseconds.milliseconds(Date()))
                WHERE run_id = \(bind: id.description) AND position = \(bind: position) AND state IN ('pending', 'approved')
                """
            ).run()
        }
    }

    /// Makes an approved `propose_document_review` call's effect and completes its step, in one
    /// transaction: after a crash either both happened or neither did. The proposal is keyed by
    /// the step's idempotency key, so even a second worker racing on the same step records it
    /// once. Audited as `document.review-propose`.
    public func recordProposal(
        documentID: DocumentID,
        reason: String,
        step position: Int,
        of id: AgentRunID,
        tenant: TenantID
    ) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard
                let step = try await transaction.sql.raw(
                    """
                    SELECT s.idempotency_key, s.decided_by, r.owner FROM agent_steps s JOIN agent_runs r ON r.id = s.run_id
                    WHERE s.run_id = \(bind: id.description) AND s.position = \(bind: position) AND s.state = 'approved'
                    """
                ).first()
            else { return }  // Made already, by this job before a crash or by another: once is enough.
            guard let key = try step.decode(column: "idempotency_key", as: String?.self) else {
                throw CairnError(.integrityViolation, "Step \(position) of run \(id) is approved but has no idempotency key.")
            }
            let approver = try step.decode(column: "decided_by", as: String?.self) ?? "unknown"
            let owner = try step.string("owner")
            let proposal = UUID().uuidString.lowercased()
            let inserted = try await transaction.sql.raw(
                """
                INSERT INTO document_review_proposals (id, tenant_id, document_id, reason, proposed_by, approved_by, run_id, idempotency_key, created_at)
                VALUES (\(bind: proposal), \(bind: tenant.description), \(bind: documentID.description), \(bind: reason), \(bind: owner), \(bind: approver),
                        \(bind: id.description), \(bind: key), \(bind: EpochMilliseconds.milliseconds(Date())))
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id
                """
            ).first()
            if inserted != nil {
                try await AuditLog.append(
                    AuditRecord(
                        actor: owner,
                        action: "document.review-propose",
                        targetType: "document",
                        targetID: documentID.description,
                        details: ["run": id.description, "step": String(position), "approved_by": approver]
                    ),
                    tenantID: tenant,
                    in: transaction
                )
            }
            try await transaction.sql.raw(
                """
                UPDATE agent_steps SET state = 'completed', output = \(bind: "Review of document \(documentID) proposed, under key \(key)."),
                                       updated_at = \(bind: EpochMilliseconds.milliseconds(Date()))
                WHERE run_id = \(bind: id.description) AND position = \(bind: position)
                """
            ).run()
        }
    }

    /// Moves a running run to `state` (with its outcome) and adds the time worked since the last
    /// charge. A run another job has already moved on is left as it is.
    public func transition(
        _ id: AgentRunID,
        tenant: TenantID,
        to state: AgentRun.State,
        outcome: String? = nil,
        activeMilliseconds: Int64
    ) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                """
                UPDATE agent_runs SET state = \(bind: state.rawValue), outcome = \(bind: outcome), active_ms = active_ms + \(bind: activeMilliseconds),
                                      updated_at = \(bind: EpochMilliseconds.milliseconds(Date()))
                WHERE id = \(bind: id.description) AND state = 'running'
                """
            ).run()
        }
    }

    /// Fails runs left `running` with no job to move them: their job went dead without its
    /// handler seeing an error (every attempt's worker was killed, so leases lapsed), or was
    /// removed. Only runs unchanged for `quietFor` are touched. Returns how many were failed.
    public func failOrphaned(quietFor: Duration = .seconds(600), now: Date = Date()) async throws -> Int {
        let cutoff = EpochMilliseconds.milliseconds(now) - quietFor.wholeMilliseconds
        let outcome = "The run stopped: its job ended without finishing it (its workers were lost on every attempt)."
        return try await database.transaction(.platform) { transaction in
            let moving = try await JobRepository.unfinishedPayloads(ofKind: Self.jobKind, in: transaction)
            let quiet = try await transaction.sql.raw(
                "SELECT id, tenant_id FROM agent_runs WHERE state = 'running' AND updated_at < \(bind: cutoff)"
            ).all()
            var failed = 0
            for row in quiet {
                let id: AgentRunID = try row.entityID("id")
                // A run's jobs carry its JobPayload, encoded as when they were enqueued.
                let payload = JobRepository.TenantPayload(tenant: try row.string("tenant_id"), payload: try JSONText.json(JobPayload(run: id)))
                guard !moving.contains(payload) else { continue }
                // Checked again here: a decision that committed since the read above moved the run on.
                failed += try await transaction.sql.raw(
                    """
                    UPDATE agent_runs SET state = 'failed', outcome = \(bind: outcome), updated_at = \(bind: EpochMilliseconds.milliseconds(now))
                    WHERE id = \(bind: id.description) AND state = 'running' AND updated_at < \(bind: cutoff)
                    RETURNING id
                    """
                ).all().count
            }
            return failed
        }
    }

    // MARK: Rows

    private static func enqueue(_ id: AgentRunID, key: String, tenant: TenantID, cap: Int?, in transaction: Transaction) async throws {
        _ = try await JobRepository.insert(
            [NewJob(kind: jobKind, payload: try JSONText.json(JobPayload(run: id)), idempotencyKey: "agent-run:\(id):\(key)")],
            tenant: tenant.description,
            cap: cap,
            now: Date(),
            in: transaction
        )
    }

    /// The principal run `id` acts as, as stored when it started.
    private static func starter(of id: AgentRunID, tenant: TenantID, in transaction: Transaction) async throws -> Principal? {
        guard let row = try await transaction.sql.raw("SELECT principal FROM agent_runs WHERE id = \(bind: id.description)").first() else {
            return nil
        }
        return try JSONDecoder().decode(PrincipalSnapshot.self, from: Data(try row.string("principal").utf8)).principal(tenant: tenant)
    }

    private static func read(_ id: AgentRunID, tenant: TenantID, in transaction: Transaction) async throws -> AgentRun? {
        guard
            let row = try await transaction.sql.raw(
                "SELECT * FROM agent_runs WHERE id = \(bind: id.description) AND tenant_id = \(bind: tenant.description)"
            ).first()
        else { return nil }
        let steps = try await transaction.sql.raw("SELECT * FROM agent_steps WHERE run_id = \(bind: id.description) ORDER BY position").all().map(
            step
        )
        return try run(row, steps: steps)
    }

    private static func run(_ row: any SQLRow, steps: [AgentStep]) throws -> AgentRun {
        let decoder = JSONDecoder()
        let tools = try decoder.decode([String].self, from: Data(try row.string("tools").utf8)).compactMap(AgentTool.init(rawValue:))
        return AgentRun(
            id: try row.entityID("id"),
            tenantID: try row.entityID("tenant_id"),
            owner: try row.string("owner"),
            goal: try row.string("goal"),
            tools: tools,
            state: AgentRun.State(rawValue: try row.string("state")) ?? .failed,
            outcome: try row.decode(column: "outcome", as: String?.self),
            limits: try decoder.decode(AgentLimits.self, from: Data(try row.string("limits").utf8)),
            usage: AgentRun.Usage(
                modelCalls: Int(try row.int64("model_calls")),
                activeMilliseconds: try row.int64("active_ms"),
                cost: USD(nanodollars: try row.int64("cost_nanodollars"))
            ),
            createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at")),
            updatedAt: EpochMilliseconds.date(milliseconds: try row.int64("updated_at")),
            steps: steps
        )
    }

    private static func step(_ row: any SQLRow) throws -> AgentStep {
        let decoder = JSONDecoder()
        return AgentStep(
            position: Int(try row.int64("position")),
            kind: AgentStep.Kind(rawValue: try row.string("kind")) ?? .tool,
            state: AgentStep.State(rawValue: try row.string("state")) ?? .failed,
            output: try row.decode(column: "output", as: String?.self),
            tool: try row.decode(column: "tool", as: String?.self),
            callID: try row.decode(column: "call_id", as: String?.self),
            arguments: try row.decode(column: "arguments", as: String?.self),
            idempotencyKey: try row.decode(column: "idempotency_key", as: String?.self),
            decidedBy: try row.decode(column: "decided_by", as: String?.self),
            model: try row.decode(column: "model", as: String?.self).map { try decoder.decode(AnswerTrace.ModelCall.self, from: Data($0.utf8)) },
            guardrails: try decoder.decode([AnswerTrace.GuardrailDecision].self, from: Data(try row.string("guardrails").utf8)),
            createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at")),
            updatedAt: EpochMilliseconds.date(milliseconds: try row.int64("updated_at"))
        )
    }

    private static func notFound(_ id: AgentRunID) -> CairnError {
        CairnError(.notFound, "There is no run with id '\(id)'.")
    }
}

/// A proposal, made by an approved agent call, that a person review a document.
public struct DocumentReviewProposal: Sendable, Equatable {
    public let id: String
    public let documentID: DocumentID
    public let reason: String
    /// The run's starter.
    public let proposedBy: String
    /// Who approved the call.
    public let approvedBy: String
    public let runID: AgentRunID
    /// The approved step's key: one proposal per step, however often it runs.
    public let idempotencyKey: String
    public let createdAt: Date
}

/// The starter of a run as the run acts: who they were and what they could see when it
/// started, so a worker in another process can act with exactly that access.
private struct PrincipalSnapshot: Codable {
    let tenantName: String
    let subject: String
    let roles: [String]
    let groups: [String]
    let entities: [String]
    let branches: [String]
    let clearance: String
    /// `api_key:<id>`, `oidc:<issuer>` or `cli`.
    let credential: String

    init(_ principal: Principal) {
        tenantName = principal.tenantName.description
        subject = principal.subject
        roles = principal.roles.map(\.rawValue).sorted()
        groups = principal.groups
        entities = principal.attributes.entities
        branches = principal.attributes.branches
        clearance = principal.attributes.clearance.rawValue
        credential =
            switch principal.credential {
            case .apiKey(let id): "api_key:\(id)"
            case .oidc(let issuer): "oidc:\(issuer)"
            case .localAdministrator: "cli"
            }
    }

    func principal(tenant: TenantID) throws -> Principal {
        let credential: Credential
        if self.credential.hasPrefix("api_key:"), let id = APIKeyID(String(self.credential.dropFirst("api_key:".count))) {
            credential = .apiKey(id)
        } else if self.credential.hasPrefix("oidc:") {
            credential = .oidc(issuer: String(self.credential.dropFirst("oidc:".count)))
        } else if self.credential == "cli" {
            credential = .localAdministrator
        } else {
            throw CairnError(.integrityViolation, "A stored agent run names a credential Cairn does not know.")
        }
        return Principal(
            tenantID: tenant,
            tenantName: try TenantName(tenantName),
            subject: subject,
            roles: Set(roles.compactMap(Role.init(rawValue:))),
            groups: groups,
            attributes: AccessAttributes(entities: entities, branches: branches, clearance: Classification(rawValue: clearance) ?? .public),
            credential: credential
        )
    }
}
