import CairnAPI
import CairnCore
import CairnSearch
import CairnStore
import Foundation
import OpenAPIRuntime

// Domain → wire types. Kept in one file so the API's shape is visible at a glance.

extension Components.Schemas.Tenant {
    init(_ tenant: Tenant) {
        self.init(id: tenant.id.description, name: tenant.name.rawValue, createdAt: tenant.createdAt)
    }
}

extension Components.Schemas.ResolvedAttributes {
    init(_ attributes: AccessAttributes) {
        self.init(entities: attributes.entities, branches: attributes.branches, clearance: .init(attributes.clearance))
    }
}

extension Components.Schemas.Classification {
    init(_ classification: Classification) {
        switch classification {
        case .public: self = ._public
        case .internal: self = ._internal
        case .confidential: self = .confidential
        case .restricted: self = .restricted
        }
    }

    var domain: Classification {
        switch self {
        case ._public: .public
        case ._internal: .internal
        case .confidential: .confidential
        case .restricted: .restricted
        }
    }
}

extension Components.Schemas.Role {
    init(_ role: Role) {
        switch role {
        case .admin: self = .admin
        case .curator: self = .curator
        case .analyst: self = .analyst
        case .reviewer: self = .reviewer
        case .viewer: self = .viewer
        case .service: self = .service
        }
    }

    var domain: Role {
        switch self {
        case .admin: .admin
        case .curator: .curator
        case .analyst: .analyst
        case .reviewer: .reviewer
        case .viewer: .viewer
        case .service: .service
        }
    }
}

extension Components.Schemas.Principal {
    init(_ principal: Principal) {
        let credential: Components.Schemas.Credential =
            switch principal.credential {
            case .apiKey(let id): .init(kind: .apiKey, keyId: id.description)
            case .oidc(let issuer): .init(kind: .oidc, issuer: issuer)
            case .localAdministrator: .init(kind: .cli)
            }
        self.init(
            tenantId: principal.tenantID.description,
            tenant: principal.tenantName.rawValue,
            subject: principal.subject,
            roles: principal.roles.sorted().map(Components.Schemas.Role.init),
            groups: principal.groups,
            attributes: .init(principal.attributes),
            permissions: principal.permissions.map(\.rawValue).sorted(),
            credential: credential
        )
    }
}

extension Components.Schemas.APIKey {
    init(_ key: APIKey, now: Date = Date()) {
        let state: StatePayload = key.revokedAt != nil ? .revoked : (key.isActive(at: now) ? .active : .expired)
        self.init(
            id: key.id.description,
            name: key.name,
            subject: key.grant.subject,
            roles: key.grant.roles.sorted().map(Components.Schemas.Role.init),
            groups: key.grant.groups,
            attributes: .init(key.grant.attributes),
            state: state,
            createdAt: key.createdAt,
            createdBy: key.createdBy,
            expiresAt: key.expiresAt,
            revokedAt: key.revokedAt
        )
    }
}

extension Components.Schemas.SeenPrincipal {
    init(_ seen: PrincipalDirectory.SeenPrincipal) {
        self.init(
            subject: seen.subject,
            credential: CredentialPayload(rawValue: seen.credential) ?? .apiKey,
            roles: seen.roles.sorted().map(Components.Schemas.Role.init),
            groups: seen.groups,
            attributes: .init(seen.attributes),
            firstSeenAt: seen.firstSeenAt,
            lastSeenAt: seen.lastSeenAt
        )
    }
}

extension Components.Schemas.AuditEvent {
    init(_ event: AuditEvent) {
        self.init(
            sequence: event.sequence,
            occurredAt: event.occurredAt,
            actor: event.record.actor,
            action: event.record.action,
            targetType: event.record.targetType,
            targetId: event.record.targetID,
            details: .init(additionalProperties: event.record.details),
            previousHash: event.previousHash,
            hash: event.hash
        )
    }
}

extension Components.Schemas.JobState {
    init(_ state: JobState) {
        switch state {
        case .queued: self = .queued
        case .running: self = .running
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .dead: self = .dead
        case .cancelled: self = .cancelled
        }
    }

    var domain: JobState {
        switch self {
        case .queued: .queued
        case .running: .running
        case .succeeded: .succeeded
        case .failed: .failed
        case .dead: .dead
        case .cancelled: .cancelled
        }
    }
}

