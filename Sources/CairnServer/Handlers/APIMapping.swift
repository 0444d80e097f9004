import CairnAPI
import CairnAssistant
import CairnCore
import CairnDocuments
import CairnGateway
import CairnJobs
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
        case .caseWorker: self = .caseWorker
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
        case .caseWorker: .caseWorker
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
        DocumentAccessPolicy(
            classification: classification?.domain ?? .internal,
            entities: entities ?? [],
            branches: branches ?? [],
            groups: groups ?? []
        )
    }
}

extension Components.Schemas.Collection {
    init(_ collection: DocumentCollection) {
        self.init(
            id: collection.id.description,
            name: collection.name,
            description: collection.description,
            defaultPolicy: .init(collection.defaultPolicy),
            createdAt: collection.createdAt,
            createdBy: collection.createdBy
        )
    }
}

extension Components.Schemas.Document {
    init(_ document: Document) {
        self.init(
            id: document.id.description,
            collectionId: document.collectionID.description,
            title: document.title,
            source: document.source,
            tags: document.tags,
            policy: .init(document.policy),
            state: document.state == .active ? .active : .retired,
            activeVersionId: document.activeVersionID?.description,
            createdAt: document.createdAt,
            createdBy: document.createdBy,
            updatedAt: document.updatedAt
        )
    }
}

extension Components.Schemas.DocumentVersion {
    init(_ version: DocumentVersion) {
        self.init(
            id: version.id.description,
            number: version.number,
            sha256: version.digest,
            bytes: version.byteSize,
            fileName: version.fileName,
            mediaType: version.mediaType,
            format: FormatPayload(rawValue: version.format) ?? .text,
            processing: ProcessingPayload(rawValue: version.processing.rawValue) ?? .failed,
            lifecycle: LifecyclePayload(rawValue: version.lifecycle.rawValue) ?? .draft,
            jobId: version.jobID?.description,
            failure: version.failure,
            pages: version.pageCount,
            chunks: version.chunkCount,
            embeddingModel: version.embeddingModel,
            createdAt: version.createdAt,
            createdBy: version.createdBy,
            readyAt: version.readyAt,
            approvedAt: version.approvedAt,
            approvedBy: version.approvedBy,
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
                chunkId: hit.chunkID.description,
                documentId: hit.documentID.description,
                versionId: hit.versionID.description,
                version: hit.versionNumber,
                title: hit.title,
                pages: .init(first: hit.firstPage, last: hit.lastPage),
                headingPath: hit.headingPath,
                text: hit.text,
                spans: spans,
                score: hit.score,
                retrievers: hit.retrievers.map { $0 == .lexical ? .lexical : .vector }
            )
        }
        self.init(hits: hits, mode: ModePayload(rawValue: response.mode.rawValue) ?? .lexical, notice: response.notice)
    }
}

// MARK: Assistant

extension Components.Schemas.Answer {
    init(_ answer: Answer) throws {
        // The assistant records every answer before handing it out.
        guard let id = answer.id else { throw CairnError(.internalFailure, "An answer left the assistant without its trace.") }
        let kind: KindPayload =
            switch answer.kind {
            case .extractive: .extractive
            case .generative: .generative
            case .refusal: .refusal
            }
        self.init(
            id: id.description,
            kind: kind,
            text: answer.text,
            sentences: answer.sentences.map { .init(text: $0.text, citations: $0.citations) },
            citations: answer.citations.map(Components.Schemas.Citation.init),
            verdicts: answer.verdicts.map { verdict in
                let outcome: Components.Schemas.ClaimVerdict.OutcomePayload =
                    switch verdict.outcome {
                    case .supported: .supported
                    case .unsupported: .unsupported
                    case .uncited: .uncited
                    case .invalidCitation: .invalidCitation
                    }
                return .init(
                    claim: verdict.claim,
                    sources: verdict.sources,
                    support: verdict.support,
                    outcome: outcome,
                    judgement: verdict.judgement.flatMap { .init(rawValue: $0.rawValue) }
                )
            }
        )
    }
}

extension Components.Schemas.Citation {
    init(_ citation: Citation) {
        self.init(
            chunkId: citation.chunkID.description,
            documentId: citation.documentID.description,
            versionId: citation.versionID.description,
            version: citation.versionNumber,
            title: citation.title,
            page: citation.page,
            quote: citation.quote,
            span: .init(start: citation.span.lowerBound, end: citation.span.upperBound),
            support: citation.support
        )
    }
}

extension Components.Schemas.Session {
    init(_ session: AnswerSession) {
        self.init(
            id: session.id.description,
            createdAt: session.createdAt,
            turns: session.turns.map { turn in
                .init(
                    position: turn.position,
                    question: turn.question,
                    standaloneQuestion: turn.standaloneQuestion,
                    answerId: turn.answerID.description,
                    answerKind: .init(rawValue: turn.answerKind) ?? .refusal,
                    answerText: turn.answerText,
                    createdAt: turn.createdAt
                )
            }
        )
    }
}

