import CairnCore
public import CairnStore
public import Foundation

/// Which claims carry the Principal's fields. Defaults follow the contract; banks'
/// IdPs rarely agree on names, so each can be configured.
public struct ClaimMapping: Sendable, Equatable {
    public var tenant = "tenant"
    public var subject = "sub"
    public var roles = "roles"
    public var groups = "groups"
    public var entity = "entity"
    public var branch = "branch"
    public var clearance = "clearance"

    public init() {}
}

/// How OIDC bearer tokens are checked.
public struct OIDCConfiguration: Sendable {
    public var issuer: String
    public var audience: String
    /// Tolerance applied to `exp` and `nbf` for clocks that disagree.
    public var clockSkew: TimeInterval
    public var claims: ClaimMapping

    public init(issuer: String, audience: String, clockSkew: TimeInterval = 60, claims: ClaimMapping = ClaimMapping()) {
        self.issuer = issuer
        self.audience = audience
        self.clockSkew = clockSkew
        self.claims = claims
    }
}

/// Turns a verified OIDC access token into a Principal.
public struct OIDCAuthenticator: Sendable {
    let verifier: JWSVerifier
    let configuration: OIDCConfiguration
    let store: CairnStore

    /// Trusts tokens signed by `keySet` that satisfy `configuration`; tenants are looked up in `store`.
    public init(keySet: JSONWebKeySet, configuration: OIDCConfiguration, store: CairnStore) {
        self.verifier = JWSVerifier(keySet: keySet)
        self.configuration = configuration
        self.store = store
    }

    func principal(for token: String, now: Date) async throws(CairnError) -> (Principal, expiresAt: Date) {
        let payload = try await verifier.verify(token)
        guard let claims = JSONValue.object(from: payload) else {
            throw JWSVerifier.rejected("its payload is not a JSON claim set")
        }
        let expiresAt = try validateRegisteredClaims(claims, now: now)
        let names = configuration.claims
        guard let subject = claims[names.subject]?.string, (try? TextRules.validate(subject, field: "subject", maximumLength: 200)) != nil else {
            throw JWSVerifier.rejected("its '\(names.subject)' claim is missing or not a plain name of at most 200 characters")
        }
        guard let tenantText = claims[names.tenant]?.string, let tenantName = try? TenantName(tenantText) else {
            throw JWSVerifier.rejected("its '\(names.tenant)' claim names no valid tenant")
        }
        let tenant: Tenant?
        do {
            tenant = try await store.tenants.find(name: tenantName)
        } catch {
            throw CairnError(.unavailable, "Credentials cannot be checked right now; try again shortly.", underlying: error)
        }
        guard let tenant else { throw JWSVerifier.rejected("its tenant '\(tenantName)' does not exist here") }
        // Roles Cairn does not know (other applications' roles in a shared token) are ignored;
        // a missing clearance means the lowest one. Both err towards less access.
        let roles = Set((claims[names.roles]?.strings ?? []).compactMap(Role.init(rawValue:)))
        let clearance = claims[names.clearance]?.string.flatMap(Classification.init(rawValue:)) ?? .public
        let groups = claims[names.groups]?.strings ?? []
        let entities = claims[names.entity]?.strings ?? []
        let branches = claims[names.branch]?.strings ?? []
        do {
            try TextRules.validate(groups, field: "groups")
            try TextRules.validate(entities, field: "entities")
            try TextRules.validate(branches, field: "branches")
        } catch {
            throw JWSVerifier.rejected("its group or attribute claims exceed Cairn's limits (\(error.message))")
        }
        let principal = Principal(
            tenantID: tenant.id,
            tenantName: tenant.name,
            subject: subject,
            roles: roles,
            groups: groups,
            attributes: AccessAttributes(entities: entities, branches: branches, clearance: clearance),
            credential: .oidc(issuer: configuration.issuer)
        )
        return (principal, expiresAt)
    }

    /// Checks `iss`, `aud`, `exp` (required) and `nbf`; returns the expiry.
    private func validateRegisteredClaims(_ claims: [String: JSONValue], now: Date) throws(CairnError) -> Date {
        guard claims["iss"]?.string == configuration.issuer else {
            throw JWSVerifier.rejected("it was issued by an issuer Cairn does not trust")
        }
        guard let audiences = claims["aud"]?.strings, audiences.contains(configuration.audience) else {
            throw JWSVerifier.rejected("it is not intended for this audience")
        }
        guard let exp = claims["exp"]?.number else {
            throw JWSVerifier.rejected("it has no expiry")
        }
        let expiresAt = Date(timeIntervalSince1970: exp)
        guard now.addingTimeInterval(-configuration.clockSkew) < expiresAt else {
            throw JWSVerifier.rejected("it has expired")
        }
        for name in ["nbf", "iat"] where claims[name] != nil && claims[name]?.number == nil {
            throw JWSVerifier.rejected("its '\(name)' claim is not a number of seconds")
        }
        if let nbf = claims["nbf"]?.number, now.addingTimeInterval(configuration.clockSkew) < Date(timeIntervalSince1970: nbf) {
            throw JWSVerifier.rejected("it is not valid yet")
        }
        if let iat = claims["iat"]?.number, now.addingTimeInterval(configuration.clockSkew) < Date(timeIntervalSince1970: iat) {
            throw JWSVerifier.rejected("it claims to be issued in the future")
        }
        return expiresAt.addingTimeInterval(configuration.clockSkew)
    }
}
