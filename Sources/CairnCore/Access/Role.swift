/// The fixed set of roles a principal can hold. `docs/security.md` documents the table below.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case admin
    case curator
    case analyst
    case reviewer
    case caseWorker = "case_worker"
    case viewer
    case service

    /// What this role may do. The table is fixed in code on purpose: a bank's security review
    /// signs off one table, and no runtime configuration can widen it.
    public var permissions: Set<Permission> {
        switch self {
        case .admin:
            Set(Permission.allCases)
        case .curator:
            [
                .readSelf, .readDocuments, .readDraftDocuments, .writeDocuments, .approveDocuments, .askQuestions, .readAnswerTraces, .readJobs,
                .runAgents,
            ]
        case .analyst:
            [.readSelf, .readDocuments, .askQuestions, .invokeModels, .runAgents]
        case .reviewer:
            [.readSelf, .readDocuments, .readCases, .workReviews]
        case .caseWorker:
            [.readSelf, .readCases, .writeCases, .decideCases]
        case .viewer:
            [.readSelf, .readDocuments]
        case .service:
            [.readSelf, .readDocuments, .writeDocuments, .readCases, .writeCases, .invokeModels, .readJobs, .manageJobs, .runAgents]
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An action a route or service call requires. Every route declares exactly one.
public enum Permission: String, Sendable, CaseIterable {
    /// `GET /v1/me`.
    case readSelf = "self.read"
    /// Create, list, rename and revoke the tenant's API keys.
    case manageKeys = "keys.manage"
    /// List principals seen in the tenant.
    case readPrincipals = "principals.read"
    /// Read the tenant's audit trail.
    case readAudit = "audit.read"
    /// Search and read approved documents the principal is cleared for.
    case readDocuments = "documents.read"
    /// See and search draft document versions.
    case readDraftDocuments = "documents.read-drafts"
    /// Upload documents and new versions.
    case writeDocuments = "documents.write"
    /// Approve or retire document versions.
    case approveDocuments = "documents.approve"
    /// Ask the grounded assistant.
    case askQuestions = "answers.create"
    /// Read how an answer came about (its trace): curators and auditors.
    case readAnswerTraces = "answers.read-traces"
    /// Start agent runs, and read and decide the approvals of one's own.
    case runAgents = "runs.create"
    /// Read and decide every agent run in the tenant, whoever started it.
    case manageRuns = "runs.manage"
    /// Call models through the gateway directly.
    case invokeModels = "models.invoke"
    /// Read the cases (and their extracted fields) the principal's scope covers, and the
    /// tenant's pipelines.
    case readCases = "cases.read"
    /// Open cases and add their documents.
    case writeCases = "cases.write"
    /// Approve, reject or escalate a case.
    case decideCases = "cases.decide"
    /// Work review tasks: accept, correct or mark absent the fields sent to review.
    case workReviews = "reviews.work"
    /// Create pipeline versions and promote them.
    case managePipelines = "pipelines.manage"
    /// See background jobs.
    case readJobs = "jobs.read"
    /// Submit, cancel and retry background jobs.
    case manageJobs = "jobs.manage"
    /// Administer the model gateway for the tenant: its own catalog entries, stored provider
    /// credentials and API keys' budgets; read its usage.
    case manageGateway = "gateway.manage"
}