extension Components.Schemas.AnswerTrace {
    init(_ trace: AnswerTrace) {
        self.init(
            id: trace.id.description,
            createdAt: trace.createdAt,
            question: trace.question,
            mode: ModePayload(rawValue: trace.mode) ?? .auto,
            kind: KindPayload(rawValue: trace.kind) ?? .refusal,
            access: .init(
                actor: trace.access.actor,
                roles: trace.access.roles,
                clearance: trace.access.clearance,
                entities: trace.access.entities,
                branches: trace.access.branches,
                groups: trace.access.groups
            ),
            passages: trace.passages.map {
                .init(chunkId: $0.chunkID, documentId: $0.documentID, versionId: $0.versionID, score: $0.score, used: $0.used)
            },
            model: trace.model.map(Components.Schemas.ModelCall.init),
            verdicts: trace.verdicts.map {
                .init(
                    claim: $0.claim,
                    sources: $0.sources,
                    support: $0.support,
                    outcome: .init(rawValue: $0.outcome) ?? .unsupported,
                    judgement: $0.judgement.flatMap { .init(rawValue: $0) }
                )
            },
            guardrails: trace.guardrails.map(Components.Schemas.GuardrailDecision.init)
        )
    }
}

extension Components.Schemas.ModelCall {
    init(_ call: AnswerTrace.ModelCall) {
        self.init(
            model: call.model,
            deployment: call.deployment,
            promptSHA256: call.promptSHA256,
            inputTokens: call.inputTokens,
            outputTokens: call.outputTokens,
            costNanodollars: call.cost?.nanodollars
        )
    }
}

extension Components.Schemas.GuardrailDecision {
    init(_ decision: AnswerTrace.GuardrailDecision) {
        self.init(check: decision.check, subject: decision.subject, decision: decision.decision, detail: decision.detail)
    }
}

// MARK: Agent runs

extension Components.Schemas.ReviewProposal {
    init(_ proposal: DocumentReviewProposal) {
        self.init(
            id: proposal.id,
            documentId: proposal.documentID.description,
            reason: proposal.reason,
            proposedBy: proposal.proposedBy,
            approvedBy: proposal.approvedBy,
            runId: proposal.runID.description,
            idempotencyKey: proposal.idempotencyKey,
            createdAt: proposal.createdAt
        )
    }
}

extension Components.Schemas.Run {
    init(_ run: AgentRun) {
        self.init(
            id: run.id.description,
            owner: run.owner,
            goal: run.goal,
            tools: run.tools.compactMap { Components.Schemas.AgentTool(rawValue: $0.rawValue) },
            state: Components.Schemas.RunState(rawValue: run.state.rawValue) ?? .failed,
            outcome: run.outcome,
            limits: .init(
                modelCalls: run.limits.modelCalls,
                activeMilliseconds: run.limits.activeMilliseconds,
                costNanodollars: run.limits.cost.nanodollars
            ),
            usage: .init(
                modelCalls: run.usage.modelCalls,
                activeMilliseconds: run.usage.activeMilliseconds,
                costNanodollars: run.usage.cost.nanodollars
            ),
            createdAt: run.createdAt,
            updatedAt: run.updatedAt,
            steps: run.steps.map { step in
                .init(
                    position: step.position,
                    kind: .init(rawValue: step.kind.rawValue) ?? .tool,
                    state: .init(rawValue: step.state.rawValue) ?? .failed,
                    output: step.output,
                    tool: step.tool,
                    callId: step.callID,
                    arguments: step.arguments,
                    idempotencyKey: step.idempotencyKey,
                    decidedBy: step.decidedBy,
                    model: step.model.map(Components.Schemas.ModelCall.init),
                    guardrails: step.guardrails.map(Components.Schemas.GuardrailDecision.init),
                    createdAt: step.createdAt,
                    updatedAt: step.updatedAt
                )
            }
        )
    }
}

// MARK: Gateway

extension Components.Schemas.ProviderKind {
    init(_ kind: ProviderKind) {
        switch kind {
        case .openAI: self = .openai
        case .azureOpenAI: self = .azureOpenai
        case .anthropic: self = .anthropic
        case .bedrock: self = .bedrock
        case .mock: self = .mock
        }
    }

    var domain: ProviderKind {
        switch self {
        case .openai: .openAI
        case .azureOpenai: .azureOpenAI
        case .anthropic: .anthropic
        case .bedrock: .bedrock
        case .mock: .mock
        }
    }
}

