import CairnAPI
import CairnCore
import CairnGateway
import CairnIdentity
import CairnJobs
import CairnSearch
import CairnStore
import Foundation
import Logging
import OpenAPIRuntime

/// The API's operations. Access has been checked by `AccessControlMiddleware` before any of
/// these run; they validate what the generator cannot (lengths, ranges) and call the store.
struct APIHandlers: APIProtocol {
    let store: CairnStore
    let jobs: JobQueue
    let documents: DocumentServices
    let gateway: ModelGateway
    let gatewayAdministration: GatewayAdministration
    let authenticator: Authenticator
    let logger: Logger

    // MARK: Health

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        var database = "ok"
        var migrations = "current"
        do {
            try await store.database.ping()
        } catch {
            logger.warning("Readiness: database unreachable", metadata: ["error": "\(String(reflecting: error))"])
            database = "unreachable"
        }
        do {
            let pending = try await store.migrator(logger: logger).pending()
            if !pending.isEmpty { migrations = "\(pending.count) pending; run 'cairn migrate'" }
        } catch {
            logger.warning("Readiness: migrations cannot be read", metadata: ["error": "\(String(reflecting: error))"])
            migrations = "unknown"
        }
        let ready = database == "ok" && migrations == "current"
        // A missing embedding model degrades search to BM25 but does not make Cairn unready.
        let search = documents.search.embeddingModel.map { "hybrid (\($0))" } ?? "lexical-only: no embedding model is loaded"
        let body = Components.Schemas.Readiness(status: ready ? .ready : .unavailable, database: database, migrations: migrations, search: search)
        return ready ? .ok(.init(body: .json(body))) : .serviceUnavailable(.init(body: .json(body)))
    }

    // MARK: Platform

    func listTenants(_ input: Operations.ListTenants.Input) async throws -> Operations.ListTenants.Output {
        let page = try await store.tenants.list(limit: input.query.limit ?? 100, after: input.query.cursor)
        return .ok(.init(body: .json(.init(tenants: page.items.map(Components.Schemas.Tenant.init), nextCursor: page.nextCursor))))
    }

    func createTenant(_ input: Operations.CreateTenant.Input) async throws -> Operations.CreateTenant.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let tenant = try await store.tenants.create(name: try TenantName(body.name), actor: "operator")
        return .created(.init(body: .json(.init(tenant))))
    }

    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        guard let id = TenantID(input.path.tenantId), let tenant = try await store.tenants.find(id: id) else {
            throw CairnError(.notFound, "There is no tenant with id '\(input.path.tenantId)'.")
        }
        return .ok(.init(body: .json(.init(tenant))))
    }

    // MARK: Identity

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        .ok(.init(body: .json(.init(try RequestCaller.principal()))))
    }

    func listAPIKeys(_ input: Operations.ListAPIKeys.Input) async throws -> Operations.ListAPIKeys.Output {
        let page = try await store.apiKeys.list(for: try RequestCaller.principal(), limit: input.query.limit ?? 100, after: input.query.cursor)
        return .ok(.init(body: .json(.init(keys: page.items.map { Components.Schemas.APIKey($0) }, nextCursor: page.nextCursor))))
    }

    func createAPIKey(_ input: Operations.CreateAPIKey.Input) async throws -> Operations.CreateAPIKey.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let principal = try RequestCaller.principal()
        let grant = APIKeyGrant(
            subject: body.subject ?? body.name,
            roles: Set(body.roles.map(\.domain)),
            groups: body.groups ?? [],
            attributes: AccessAttributes(
                entities: body.attributes?.entities ?? [],
                branches: body.attributes?.branches ?? [],
                clearance: body.attributes?.clearance?.domain ?? .public
            )
        )
        let created = try await store.apiKeys.create(by: principal, name: body.name, grant: grant, expiresAt: body.expiresAt)
        return .created(.init(body: .json(.init(key: .init(created.key), secret: created.secret.token))))
    }

    func getAPIKey(_ input: Operations.GetAPIKey.Input) async throws -> Operations.GetAPIKey.Output {
        let key = try await store.apiKeys.get(try Self.keyID(input.path.keyId), for: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(key))))
    }

    func updateAPIKey(_ input: Operations.UpdateAPIKey.Input) async throws -> Operations.UpdateAPIKey.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let key = try await store.apiKeys.rename(try Self.keyID(input.path.keyId), to: body.name, by: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(key))))
    }

    func revokeAPIKey(_ input: Operations.RevokeAPIKey.Input) async throws -> Operations.RevokeAPIKey.Output {
        let id = try Self.keyID(input.path.keyId)
        let principal = try RequestCaller.principal()
        // Revoking the key in use would lock its holder out mid-session with no undo; that
        // is done deliberately from another admin credential or the CLI.
        if principal.credential == .apiKey(id) {
            throw CairnError(.conflict, "A key cannot revoke itself; revoke it with another admin credential or 'cairn key revoke'.")
        }
        let key = try await store.apiKeys.revoke(id, by: principal)
        authenticator.forget(apiKey: id)
        return .ok(.init(body: .json(.init(key))))
    }

    func listPrincipals(_ input: Operations.ListPrincipals.Input) async throws -> Operations.ListPrincipals.Output {
        let page = try await store.principals.list(for: try RequestCaller.principal(), limit: input.query.limit ?? 100, after: input.query.cursor)
        return .ok(.init(body: .json(.init(principals: page.items.map(Components.Schemas.SeenPrincipal.init), nextCursor: page.nextCursor))))
    }

    // MARK: Audit

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let query = input.query
        let limit = query.limit ?? 50
        guard (1...500).contains(limit) else {
            throw CairnError(.invalidInput, "limit must be between 1 and 500.")
        }
        if let before = query.before, before < 1 {
            throw CairnError(.invalidInput, "before must be a positive event sequence number.")
        }
        if let actor = query.actor { try TextRules.validate(actor, field: "actor", maximumLength: 220) }
        if let action = query.action { try TextRules.validate(action, field: "action", maximumLength: 100) }
        let filter = AuditLog.Filter(actor: query.actor, action: query.action, since: query.since, until: query.until)
        let page = try await store.audit.page(for: try RequestCaller.principal(), filter: filter, before: query.before, limit: limit)
        return .ok(.init(body: .json(.init(events: page.events.map(Components.Schemas.AuditEvent.init), nextBefore: page.nextBefore))))
    }

    // MARK: Jobs

    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let query = input.query
        if let kind = query.kind { try TextRules.validate(kind, field: "kind", maximumLength: 100) }
        let page = try await store.jobs.list(
            for: try RequestCaller.principal(),
            state: query.state?.domain,
            kind: query.kind,
            limit: query.limit ?? 100,
            after: query.cursor
        )
        return .ok(.init(body: .json(.init(jobs: try page.items.map { try Components.Schemas.Job($0) }, nextCursor: page.nextCursor))))
    }

    func createJob(_ input: Operations.CreateJob.Input) async throws -> Operations.CreateJob.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let submission = NewJob(
            kind: body.kind,
            payload: String(decoding: try JSONEncoder().encode(body.payload), as: UTF8.self),
            priority: body.priority ?? 0,
            runAt: body.runAt,
            maxAttempts: body.maxAttempts,
            idempotencyKey: body.idempotencyKey
        )
        let (job, created) = try await jobs.submit(submission, by: try RequestCaller.principal())
        return created ? .created(.init(body: .json(try .init(job)))) : .ok(.init(body: .json(try .init(job))))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let (job, steps) = try await store.jobs.detail(try Self.jobID(input.path.jobId), for: try RequestCaller.principal())
        return .ok(.init(body: .json(try .init(job, steps: steps))))
    }

    func streamJobEvents(_ input: Operations.StreamJobEvents.Input) async throws -> Operations.StreamJobEvents.Output {
        let id = try Self.jobID(input.path.jobId)
        let principal = try RequestCaller.principal()
        // Read once before answering, so an unknown job is a 404, not an empty stream.
        _ = try await store.jobs.detail(id, for: principal)
        let events = JobEventStream(store: store, jobID: id, principal: principal)
        return .ok(.init(body: .textEventStream(HTTPBody(events, length: .unknown, iterationBehavior: .single))))
    }

    func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        let job = try await store.jobs.requestCancellation(try Self.jobID(input.path.jobId), by: try RequestCaller.principal())
        return .ok(.init(body: .json(try .init(job))))
    }

    func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        let job = try await store.jobs.replay(try Self.jobID(input.path.jobId), by: try RequestCaller.principal())
        return .ok(.init(body: .json(try .init(job))))
    }

    private static func jobID(_ text: String) throws(CairnError) -> JobID {
        guard let id = JobID(text) else { throw CairnError(.notFound, "There is no job with id '\(text.prefix(80))'.") }
        return id
    }

    /// Path ids are UUIDs; anything else names no key, and says so.
    static func keyID(_ text: String) throws(CairnError) -> APIKeyID {
        guard let id = APIKeyID(text) else { throw CairnError(.notFound, "There is no API key with id '\(text)'.") }
        return id
    }

    /// The generator models bodies as enums over content types; JSON is the only one declared.
    static let unsupportedBody = CairnError(.invalidInput, "The request body must be JSON.")
}
