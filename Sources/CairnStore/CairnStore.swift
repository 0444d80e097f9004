import CairnCore
public import Logging

/// Everything Cairn persists, behind one value: the database and the repositories over it.
public struct CairnStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Tenants (platform administration).
    public var tenants: TenantRepository { TenantRepository(database: database) }
    /// A tenant's API keys.
    public var apiKeys: APIKeyRepository { APIKeyRepository(database: database) }
    /// Principals seen per tenant.
    public var principals: PrincipalDirectory { PrincipalDirectory(database: database) }
    /// The durable job queue.
    public var jobs: JobRepository { JobRepository(database: database) }
    /// The keyed side effects of the queue probe jobs.
    public var queueProbes: QueueProbes { QueueProbes(database: database) }
    /// Responses kept for `Idempotency-Key` replays.
    public var idempotency: IdempotencyRecords { IdempotencyRecords(database: database) }
    /// The leases of recurring tasks.
    public var recurringSchedules: RecurringSchedules { RecurringSchedules(database: database) }
    /// Collections, documents, versions and their lifecycle.
    public var documents: DocumentRepository { DocumentRepository(database: database) }
    /// The change feed and content index replicas load from.
    public var indexFeed: IndexFeed { IndexFeed(database: database) }
    /// The per-tenant audit chains.
    public var audit: AuditLog { AuditLog(database: database) }
    /// The model gateway's ledger, budgets and key limits.
    public var gatewayBooks: GatewayBooks { GatewayBooks(database: database) }
    /// Tenants' own gateway catalog entries and their sealed provider credentials.
    public var gatewayCatalog: GatewayCatalogRepository { GatewayCatalogRepository(database: database) }
    /// How each of the assistant's answers came about.
    public var answerTraces: AnswerTraces { AnswerTraces(database: database) }
    /// The assistant's sessions, each its owner's alone.
    public var answerSessions: AnswerSessions { AnswerSessions(database: database) }
    /// Agent runs and their steps, and the review proposals runs make.
    public var agentRuns: AgentRuns { AgentRuns(database: database) }

    /// Applies and reports schema migrations.
    public func migrator(logger: Logger) -> Migrator { Migrator(database: database, logger: logger) }
}
