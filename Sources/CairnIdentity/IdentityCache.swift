import CairnCore
import Foundation
import Synchronization

/// Resolved identities, keyed by a hash of the presented token, so that checking a known
/// credential costs a hash and a dictionary look-up, not a query or a signature check.
///
/// Entries live for at most `lifetime` (and never past the credential's own expiry). That
/// lifetime is the documented bound on how long a revocation made on *another* node can take
/// to bite; the node that revokes evicts the key at once.
final class IdentityCache: Sendable {
    private struct Entry {
        let principal: Principal
        let validUntil: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: Duration
    /// Past this many entries the cache drops expired ones, then everything if still full:
    /// memory stays bounded whatever tokens arrive.
    private let capacity: Int

    init(lifetime: Duration, capacity: Int = 50_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func principal(forTokenHash hash: String, now: Date = Date()) -> Principal? {
        entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard now < entry.validUntil else {
                entries[hash] = nil
                return nil
            }
            return entry.principal
        }
    }

    func insert(_ principal: Principal, forTokenHash hash: String, credentialExpiry: Date?, now: Date = Date()) {
        let seconds = Double(lifetime.components.seconds) + Double(lifetime.components.attoseconds) / 1e18
        var validUntil = now.addingTimeInterval(seconds)
        if let credentialExpiry { validUntil = min(validUntil, credentialExpiry) }
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { now < $0.value.validUntil }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[hash] = Entry(principal: principal, validUntil: validUntil)
        }
    }

    /// Evicts every cached identity minted from API key `id`.
    func evict(apiKey id: APIKeyID) {
        entries.withLock { entries in
            entries = entries.filter { $0.value.principal.credential != .apiKey(id) }
        }
    }
}
