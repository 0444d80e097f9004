public import Foundation

/// What an API key is allowed to be: its subject, roles, groups and attributes.
public struct APIKeyGrant: Sendable, Equatable {
    public var subject: String
    public var roles: Set<Role>
    public var groups: [String]
    public var attributes: AccessAttributes

    /// A grant; attributes default to no entities or branches and `public` clearance.
    public init(subject: String, roles: Set<Role>, groups: [String] = [], attributes: AccessAttributes = AccessAttributes()) {
        self.subject = subject
        self.roles = roles
        self.groups = groups
        self.attributes = attributes
    }
}

/// An API key as stored and listed. The secret is never part of it.
public struct APIKey: Sendable, Equatable {
    public let id: APIKeyID
    public let tenantID: TenantID
    public var name: String
    public let grant: APIKeyGrant
    public let createdAt: Date
    public let createdBy: String
    public let expiresAt: Date?
    public let revokedAt: Date?

    public init(
        id: APIKeyID,
        tenantID: TenantID,
        name: String,
        grant: APIKeyGrant,
        createdAt: Date,
        createdBy: String,
        expiresAt: Date?,
        revokedAt: Date?
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.grant = grant
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Usable now: neither revoked nor past its expiry.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}