extension Components.Schemas.GatewayCatalog {
    /// The catalog a tenant sees: `platform` with the tenant's entries laid over it by name.
    init(platform: GatewayCatalog, tenant entries: TenantGatewayEntries) {
        let tenant = GatewayCatalog(entries)
        let seen = platform.overlaid(with: tenant)
        let providers = seen.providers.values.map { provider in
            Components.Schemas.GatewayProvider(provider, source: tenant.providers[provider.name] == nil ? .platform : .tenant, platform: platform)
        }
        let deployments = seen.deployments.values.map { deployment in
            let source: Components.Schemas.CatalogSource = tenant.deployments[deployment.name] == nil ? .platform : .tenant
            return Components.Schemas.GatewayDeployment(deployment, source: source, platform: platform)
        }
        let aliases = seen.aliases.values.map { alias in
            Components.Schemas.GatewayAlias(alias, source: tenant.aliases[alias.name] == nil ? .platform : .tenant, platform: platform)
        }
        self.init(
            providers: providers.sorted { $0.name < $1.name },
            deployments: deployments.sorted { $0.name < $1.name },
            aliases: aliases.sorted { $0.name < $1.name }
        )
    }
}

extension Components.Schemas.GatewayProvider {
    /// The platform's credential references name its environment variables and files, which
    /// are no business of a tenant: only the tenant's own providers show theirs.
    init(_ provider: ModelProviderConfiguration, source: Components.Schemas.CatalogSource, platform: GatewayCatalog) {
        self.init(
            name: provider.name,
            kind: .init(provider.kind),
            baseURL: provider.baseURL,
            credential: source == .tenant ? provider.credential?.description : nil,
            apiVersion: provider.apiVersion,
            region: provider.region,
            source: source,
            overridesPlatform: source == .tenant && platform.providers[provider.name] != nil
        )
    }
}

extension Components.Schemas.GatewayDeployment {
    init(_ deployment: ModelDeployment, source: Components.Schemas.CatalogSource, platform: GatewayCatalog) {
        self.init(
            name: deployment.name,
            provider: deployment.provider,
            model: deployment.model,
            capability: deployment.capability == .embeddings ? .embeddings : .chat,
            inputUSDPerMillion: deployment.price.inputPerMillion.dollars,
            outputUSDPerMillion: deployment.price.outputPerMillion.dollars,
            timeouts: .init(
                connect: deployment.timeouts.connect.inSeconds,
                firstToken: deployment.timeouts.firstToken.inSeconds,
                total: deployment.timeouts.total.inSeconds
            ),
            maxConcurrency: deployment.maxConcurrency,
            defaultMaxOutputTokens: deployment.defaultMaxOutputTokens,
            weight: deployment.weight,
            dimension: deployment.dimension,
            source: source,
            overridesPlatform: source == .tenant && platform.deployments[deployment.name] != nil
        )
    }
}

extension Components.Schemas.GatewayAlias {
    init(_ alias: ModelAlias, source: Components.Schemas.CatalogSource, platform: GatewayCatalog) {
        self.init(
            name: alias.name,
            strategy: alias.strategy == .weighted ? .weighted : .ordered,
            deployments: alias.deployments,
            source: source,
            overridesPlatform: source == .tenant && platform.aliases[alias.name] != nil
        )
    }
}

extension Components.Schemas.GatewayCredential {
    init(_ credential: StoredCredential) {
        self.init(name: credential.name, createdAt: credential.createdAt, createdBy: credential.createdBy)
    }
}

extension Components.Schemas.ModelLimits {
    init(_ limits: ModelAccessLimits) {
        self.init(allowedModels: limits.allowedModels, requestsPerMinute: limits.requestsPerMinute, tokensPerMinute: limits.tokensPerMinute)
    }

    var domain: ModelAccessLimits {
        ModelAccessLimits(allowedModels: allowedModels, requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute)
    }
}

extension Components.Schemas.BudgetPeriod {
    init(_ period: BudgetPeriod) {
        switch period {
        case .day: self = .day
        case .month: self = .month
        case .total: self = .total
        }
    }
}

extension Components.Schemas.Budget {
    /// `windowStart` in milliseconds since 1970, as ``BudgetPeriod/windowStart(containing:)`` gives it.
    init(_ budget: GatewayBudget, window: GatewayBooks.WindowState, windowStart: Int64) {
        self.init(
            id: budget.id.description,
            scope: budget.apiKeyID == nil ? .tenant : .key,
            apiKeyId: budget.apiKeyID?.description,
            period: .init(budget.period),
            limitUSD: budget.limit.dollars,
            windowStart: budget.period == .total ? nil : Date(timeIntervalSince1970: Double(windowStart) / 1000),
            spentUSD: window.spent.dollars,
            allottedUSD: window.allotted.dollars
        )
    }
}

extension Components.Schemas.UsageGrouping {
    var domain: GatewayBooks.UsageGrouping {
        switch self {
        case .tenant: .tenant
        case .key: .key
        case .model: .model
        case .day: .day
        }
    }
}

extension Components.Schemas.UsageRow {
    init(_ row: GatewayBooks.UsageRow) {
        self.init(
            group: row.group,
            calls: Int64(row.calls),
            failedCalls: Int64(row.failedCalls),
            inputTokens: Int64(row.inputTokens),
            outputTokens: Int64(row.outputTokens),
            costUSD: row.cost.dollars
        )
    }
}
