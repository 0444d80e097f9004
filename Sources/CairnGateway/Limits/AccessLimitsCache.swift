import CairnCore
import CairnStore
import Synchronization

/// API keys' model limits, read from the store and reused for a few seconds: a limit changed on
/// another node applies here within `lifetime`, as a revoked key does within the auth cache's.
final class AccessLimitsCache: Sendable {
    private let books: GatewayBooks
    private let lifetime: Duration
    private let entries = Mutex<[APIKeyID: (limits: ModelAccessLimits, loaded: ContinuousClock.Instant)]>([:])

    init(books: GatewayBooks, lifetime: Duration = .seconds(5)) {
        self.books = books
        self.lifetime = lifetime
    }

    func limits(of key: APIKeyID?, tenant: TenantID) async throws -> ModelAccessLimits {
        guard let key else { return .unlimited }
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[key] }), now - entry.loaded < lifetime { return entry.limits }
        let limits = try await books.limits(of: key, tenant: tenant)
        entries.withLock { $0[key] = (limits, now) }
        return limits
    }

    func forget(_ key: APIKeyID) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
