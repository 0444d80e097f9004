public import CairnCore
public import CairnStore
public import Foundation
public import Logging

/// Resolves an `Authorization` header to a `Caller`: the platform operator, or a Principal
/// from an API key or an OIDC token.
///
/// Resolved identities are cached by token hash (see `IdentityCache`), so the hot path costs a
/// SHA-256 and a dictionary look-up.
public final class Authenticator: Sendable {
    private let apiKeys: APIKeyAuthenticator
    private let oidc: OIDCAuthenticator?
    private let operatorTokenHash: String?
    private let cache: IdentityCache
    private let store: CairnStore
    private let logger: Logger

    /// - Parameters:
    ///   - operatorToken: the platform operator's bearer token; `nil` disables operator routes.
    ///   - cacheLifetime: how long a resolved identity is reused, and so the bound on how long a
    ///     revocation made on another node takes to apply.
    public init(store: CairnStore, oidc: OIDCAuthenticator?, operatorToken: String?, cacheLifetime: Duration, logger: Logger) {
        self.apiKeys = APIKeyAuthenticator(store: store)
        self.oidc = oidc
        self.operatorTokenHash = operatorToken.map(APIKeySecret.hash)
        self.cache = IdentityCache(lifetime: cacheLifetime)
        self.store = store
        self.logger = logger
    }

    /// The caller an `Authorization` header value stands for; `unauthenticated` with a sentence
    /// saying why when there is none, or it is malformed, unknown, expired or revoked.
    public func caller(authorization: String?, now: Date = Date()) async throws(CairnError) -> Caller {
        guard let authorization, !authorization.isEmpty else {
            throw CairnError(.unauthenticated, "This operation needs credentials: send 'Authorization: Bearer <token>'.")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw CairnError(.unauthenticated, "The Authorization header must use the Bearer scheme.")
        }
        let token = String(parts[1])
        let tokenHash = APIKeySecret.hash(token)
        if let operatorTokenHash, Self.constantTimeEqual(tokenHash, operatorTokenHash) {
            return .platformOperator
        }
        if let cached = cache.principal(forTokenHash: tokenHash, now: now) {
            return .principal(cached)
        }
        let (principal, expiresAt) = try await resolve(token, now: now)
        cache.insert(principal, forTokenHash: tokenHash, credentialExpiry: expiresAt, now: now)
        do {
            try await store.principals.recordSeen(principal)
        } catch {
            // Losing a last-seen timestamp must not fail the caller's request.
            logger.warning("Could not record principal as seen", metadata: ["error": "\(String(reflecting: error))"])
        }
        return .principal(principal)
    }

    /// Forgets cached identities of a key this node just revoked, so revocation is immediate here.
    public func forget(apiKey id: APIKeyID) {
        cache.evict(apiKey: id)
    }

    private func resolve(_ token: String, now: Date) async throws(CairnError) -> (Principal, Date?) {
        if let secret = APIKeySecret(token: token) {
            let (principal, expiresAt) = try await apiKeys.principal(for: secret, now: now)
            return (principal, expiresAt)
        }
        if token.hasPrefix(APIKeySecret.prefix) {
            throw CairnError(.unauthenticated, "The API key is malformed.")
        }
        guard let oidc else {
            throw CairnError(.unauthenticated, "The bearer token is not a Cairn API key, and OIDC is not configured.")
        }
        let (principal, expiresAt) = try await oidc.principal(for: token, now: now)
        return (principal, expiresAt)
    }

    private static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let (a, b) = (Array(lhs.utf8), Array(rhs.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
