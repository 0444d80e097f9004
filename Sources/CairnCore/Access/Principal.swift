/// How sensitive a document is, and how much a principal is cleared to see. Ordered.
public enum Classification: String, Sendable, CaseIterable, Comparable {
    case `public`
    case `internal`
    case confidential
    case restricted

    public static func < (lhs: Classification, rhs: Classification) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Attributes that document access policies are matched against.
public struct AccessAttributes: Sendable, Equatable {
    /// Legal entities the principal works for (e.g. `northbank-uk`).
    public var entities: [String]
    /// Branches the principal belongs to.
    public var branches: [String]
    /// The highest classification the principal may read.
    public var clearance: Classification

    public init(entities: [String] = [], branches: [String] = [], clearance: Classification = .public) {
        self.entities = entities
        self.branches = branches
        self.clearance = clearance
    }
}

/// How the caller proved who it is.
public enum Credential: Sendable, Equatable {
    /// A Cairn API key, by its id.
    case apiKey(APIKeyID)
    /// An OIDC bearer token from the configured issuer.
    case oidc(issuer: String)
    /// Someone with direct access to the database, running `cairn` admin commands on it.
    case localAdministrator
}

/// The authenticated caller inside a tenant. API keys and OIDC tokens both resolve to this.
public struct Principal: Sendable, Equatable {
    public let tenantID: TenantID
    public let tenantName: TenantName
    /// Stable subject: the token's `sub`, or the key's configured subject.
    public let subject: String
    public let roles: Set<Role>
    public let groups: [String]
    public let attributes: AccessAttributes
    public let credential: Credential

    public init(
        tenantID: TenantID,
        tenantName: TenantName,
        subject: String,
        roles: Set<Role>,
        groups: [String],
        attributes: AccessAttributes,
        credential: Credential
    ) {
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.subject = subject
        self.roles = roles
        self.groups = groups
        self.attributes = attributes
        self.credential = credential
    }

    /// The principal the CLI acts as: whoever can open the database already controls every
    /// tenant in it, so bootstrap commands act as that tenant's admin and are audited as `cli`.
    public static func localAdministrator(of tenant: Tenant) -> Principal {
        Principal(
            tenantID: tenant.id,
            tenantName: tenant.name,
            subject: "cli",
            roles: [.admin],
            groups: [],
            attributes: AccessAttributes(clearance: .restricted),
            credential: .localAdministrator
        )
    }

    /// Who this principal is in the audit trail: the subject qualified by how it authenticated
    /// (`api_key:ingest`, `oidc:alice@bank.example`, `cli`), so that an API key can never be
    /// recorded as an identity-provider user, or as the CLI, by choosing its subject.
    public var auditActor: String {
        switch credential {
        case .apiKey: "api_key:\(subject)"
        case .oidc: "oidc:\(subject)"
        case .localAdministrator: "cli"
        }
    }

    /// The credential kind as stored and listed: `api_key`, `oidc` or `cli`.
    public var credentialKind: String {
        switch credential {
        case .apiKey: "api_key"
        case .oidc: "oidc"
        case .localAdministrator: "cli"
        }
    }

    /// The union of the permissions of every role held.
    public var permissions: Set<Permission> {
        roles.reduce(into: []) { $0.formUnion($1.permissions) }
    }

    /// Whether any role held grants `permission`.
    public func has(_ permission: Permission) -> Bool {
        roles.contains { $0.permissions.contains(permission) }
    }

    /// Whether this principal may read every document `other` may: drafts if `other` may, a
    /// clearance at least as high, and every entity, branch and group `other` holds. A document
    /// policy asks only for a clearance and one value from each of its lists, so whatever admits
    /// `other` admits this principal too.
    public func readsEverything(readableBy other: Principal) -> Bool {
        (has(.readDraftDocuments) || !other.has(.readDraftDocuments))
            && attributes.clearance >= other.attributes.clearance
            && Set(other.attributes.entities).isSubset(of: attributes.entities)
            && Set(other.attributes.branches).isSubset(of: attributes.branches)
            && Set(other.groups).isSubset(of: groups)
    }
}

/// Whoever is calling: a principal of some tenant, or the platform operator.
///
/// The operator is deliberately not a `Principal`: it belongs to no tenant, can create
/// tenants and nothing else, and so can never read a tenant's data by accident.
public enum Caller: Sendable, Equatable {
    case principal(Principal)
    case platformOperator
}

/// What a route requires of its caller.
public enum AccessRequirement: Sendable, Equatable {
    /// A tenant principal holding this permission.
    case permission(Permission)
    /// The platform operator credential.
    case platformOperator

    /// Decides whether `caller` may proceed; throws `forbidden` with a sentence saying why not.
    public func authorize(_ caller: Caller) throws(CairnError) {
        switch (self, caller) {
        case (.permission(let permission), .principal(let principal)):
            guard principal.has(permission) else {
                throw CairnError(.forbidden, "Your roles do not grant the '\(permission.rawValue)' permission this operation needs.")
            }
        case (.permission, .platformOperator):
            throw CairnError(.forbidden, "The operator credential can manage tenants only; use a tenant API key or token for this operation.")
        case (.platformOperator, .platformOperator):
            return
        case (.platformOperator, .principal):
            throw CairnError(.forbidden, "Only the platform operator credential may perform this operation.")
        }
    }
}