extension Components.Schemas.Job {
    /// Payload and result are stored as JSON text; they go out as JSON values. Stored text that
    /// does not parse is a server fault, not the client's.
    init(_ job: Job, steps: [JobStep] = []) throws {
        func json(_ text: String) throws -> OpenAPIRuntime.OpenAPIValueContainer {
            do {
                return try JSONDecoder().decode(OpenAPIRuntime.OpenAPIValueContainer.self, from: Data(text.utf8))
            } catch {
                throw CairnError(.integrityViolation, "Job \(job.id) holds JSON that does not parse.", underlying: error)
            }
        }
        self.init(
            id: job.id.description,
            kind: job.kind,
            state: .init(job.state),
            priority: job.priority,
            attempt: job.attempt,
            maxAttempts: job.maxAttempts,
            runAt: job.runAt,
            payload: try json(job.payload),
            result: try job.result.map(json),
            progress: .init(fraction: job.progress, message: job.progressMessage),
            errors: job.errors.map { .init(attempt: $0.attempt, at: $0.at, message: $0.message, retryable: $0.retryable) },
            cancelRequested: job.cancelRequested,
            steps: steps.isEmpty ? nil : steps.map(Components.Schemas.JobStep.init),
            createdAt: job.createdAt,
            updatedAt: job.updatedAt,
            finishedAt: job.finishedAt
        )
    }
}

extension Components.Schemas.JobStep {
    init(_ step: JobStep) {
        self.init(
            position: step.position,
            name: step.name,
            state: .init(rawValue: step.state.rawValue) ?? .pending,
            runs: step.runs,
            error: step.error,
            finishedAt: step.finishedAt,
            compensatedAt: step.compensatedAt
        )
    }
}

extension Components.Schemas.AccessPolicy {
    init(_ policy: DocumentAccessPolicy) {
        self.init(classification: .init(policy.classification), entities: policy.entities, branches: policy.branches, groups: policy.groups)
    }

    var domain: DocumentAccessPolicy {
        DocumentAccessPolicy(classification: classification?.domain ?? .internal, entities: entities ?? [], branches: branches ?? [], groups: groups ?? [])
    }
}

extension Components.Schemas.Collection {
    init(_ collection: DocumentCollection) {
        self.init(
            id: collection.id.description, name: collection.name, description: collection.description, defaultPolicy: .init(collection.defaultPolicy),
            createdAt: collection.createdAt, createdBy: collection.createdBy
        )
    }
}

extension Components.Schemas.Document {
    init(_ document: Document) {
        self.init(
            id: document.id.description, collectionId: document.collectionID.description, title: document.title, source: document.source,
            tags: document.tags, policy: .init(document.policy), state: document.state == .active ? .active : .retired,
            activeVersionId: document.activeVersionID?.description, createdAt: document.createdAt, createdBy: document.createdBy,
            updatedAt: document.updatedAt
        )
    }
}

extension Components.Schemas.DocumentVersion {
    init(_ version: DocumentVersion) {
        self.init(
            id: version.id.description, number: version.number, sha256: version.digest, bytes: version.byteSize, fileName: version.fileName,
            mediaType: version.mediaType, format: FormatPayload(rawValue: version.format) ?? .text,
            processing: ProcessingPayload(rawValue: version.processing.rawValue) ?? .failed,
            lifecycle: LifecyclePayload(rawValue: version.lifecycle.rawValue) ?? .draft, jobId: version.jobID?.description, failure: version.failure,
            pages: version.pageCount, chunks: version.chunkCount, embeddingModel: version.embeddingModel, createdAt: version.createdAt,
            createdBy: version.createdBy, readyAt: version.readyAt, approvedAt: version.approvedAt, approvedBy: version.approvedBy,
            retiredAt: version.retiredAt
        )
    }
}

extension Components.Schemas.UploadResult {
    init(_ outcome: DocumentRepository.UploadOutcome) throws {
        switch outcome {
        case .queued(let document, let version, let job):
            self.init(document: .init(document), version: .init(version), job: try .init(job))
        case .unchanged(let document, let version):
            self.init(document: .init(document), version: .init(version), job: nil)
        }
    }
}

extension Components.Schemas.SearchResponse {
    init(_ response: SearchService.Response) throws {
        let hits = try response.hits.map { hit in
            let spans = try JSONDecoder().decode([[String: Int]].self, from: Data(hit.spansJSON.utf8)).map { span in
                Components.Schemas.SearchHit.SpansPayloadPayload(page: span["page"] ?? 0, start: span["start"] ?? 0, end: span["end"] ?? 0)
            }
            return Components.Schemas.SearchHit(
                chunkId: hit.chunkID.description, documentId: hit.documentID.description, versionId: hit.versionID.description,
                version: hit.versionNumber, title: hit.title, pages: .init(first: hit.firstPage, last: hit.lastPage), headingPath: hit.headingPath,
                text: hit.text, spans: spans, score: hit.score,
                retrievers: hit.retrievers.map { $0 == .lexical ? .lexical : .vector }
            )
        }
        self.init(hits: hits, mode: ModePayload(rawValue: response.mode.rawValue) ?? .lexical, notice: response.notice)
    }
}
