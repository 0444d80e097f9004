import CairnCore

/// What each API operation requires of its caller — the one place routes declare permissions.
///
/// Keyed by the spec's `operationId`. An operation missing from this table is refused for
/// everyone (fail closed), and a test checks that every operation in `openapi.yaml` is listed.
enum RoutePolicy {
    /// Who may call an operation.
    enum Access: Equatable {
        /// Anyone, without credentials (health probes).
        case `public`
        /// A caller meeting the requirement.
        case requires(AccessRequirement)
    }

    static let access: [String: Access] = [
        "getHealth": .public,
        "getReadiness": .public,
        "listTenants": .requires(.platformOperator),
        "createTenant": .requires(.platformOperator),
        "getTenant": .requires(.platformOperator),
        "getMe": .requires(.permission(.readSelf)),
        "listAPIKeys": .requires(.permission(.manageKeys)),
        "createAPIKey": .requires(.permission(.manageKeys)),
        "getAPIKey": .requires(.permission(.manageKeys)),
        "updateAPIKey": .requires(.permission(.manageKeys)),
        "revokeAPIKey": .requires(.permission(.manageKeys)),
        "listPrincipals": .requires(.permission(.readPrincipals)),
        "listAuditEvents": .requires(.permission(.readAudit)),
        "listJobs": .requires(.permission(.readJobs)),
        "createJob": .requires(.permission(.manageJobs)),
        "getJob": .requires(.permission(.readJobs)),
        "streamJobEvents": .requires(.permission(.readJobs)),
        "cancelJob": .requires(.permission(.manageJobs)),
        "retryJob": .requires(.permission(.manageJobs)),
        "listReviewTasks": .requires(.permission(.workReviews)),
        "getReviewTask": .requires(.permission(.workReviews)),
        "decideReviewTask": .requires(.permission(.workReviews)),
        "listCases": .requires(.permission(.readCases)),
        "createCase": .requires(.permission(.writeCases)),
        "getCase": .requires(.permission(.readCases)),
        "addCaseDocuments": .requires(.permission(.writeCases)),
        "decideCase": .requires(.permission(.decideCases)),
        "listPipelines": .requires(.permission(.readCases)),
        "createPipeline": .requires(.permission(.managePipelines)),
        "listPipelineVersions": .requires(.permission(.readCases)),
        "createPipelineVersion": .requires(.permission(.managePipelines)),
        "promotePipelineVersion": .requires(.permission(.managePipelines)),
        "listCollections": .requires(.permission(.readDocuments)),
        "createCollection": .requires(.permission(.writeDocuments)),
        "listDocuments": .requires(.permission(.readDocuments)),
        "uploadDocument": .requires(.permission(.writeDocuments)),
        "getDocument": .requires(.permission(.readDocuments)),
        "deleteDocument": .requires(.permission(.approveDocuments)),
        "uploadDocumentVersion": .requires(.permission(.writeDocuments)),
        "getDocumentPage": .requires(.permission(.readDocuments)),
        "approveDocument": .requires(.permission(.approveDocuments)),
        "retireDocument": .requires(.permission(.approveDocuments)),
        "searchDocuments": .requires(.permission(.readDocuments)),
        "createAnswer": .requires(.permission(.askQuestions)),
        "getAnswerTrace": .requires(.permission(.readAnswerTraces)),
        "createSession": .requires(.permission(.askQuestions)),
        "getSession": .requires(.permission(.askQuestions)),
        "postSessionMessage": .requires(.permission(.askQuestions)),
        // Whose run it is (the starter's, or anyone's with runs.manage) is the repository's check.
        "createRun": .requires(.permission(.runAgents)),
        "listRuns": .requires(.permission(.runAgents)),
        "getRun": .requires(.permission(.runAgents)),
        "approveRun": .requires(.permission(.runAgents)),
        "rejectRun": .requires(.permission(.runAgents)),
        "listReviewProposals": .requires(.permission(.approveDocuments)),
        "getGatewayCatalog": .requires(.permission(.manageGateway)),
        "putGatewayProvider": .requires(.permission(.manageGateway)),
        "deleteGatewayProvider": .requires(.permission(.manageGateway)),
        "putGatewayDeployment": .requires(.permission(.manageGateway)),
        "deleteGatewayDeployment": .requires(.permission(.manageGateway)),
        "putGatewayAlias": .requires(.permission(.manageGateway)),
        "deleteGatewayAlias": .requires(.permission(.manageGateway)),
        "listGatewayCredentials": .requires(.permission(.manageGateway)),
        "getGatewayPrivacy": .requires(.permission(.manageGateway)),
        "putGatewayPrivacy": .requires(.permission(.manageGateway)),
        "putGatewayCredential": .requires(.permission(.manageGateway)),
        "deleteGatewayCredential": .requires(.permission(.manageGateway)),
        "listGatewayBudgets": .requires(.permission(.manageGateway)),
        "getModelLimits": .requires(.permission(.manageKeys)),
        "putModelLimits": .requires(.permission(.manageKeys)),
        "putKeyBudget": .requires(.permission(.manageGateway)),
        "deleteKeyBudget": .requires(.permission(.manageGateway)),
        // A tenant's own budget caps what all its callers spend; its admins must not raise it.
        "putTenantBudget": .requires(.platformOperator),
        "deleteTenantBudget": .requires(.platformOperator),
        "getUsage": .requires(.permission(.manageGateway)),
        "getPlatformUsage": .requires(.platformOperator),
    ]
}
