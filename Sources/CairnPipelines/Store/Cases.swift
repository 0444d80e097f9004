public import CairnCore
import CairnJobs
public import CairnStore
import Foundation
import SQLKit

/// The tenant's KYC cases and their documents. Every change of state is audited on the
/// tenant's hash chain; a case outside a principal's scope does not exist for them.
public struct Cases: Sendable {
    let database: any Database

    /// What a new case needs.
    public struct NewCase: Sendable {
        public var reference: String
        public var kind: KYCCase.Kind
        public var subject: [String: JSONValue]
        public var scope: CaseScope
        /// The pipeline to run; the kind's default (`kyc-individual`, `kyc-business`) if `nil`.
        public var pipeline: String?

        public init(
            reference: String,
            kind: KYCCase.Kind,
            subject: [String: JSONValue] = [:],
            scope: CaseScope = CaseScope(),
            pipeline: String? = nil
        ) {
            self.reference = reference
            self.kind = kind
            self.subject = subject
            self.scope = scope
            self.pipeline = pipeline
        }
    }

    /// Opens a case in state `open`; audited as `case.open`. The pipeline must exist, so that
    /// a case never waits on one that will not come.
    ///
    /// Throws `CairnError`: `invalidInput` for a bad reference or scope, `conflict` for a
    /// reference already taken, `notFound` for an unknown pipeline.
    public func open(_ new: NewCase, by principal: Principal) async throws -> KYCCase {
        try TextRules.validate([new.reference], field: "a case's reference", maximumCount: 1)
        for part in [new.scope.entity, new.scope.branch].compactMap({ $0 }) {
            try TextRules.validate([part], field: "a case's scope", maximumCount: 1)
        }
        guard new.scope.admits(principal) else {
            throw CairnError(.forbidden, "You may not open a case for an entity or branch outside your own.")
        }
        let pipeline = new.pipeline ?? new.kind.defaultPipeline
        let id = CaseID()
        let now = EpochMilliseconds.milliseconds(Date())
        let tenant = principal.tenantID.description
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard
                try await transaction.sql.raw(
                    "SELECT id FROM pipelines WHERE tenant_id = \(bind: tenant) AND name = \(bind: pipeline)"
                ).first() != nil
            else {
                throw CairnError(.notFound, "There is no pipeline named '\(pipeline.prefix(64))' to run the case through.")
            }
            guard
                try await transaction.sql.raw(
                    "SELECT id FROM kyc_cases WHERE tenant_id = \(bind: tenant) AND reference = \(bind: new.reference)"
                ).first() == nil
            else {
                throw CairnError(.conflict, "A case with the reference '\(new.reference)' exists.")
            }
            try await transaction.sql.raw(
                """
                INSERT INTO kyc_cases (id, tenant_id, reference, kind, subject, scope_entity, scope_branch, pipeline, state,
                                       created_by, created_at, updated_at)
                VALUES (\(bind: id.description), \(bind: tenant), \(bind: new.reference), \(bind: new.kind.rawValue),
                        \(bind: try JSONText.json(new.subject)), \(bind: new.scope.entity), \(bind: new.scope.branch), \(bind: pipeline),
                        'open', \(bind: principal.auditActor), \(bind: now), \(bind: now))
                """
            ).run()
            try await Self.audit("case.open", id, by: principal, details: ["reference": new.reference, "pipeline": pipeline], in: transaction)
        }
        return try await get(id, for: principal)
    }

    /// The case with its documents, if `principal`'s scope covers it.
    public func get(_ id: CaseID, for principal: Principal) async throws -> KYCCase {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await Self.read(id, for: principal, in: transaction)
        }
    }

    /// The extracted fields of the case's documents, by document and name, if `principal`'s
    /// scope covers the case.
    public func fields(of id: CaseID, for principal: Principal) async throws -> [CaseField] {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            _ = try await Self.read(id, for: principal, in: transaction)
            return try await transaction.sql.raw(
                "SELECT * FROM case_fields WHERE case_id = \(bind: id.description) ORDER BY case_document_id, name"
            ).all().map(CaseExtractions.field)
        }
    }

    /// Cases `principal`'s scope covers, newest first, without their documents.
    public func list(
        for principal: Principal,
        state: KYCCase.State? = nil,
        limit: Int = 100,
        after cursor: String? = nil
    ) async throws -> Page<KYCCase> {
        try PageCursor.validate(limit: limit)
        let position = try NewestFirstPosition(cursor: cursor)
        let rows = try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var query: SQLQueryString = "SELECT * FROM kyc_cases WHERE tenant_id = \(bind: principal.tenantID.description)"
            query += Self.scopeFilter(for: principal)
            if let state { query += " AND state = \(bind: state.rawValue)" }
            if let position { query += position.filter }
            query += NewestFirstPosition.order
            query += " LIMIT \(bind: limit + 1)"
            return try await transaction.sql.raw(query).all()
        }
        return Page(fetched: try rows.map { try Self.kycCase($0, documents: []) }, limit: limit) {
            NewestFirstPosition.position(createdAt: $0.createdAt, id: $0.id.description)
        }
    }

    /// Records a document already streamed into the blob store as part of the case, queued for
    /// extraction; audited as `case.document.add`. A decided case takes no more documents.
    public func addDocument(
        to id: CaseID,
        fileName: String,
        blob: StoredBlob,
        by principal: Principal
    ) async throws -> CaseDocument {
        let documentID = CaseDocumentID()
        let now = EpochMilliseconds.milliseconds(Date())
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let current = try await Self.read(id, for: principal, in: transaction, lock: true)
            guard !current.state.isDecided else {
                throw CairnError(.conflict, "The case is \(current.state.rawValue); a decided case takes no more documents.")
            }
            try await transaction.sql.raw(
                """
                INSERT INTO case_documents (id, case_id, tenant_id, file_name, blob_digest, byte_count, state, created_at)
                VALUES (\(bind: documentID.description), \(bind: id.description), \(bind: principal.tenantID.description),
                        \(bind: fileName), \(bind: blob.digest.hex), \(bind: blob.size), 'queued', \(bind: now))
                """
            ).run()
            try await Self.audit(
                "case.document.add",
                id,
                by: principal,
                details: ["document": documentID.description, "file": fileName, "sha256": blob.digest.hex],
                in: transaction
            )
            // Queued in the same transaction: a stored document always has its extraction coming.
            _ = try await JobRepository.insert(
                [
                    NewJob(
                        kind: ExtractCaseDocument.jobKind,
                        payload: ExtractCaseDocument.payload(documentID),
                        maxAttempts: ExtractCaseDocument.maxAttempts,
                        idempotencyKey: "case-document:\(documentID)"
                    )
                ],
                tenant: principal.tenantID.description,
                cap: nil,
                now: Date(),
                in: transaction
            )
            if current.state != .processing {
                try await Self.transition(id, to: .processing, tenant: principal.tenantID, actor: principal.auditActor, in: transaction)
            }
        }
        let updated = try await get(id, for: principal)
        return updated.documents.first { $0.id == documentID }!
    }

    /// Settles a case awaiting review; audited as `case.decide` with the reason. A case that
    /// is not awaiting review is a conflict: a decision is about a case whose fields are in.
    public func decide(_ id: CaseID, _ decision: KYCCase.Decision, reason: String, by principal: Principal) async throws -> KYCCase {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 2_000 else {
            throw CairnError(.invalidInput, "A decision needs a reason of 1 to 2,000 characters.")
        }
        let now = EpochMilliseconds.milliseconds(Date())
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let current = try await Self.read(id, for: principal, in: transaction, lock: true)
            guard current.isDecidable else {
                throw CairnError(
                    .conflict,
                    "The case is \(current.state.rawValue.replacingOccurrences(of: "_", with: " ")); only a case awaiting review can be decided."
                )
            }
            try await transaction.sql.raw(
                """
                UPDATE kyc_cases SET state = \(bind: decision.state.rawValue), decision = \(bind: decision.rawValue),
                       decision_reason = \(bind: reason), decided_by = \(bind: principal.auditActor), decided_at = \(bind: now),
                       updated_at = \(bind: now)
                WHERE id = \(bind: id.description)
                """
            ).run()
            try await Self.audit(
                "case.decide",
                id,
                by: principal,
                details: ["decision": decision.rawValue, "reason": String(reason.prefix(200))],
                in: transaction
            )
        }
        return try await get(id, for: principal)
    }

    /// Moves the case to `state` (by the pipeline, as `actor`); audited as `case.state`.
    package static func transition(
        _ id: CaseID,
        to state: KYCCase.State,
        tenant: TenantID,
        actor: String,
        in transaction: Transaction
    ) async throws {
        try await transaction.sql.raw(
            "UPDATE kyc_cases SET state = \(bind: state.rawValue), updated_at = \(bind: EpochMilliseconds.milliseconds(Date())) WHERE id = \(bind: id.description)"
        ).run()
        try await AuditLog.append(
            AuditRecord(actor: actor, action: "case.state", targetType: "case", targetID: id.description, details: ["state": state.rawValue]),
            tenantID: tenant,
            in: transaction
        )
    }

    /// The tenant a case belongs to, for the CLI, which acts as that tenant's administrator.
    public func tenant(ofCase id: CaseID) async throws -> Tenant {
        try await database.transaction(.platform) { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT t.id, t.name, t.created_at FROM kyc_cases c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = \(bind: id.description)"
                ).first()
            else { throw CairnError(.notFound, "There is no case with id '\(id)'.") }
            return try TenantRepository.tenant(row)
        }
    }

    // MARK: Reading

    /// Rows outside the principal's scope are filtered in SQL, as `CaseScope.admits` decides.
    static func scopeFilter(for principal: Principal) -> SQLQueryString {
        guard principal.credential != .localAdministrator else { return "" }
        var filter: SQLQueryString = ""
        let entities = principal.attributes.entities
        let branches = principal.attributes.branches
        filter += entities.isEmpty ? " AND scope_entity IS NULL" : " AND (scope_entity IS NULL OR scope_entity IN (\(binds: entities)))"
        filter += branches.isEmpty ? " AND scope_branch IS NULL" : " AND (scope_branch IS NULL OR scope_branch IN (\(binds: branches)))"
        return filter
    }

    static func read(_ id: CaseID, for principal: Principal, in transaction: Transaction, lock: Bool = false) async throws -> KYCCase {
        var query: SQLQueryString =
            "SELECT * FROM kyc_cases WHERE id = \(bind: id.description) AND tenant_id = \(bind: principal.tenantID.description)"
        query += scopeFilter(for: principal)
        if lock { query += transaction.rowLockClause }
        guard let row = try await transaction.sql.raw(query).first() else {
            throw CairnError(.notFound, "There is no case with id '\(id)'.")
        }
        let documents = try await transaction.sql.raw(
            "SELECT * FROM case_documents WHERE case_id = \(bind: id.description) ORDER BY created_at, id"
        ).all().map(document)
        return try kycCase(row, documents: documents)
    }

    static func kycCase(_ row: any SQLRow, documents: [CaseDocument]) throws -> KYCCase {
        let subject = JSONValue.object(from: Data(try row.string("subject").utf8)) ?? [:]
        let decision: KYCCase.DecisionRecord? = try row.decode(column: "decision", as: String?.self).flatMap(KYCCase.Decision.init(rawValue:)).map {
            KYCCase.DecisionRecord(
                decision: $0,
                reason: try row.decode(column: "decision_reason", as: String?.self) ?? "",
                decidedBy: try row.decode(column: "decided_by", as: String?.self) ?? "",
                decidedAt: EpochMilliseconds.date(milliseconds: try row.optionalInt64("decided_at") ?? 0)
            )
        }
        return KYCCase(
            id: try row.entityID("id"),
            tenantID: try row.entityID("tenant_id"),
            reference: try row.string("reference"),
            kind: KYCCase.Kind(rawValue: try row.string("kind")) ?? .kycIndividual,
            subject: subject,
            scope: CaseScope(
                entity: try row.decode(column: "scope_entity", as: String?.self),
                branch: try row.decode(column: "scope_branch", as: String?.self)
            ),
            pipeline: try row.string("pipeline"),
            state: KYCCase.State(rawValue: try row.string("state")) ?? .open,
            createdBy: try row.string("created_by"),
            createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at")),
            updatedAt: EpochMilliseconds.date(milliseconds: try row.int64("updated_at")),
            decision: decision,
            documents: documents
        )
    }

    static func document(_ row: any SQLRow) throws -> CaseDocument {
        CaseDocument(
            id: try row.entityID("id"),
            caseID: try row.entityID("case_id"),
            fileName: try row.string("file_name"),
            blobDigest: try row.string("blob_digest"),
            byteCount: Int(try row.int64("byte_count")),
            state: CaseDocument.State(rawValue: try row.string("state")) ?? .queued,
            documentType: try row.decode(column: "document_type", as: String?.self),
            pipelineVersion: try row.optionalInt64("pipeline_version").map(Int.init),
            failure: try row.decode(column: "failure", as: String?.self),
            createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at"))
        )
    }

    static func audit(_ action: String, _ id: CaseID, by principal: Principal, details: [String: String], in transaction: Transaction) async throws {
        try await AuditLog.append(
            AuditRecord(actor: principal.auditActor, action: action, targetType: "case", targetID: id.description, details: details),
            tenantID: principal.tenantID,
            in: transaction
        )
    }
}
