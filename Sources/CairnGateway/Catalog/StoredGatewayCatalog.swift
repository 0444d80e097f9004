public import CairnCore
import CairnStore
import Synchronization

/// The catalog `cairn serve` routes with: the platform catalog (the file), with each tenant's
/// stored entries laid over it by name.
///
/// A tenant's catalog is read from the store and reused for ``lifetime``: a change made on
/// another node applies here within it, one made on this node at once (``catalogChanged(for:)``).
public final class StoredGatewayCatalog: GatewayCatalogSource {
    /// The platform's catalog, under every tenant's entries.
    public let platform: GatewayCatalog
    private let repository: GatewayCatalogRepository
    private let lifetime: Duration
    private let cache = Mutex<Cache>(Cache())

    private struct Cache {
        var catalogs: [TenantID: (catalog: GatewayCatalog, loaded: ContinuousClock.Instant)] = [:]
        /// Bumped by every change: a read that began before a change must not cache what it read.
        var generations: [TenantID: UInt64] = [:]
    }

    public init(platform: GatewayCatalog, repository: GatewayCatalogRepository, lifetime: Duration = .seconds(5)) {
        self.platform = platform
        self.repository = repository
        self.lifetime = lifetime
    }

    public func catalog(for tenant: TenantID) async throws -> GatewayCatalog {
        let now = ContinuousClock.now
        let (cached, generation) = cache.withLock { cache in
            (cache.catalogs[tenant].flatMap { now - $0.loaded < lifetime ? $0.catalog : nil }, cache.generations[tenant, default: 0])
        }
        if let cached { return cached }
        let catalog = platform.overlaid(with: GatewayCatalog(try await repository.entries(of: tenant)))
        cache.withLock { cache in
            if cache.generations[tenant, default: 0] == generation { cache.catalogs[tenant] = (catalog, now) }
        }
        return catalog
    }

    public func catalogChanged(for tenant: TenantID) {
        cache.withLock { cache in
            cache.catalogs[tenant] = nil
            cache.generations[tenant, default: 0] &+= 1
        }
    }
}
