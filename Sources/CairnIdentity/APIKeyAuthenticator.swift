import CairnCore
import CairnStore
import Foundation

/// Verifies Cairn API keys against the store.
struct APIKeyAuthenticator: Sendable {
    let store: CairnStore

    /// The principal for a presented key, or `unauthenticated` with the reason in a sentence.
    func principal(for secret: APIKeySecret, now: Date) async throws(CairnError) -> (Principal, expiresAt: Date?) {
        let found: (APIKey, Tenant)?
        do {
            found = try await store.apiKeys.authenticate(secret)
        } catch {
            throw CairnError(.unavailable, "Credentials cannot be checked right now; try again shortly.", underlying: error)
        }
        guard let (key, tenant) = found else {
            throw CairnError(.unauthenticated, "The API key is not valid.")
        }
        if key.revokedAt != nil {
            throw CairnError(.unauthenticated, "The API key has been revoked.")
        }
        if let expiresAt = key.expiresAt, expiresAt <= now {
            throw CairnError(.unauthenticated, "The API key has expired.")
        }
        let principal = Principal(
            tenantID: tenant.id,
            tenantName: tenant.name,
            subject: key.grant.subject,
            roles: key.grant.roles,
            groups: key.grant.groups,
            attributes: key.grant.attributes,
            credential: .apiKey(key.id)
        )
        return (principal, key.expiresAt)
    }
}
