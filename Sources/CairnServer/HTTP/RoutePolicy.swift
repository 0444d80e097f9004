import CairnCore

/// What each API operation requires of its caller — the one place routes declare permissions.
///
/// Keyed by the spec's `operationId`. An operation missing from this table is refused for
/// everyone (fail closed), and a test checks that every operation in `openapi.yaml` is listed.
enum RoutePolicy {
    /// `nil` marks a public operation (health probes).
    static let requirements: [String: AccessRequirement?] = [
        "getHealth": nil,
        "getReadiness": nil,
        "listTenants": .platformOperator,
        "createTenant": .platformOperator,
        "getTenant": .platformOperator,
        "getMe": .permission(.readSelf),
        "listAPIKeys": .permission(.manageKeys),
        "createAPIKey": .permission(.manageKeys),
        "getAPIKey": .permission(.manageKeys),
        "updateAPIKey": .permission(.manageKeys),
        "revokeAPIKey": .permission(.manageKeys),
        "listPrincipals": .permission(.readPrincipals),
        "listAuditEvents": .permission(.readAudit),
    ]
}
